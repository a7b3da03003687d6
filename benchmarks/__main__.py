"""`make bench`: sgdclf vs SGDClassifier(loss="log_loss"), side by side.

For each case both estimators are fitted with the same epochs (tol=None),
interleaved (ours, theirs, ours, theirs, ...), and the median fit time per
epoch, its ratio, and the held-out log-loss and accuracy of both are reported.
Writes benchmarks/results/report.md, results.json and ratio.png.
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import sklearn
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss

import sgdclf
from sgdclf import SGDLogisticClassifier

from . import beyond, datasets

RESULTS = Path(__file__).parent / "results"


def cases(full):
    """(name, load, parameters of both, parameters of ours only)."""
    scale = 2 if full else 1
    multinomial = {"multi_class": "multinomial"}
    yield ("dense f64 200k x 100, shuffle",
           lambda: datasets.dense(250_000 * scale, 100), {}, {})
    yield ("dense f32 200k x 100, shuffle",
           lambda: datasets.dense(250_000 * scale, 100, dtype=np.float32), {}, {})
    yield ("dense f64 200k x 100, no shuffle",
           lambda: datasets.dense(250_000 * scale, 100), {"shuffle": False}, {})
    yield ("CSR 200k x 50k, 40 nnz/row, shuffle",
           lambda: datasets.sparse(250_000 * scale, 50_000, 40), {}, {})
    yield ("10-class dense 100k x 50 (OvR)",
           lambda: datasets.dense(125_000 * scale, 50, n_classes=10), {}, {})
    yield ("10-class dense 100k x 50, ours multinomial (sklearn OvR)",
           lambda: datasets.dense(125_000 * scale, 50, n_classes=10), {}, multinomial)
    yield "digits (10 classes)", lambda: datasets.bundled("digits"), {}, {}
    yield ("digits, averaged, ours multinomial (sklearn OvR)",
           lambda: datasets.bundled("digits"), {"average": True}, multinomial)
    yield "breast cancer", lambda: datasets.bundled("breast_cancer"), {}, {}


def time_fit(make, X, y, reps):
    times, model = [], None
    for _ in range(reps):
        model = make()
        start = time.perf_counter()
        model.fit(X, y)
        times.append(time.perf_counter() - start)
    return times, model


def quality(model, X, y):
    proba = model.predict_proba(X)
    return log_loss(y, proba, labels=model.classes_), accuracy_score(y, model.predict(X))


def run_case(name, load, extra, ours_extra, epochs, reps, seeds):
    X_tr, X_te, y_tr, y_te = load()
    small = X_tr.shape[0] < 10_000
    n_epochs = 50 if small else epochs
    n_reps = reps * 3 if small else reps
    ours_t, theirs_t, q_ours, q_theirs = [], [], [], []
    for seed in seeds:
        params = dict(max_iter=n_epochs, tol=None, random_state=seed, **extra)
        for _ in range(n_reps):  # interleaved
            t, m_ours = time_fit(
                lambda: SGDLogisticClassifier(**params, **ours_extra), X_tr, y_tr, 1
            )
            ours_t += t
            t, m_theirs = time_fit(
                lambda: SGDClassifier(loss="log_loss", **params), X_tr, y_tr, 1
            )
            theirs_t += t
        q_ours.append(quality(m_ours, X_te, y_te))
        q_theirs.append(quality(m_theirs, X_te, y_te))
    ours_e = np.median(ours_t) / n_epochs
    theirs_e = np.median(theirs_t) / n_epochs
    return dict(
        case=name,
        n_train=int(X_tr.shape[0]),
        n_features=int(X_tr.shape[1]),
        epochs=n_epochs,
        ours_s_per_epoch=float(ours_e),
        sklearn_s_per_epoch=float(theirs_e),
        ratio=float(ours_e / theirs_e),
        ours_logloss=float(np.median([q[0] for q in q_ours])),
        sklearn_logloss=float(np.median([q[0] for q in q_theirs])),
        ours_accuracy=float(np.median([q[1] for q in q_ours])),
        sklearn_accuracy=float(np.median([q[1] for q in q_theirs])),
    )


def machine():
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return dict(
        cpu=cpu,
        cores=os.cpu_count(),
        python=sys.version.split()[0],
        numpy=np.__version__,
        sklearn=sklearn.__version__,
        sgdclf=sgdclf.__version__,
        date=datetime.datetime.now().isoformat(timespec="seconds"),
    )


def table(rows):
    head = ("| case | n_train x d | epochs | ours s/epoch | sklearn s/epoch | ratio "
            "| log-loss ours / sklearn | accuracy ours / sklearn |")
    lines = [head, "|" + "---|" * 8]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['n_train']} x {r['n_features']} | {r['epochs']} "
            f"| {r['ours_s_per_epoch']:.4f} | {r['sklearn_s_per_epoch']:.4f} "
            f"| **{r['ratio']:.2f}** | {r['ours_logloss']:.4f} / {r['sklearn_logloss']:.4f} "
            f"| {r['ours_accuracy']:.4f} / {r['sklearn_accuracy']:.4f} |"
        )
    return "\n".join(lines)


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.5 * len(rows) + 1.5))
    names = [r["case"] for r in rows]
    ratios = [r["ratio"] for r in rows]
    ax.barh(names, ratios, color="tab:blue")
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xlabel("fit time per epoch, sgdclf / SGDClassifier (lower is faster)")
    ax.invert_yaxis()
    for i, r in enumerate(ratios):
        ax.text(r, i, f" {r:.2f}", va="center")
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    os.replace(tmp, path)


def write_atomic(path, text):
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="larger data sets")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--reps", type=int, default=3, help="repetitions per seed")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--only", default=None,
                        help="run cases whose name contains this (prints, writes no report)")
    args = parser.parse_args(argv)

    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = []
    start = time.perf_counter()
    for name, load, extra, ours_extra in cases(args.full):
        if args.only and args.only not in name:
            continue
        print(f"[{time.perf_counter() - start:6.1f}s] {name} ...", flush=True)
        row = run_case(name, load, extra, ours_extra, args.epochs, args.reps,
                       range(args.seeds))
        rows.append(row)
        print(f"          ratio {row['ratio']:.2f} (ours {row['ours_s_per_epoch']:.4f} "
              f"s/epoch, sklearn {row['sklearn_s_per_epoch']:.4f} s/epoch)", flush=True)
    extra_rows = []
    if not args.only:
        print(f"[{time.perf_counter() - start:6.1f}s] threads and AdaGrad ...", flush=True)
        extra_rows = (beyond.thread_scaling(args.reps, args.full)
                      + beyond.adagrad_on_badly_scaled(args.full))
    info = machine()
    md = "\n".join([
        "# sgdclf vs SGDClassifier(loss=\"log_loss\")",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores. Python {info['python']}, "
        f"numpy {info['numpy']}, scikit-learn {info['sklearn']}, sgdclf {info['sgdclf']}. "
        f"Date: {info['date']}.",
        "",
        "Same epochs for both (tol=None), runs interleaved; times are medians over "
        f"{args.seeds} seeds x {args.reps} repetitions (small data sets: 3x the "
        "repetitions and 50 epochs). Ratio = ours / sklearn (below 1 is faster). "
        "Log-loss and accuracy are on a held-out 20%, median over seeds.",
        "",
        table(rows),
        "",
        "![ratio](ratio.png)",
        "",
        "## Beyond SGDClassifier",
        "",
        "n_jobs: median fit time with n_jobs=1 / n_jobs=2 over "
        f"{args.reps + 2} interleaved repetitions (ratio above 1: threads help). "
        "AdaGrad: same epochs, held-out 20%.",
        "",
        beyond.table(extra_rows),
        "",
    ])
    print()
    print(table(rows))
    print()
    print(beyond.table(extra_rows))
    if args.only:
        # A partial run must not replace the full report.
        print(f"\n--only: no report written (total {time.perf_counter() - start:.0f}s)")
        return
    write_atomic(RESULTS / "report.md", md)
    write_atomic(RESULTS / "results.json",
                 json.dumps(dict(machine=info, cases=rows, beyond=extra_rows), indent=2))
    plot(rows, RESULTS / "ratio.png")
    print(f"\nWrote {RESULTS / 'report.md'} (total {time.perf_counter() - start:.0f}s)")


if __name__ == "__main__":
    main()
