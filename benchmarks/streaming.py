"""Streaming from a file vs loading it and fitting in memory.

A svmlight file of a few hundred MB (generated once, cached under
benchmarks/results/.cache) is trained on twice, each in a fresh subprocess
that reports its own peak resident memory (ru_maxrss):

- ``sgdclf train FILE`` (scan for classes and n_features, then one pass of
  partial_fit over chunks, with progressive validation);
- ``load_svmlight_file`` + ``SGDLogisticClassifier().fit(max_iter=1)``.

Memory is reported as the peak RSS and what the work added to the RSS the
process had after its imports.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

from . import datasets

CACHE = Path(__file__).parent / "results" / ".cache"

# Both scripts measure memory the same way.
PEAK_RSS = """
import json, resource, sys, time


def rss():
    # VmHWM: peak RSS of this process image (ru_maxrss would include the
    # parent's RSS at fork time)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

STREAM = (
    PEAK_RSS
    + """
from sgdclf._cli import main
imported = rss()
start = time.perf_counter()
code = main(["train", sys.argv[1], "--model", sys.argv[2], "--chunk-rows", "10000",
             "--quiet", *sys.argv[3:]])
seconds = time.perf_counter() - start
print(json.dumps(dict(code=code, seconds=seconds, import_mb=imported, peak_mb=rss())))
"""
)

IN_MEMORY = (
    PEAK_RSS
    + """
from sklearn.datasets import load_svmlight_file
from sgdclf import SGDLogisticClassifier
imported = rss()
start = time.perf_counter()
X, y = load_svmlight_file(sys.argv[1])
loaded = time.perf_counter()
SGDLogisticClassifier(max_iter=1, tol=None).fit(X, y)
done = time.perf_counter()
print(json.dumps(dict(load_seconds=loaded - start, fit_seconds=done - loaded,
                      seconds=done - start, import_mb=imported, peak_mb=rss())))
"""
)


def _file(n_rows):
    from sklearn.datasets import dump_svmlight_file

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"stream_{n_rows}_1based.svm"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with open(tmp, "wb") as f:
            for seed in range(max(n_rows // 50_000, 1)):
                X, _, y, _ = datasets.sparse(62_500, 50_000, 40, seed=seed)
                dump_svmlight_file(X, y, f, zero_based=False)  # libsvm's convention
        tmp.replace(path)
    return path


def _run(script, *args):
    result = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(result.stdout.strip().splitlines()[-1])
    if out.get("code", 0) != 0:
        raise RuntimeError(f"sgdclf train failed: {result.stderr}")
    return out


def measure(full):
    n_rows = 600_000 if full else 300_000
    start = time.perf_counter()
    path = _file(n_rows)
    generated = time.perf_counter() - start
    size_mb = path.stat().st_size / 2**20
    small = _file(n_rows // 3)
    model = CACHE / "stream_model.skops"
    runs = {
        f"sgdclf train, streaming, a file 1/3 the size "
        f"({small.stat().st_size / 2**20:.0f} MB)": _run(STREAM, small, model),
        "sgdclf train, streaming (scan + 1 pass)": _run(STREAM, path, model),
        "sgdclf train, streaming (--classes, --n-features given: 1 pass)": _run(
            STREAM, path, model, "--classes", "0,1", "--n-features", "50000"
        ),
        "load_svmlight_file + fit(max_iter=1), in memory": _run(IN_MEMORY, path),
    }
    model.unlink(missing_ok=True)
    for name, r in runs.items():
        rows, mb = (
            (n_rows // 3, small.stat().st_size / 2**20)
            if "1/3" in name
            else (n_rows, size_mb)
        )
        r["rows_per_s"] = rows / r["seconds"]
        r["mb_per_s"] = mb / r["seconds"]
    return dict(file_mb=size_mb, rows=n_rows, generate_seconds=generated, runs=runs)


def table(r):
    lines = [
        f"File: {r['file_mb']:.0f} MB svmlight, {r['rows']} rows x 50k features, "
        "40 nnz/row; chunks of 10k rows.",
        "",
        "| | wall time | rows/s | MB/s | peak RSS | added by the work |",
        "|---|---|---|---|---|---|",
    ]
    for name, run in r["runs"].items():
        lines.append(
            f"| {name} | {run['seconds']:.1f} s | {run['rows_per_s']:,.0f} "
            f"| {run['mb_per_s']:.0f} | {run['peak_mb']:.0f} MB "
            f"| {run['peak_mb'] - run['import_mb']:.0f} MB |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    result = measure("--full" in sys.argv)
    print(table(result))
