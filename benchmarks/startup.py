"""Start-up: the cost of importing sgdclf, and of ``sgdclf --help``.

Each run is a fresh process, the cases interleaved (one run of each per round,
the order rotating), and the medians reported:

- import: the time of the import statement inside the process (the
  interpreter's own start is the same for all and not counted) and the
  process's peak RSS (VmHWM; ru_maxrss where there is no /proc) after it, against
  ``from sklearn.linear_model import SGDClassifier``;
- the command line: the wall time of the whole process, as a user waits for
  ``sgdclf --help``, against ``python -c pass`` (the floor).

An editable install (``make build``) checks whether the kernel needs
rebuilding the first time sgdclf is imported (a ``ninja`` run), and its
loader is imported by every process: numbers from a regular install are lower.
"""

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SKLEARN = "from sklearn.linear_model import SGDClassifier"
IMPORTS = {
    "sklearn": SKLEARN,
    "sgdclf": "import sgdclf",
    "sgdclf estimator": "from sgdclf import SGDLogisticClassifier",
}
TARGET_IMPORT = 1.15  # x the time and the RSS of SKLEARN
TARGET_HELP = 0.3  # seconds

# Runs one statement; prints its seconds and the peak RSS in MB.
_CHILD = """\
import sys, time
start = time.perf_counter()
exec(sys.argv[1])
seconds = time.perf_counter() - start
try:  # VmHWM starts afresh at exec; ru_maxrss keeps the forking parent's peak
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith("VmHWM:"))
    peak_mb = int(line.split()[1]) / 2**10
except OSError:
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / 2**20 if sys.platform == "darwin" else peak / 2**10
print(seconds, peak_mb)
"""


def _command():
    """How to run the console script: the one next to this Python, else -m."""
    found = shutil.which("sgdclf", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "sgdclf"]


def _import_run(statement, cwd):
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, statement],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    seconds, peak_mb = map(float, out.split())
    return seconds, peak_mb


def _wall_run(command, cwd):
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, capture_output=True, check=True)
    return time.perf_counter() - start


def measure(full=False, rounds=None):
    """Medians over ``rounds`` interleaved rounds of fresh processes."""
    rounds = rounds or (15 if full else 9)
    sgdclf = _command()
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "sgdclf --help": [*sgdclf, "--help"],
        "sgdclf train --help": [*sgdclf, "train", "--help"],
    }
    runs = [("import", name) for name in IMPORTS] + [("wall", n) for n in commands]
    times = {name: [] for _, name in runs}
    peaks = {name: [] for name in IMPORTS}
    # Outside the source tree: the installed package is what is measured.
    with tempfile.TemporaryDirectory() as cwd:
        for k in range(rounds):
            for kind, name in runs[k % len(runs) :] + runs[: k % len(runs)]:
                if kind == "import":
                    seconds, peak_mb = _import_run(IMPORTS[name], cwd)
                    peaks[name].append(peak_mb)
                else:
                    seconds = _wall_run(commands[name], cwd)
                times[name].append(seconds)
    median = {name: statistics.median(t) for name, t in times.items()}
    peak = {name: statistics.median(p) for name, p in peaks.items()}
    return dict(
        rounds=rounds,
        command=" ".join(sgdclf),
        imports=[
            dict(
                case=name,
                statement=IMPORTS[name],
                seconds=median[name],
                peak_mb=peak[name],
                time_ratio=median[name] / median["sklearn"],
                rss_ratio=peak[name] / peak["sklearn"],
            )
            for name in IMPORTS
        ],
        commands=[dict(case=name, seconds=median[name]) for name in commands],
    )


def table(r):
    lines = [
        f"Fresh processes, medians of {r['rounds']} interleaved rounds. Import: time of "
        "the statement in the process and the process's peak RSS; ratios against "
        f"`{SKLEARN}` (target <= {TARGET_IMPORT}).",
        "",
        "| import | time | peak RSS | time ratio | RSS ratio |",
        "|---|---|---|---|---|",
    ]
    for row in r["imports"]:
        lines.append(
            f"| `{row['statement']}` | {row['seconds'] * 1e3:.0f} ms "
            f"| {row['peak_mb']:.0f} MB | **{row['time_ratio']:.2f}** "
            f"| **{row['rss_ratio']:.2f}** |"
        )
    lines += [
        "",
        f"Command line (`{r['command']}`): wall time of the process "
        f"(target for `--help`: <= {TARGET_HELP} s).",
        "",
        "| command | wall time |",
        "|---|---|",
    ]
    for row in r["commands"]:
        lines.append(f"| `{row['case']}` | {row['seconds']:.3f} s |")
    return "\n".join(lines)


def section(r):
    """The report's section (appended to report.md)."""
    return "\n".join(["## Start-up", "", table(r), ""])


if __name__ == "__main__":
    result = measure("--full" in sys.argv)
    print(table(result))
