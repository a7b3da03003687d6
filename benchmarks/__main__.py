"""`make bench`: sgdclf vs SGDClassifier(loss="log_loss"), side by side.

Sections of the report (benchmarks/results/report.md, raw numbers in
results.json, plots ratio.png and loss_vs_time.png):

1. Fit time: both estimators with the same epochs (tol=None), interleaved
   (ours, theirs, ours, ...), median fit time, its ratio, and the training
   and held-out log-loss and accuracy (medians over seeds).
2. Time to target (convergence.py): wall time to a held-out log-loss within
   1% of the optimum, for ours, SGDClassifier and LogisticRegression.
3. Memory and prediction (footprint.py): peak extra memory of fit, and
   predict_proba time.
4. Beyond SGDClassifier (beyond.py): n_jobs speedups, AdaGrad on unscaled data.
5. Streaming (streaming.py): `sgdclf train` on a file of a few hundred MB vs
   loading it and fitting in memory: throughput and peak memory.
6. Dask (distributed_bench.py): DaskSGDLogisticClassifier with 1 vs 2 worker
   processes, and held-out log-loss per round against the in-memory fit.
7. Start-up (startup.py): `import sgdclf` against importing SGDClassifier
   (time, peak RSS) and `sgdclf --help`, in fresh processes.
8. Small data, many fits (small.py): per-epoch fit time on bundled data sets,
   GridSearchCV, the fixed costs of a fit, one-row and 1,000-row predictions.
9. Time to the optimum (optimum.py, plot optimum.png): wall time to the
   regularised objective within 1e-4 of its optimum, sgdclf (sgd, and saga
   once it exists) against LogisticRegression's lbfgs, saga and sag.
"""

import argparse
import datetime
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss

import sgdclf
from sgdclf import SGDLogisticClassifier

from . import (
    beyond,
    convergence,
    datasets,
    distributed_bench,
    footprint,
    optimum,
    small,
    startup,
    streaming,
)

RESULTS = Path(__file__).parent / "results"


def cases(full):
    """(name, load, parameters of both, parameters of ours only, target ratio)."""
    scale = 2 if full else 1
    multinomial = {"multi_class": "multinomial"}
    yield (
        "dense f64 200k x 100, shuffle",
        lambda: datasets.dense(250_000 * scale, 100),
        {},
        {},
        0.33,
    )
    yield (
        "dense f32 200k x 100, shuffle",
        lambda: datasets.dense(250_000 * scale, 100, dtype=np.float32),
        {},
        {},
        0.25,
    )
    yield (
        "dense f64 200k x 100, no shuffle",
        lambda: datasets.dense(250_000 * scale, 100),
        {"shuffle": False},
        {},
        0.2,
    )
    # tol set (the default): both also evaluate the loss of every example; with
    # n_iter_no_change=5 neither can stop within 5 epochs.
    yield (
        "dense f64 200k x 100, shuffle, tol=1e-3",
        lambda: datasets.dense(250_000 * scale, 100),
        {"tol": 1e-3},
        {},
        None,
    )
    yield (
        "CSR 200k x 50k, 40 nnz/row, shuffle",
        lambda: datasets.sparse(250_000 * scale, 50_000, 40),
        {},
        {},
        0.5,
    )
    yield (
        "10-class dense 100k x 50 (OvR)",
        lambda: datasets.dense(125_000 * scale, 50, n_classes=10),
        {},
        {},
        0.2,
    )
    yield (
        "10-class dense 100k x 50, ours multinomial (sklearn OvR)",
        lambda: datasets.dense(125_000 * scale, 50, n_classes=10),
        {},
        multinomial,
        0.2,
    )
    yield "digits (10 classes)", lambda: datasets.bundled("digits"), {}, {}, None
    yield (
        "digits, averaged, ours multinomial (sklearn OvR)",
        lambda: datasets.bundled("digits"),
        {"average": True},
        multinomial,
        None,
    )
    yield "breast cancer", lambda: datasets.bundled("breast_cancer"), {}, {}, None


def time_fit(make, X, y):
    model = make()
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start, model


def quality(model, X, y):
    proba = model.predict_proba(X)
    return log_loss(y, proba, labels=model.classes_), accuracy_score(
        y, model.predict(X)
    )


def run_case(name, load, extra, ours_extra, target, epochs, reps, seeds):
    X_tr, X_te, y_tr, y_te = load()
    small = X_tr.shape[0] < 10_000
    n_epochs = 50 if small else epochs
    n_reps = reps * 3 if small else reps
    times = {"ours": [], "sklearn": []}
    scores = {"ours": [], "sklearn": []}
    for seed in seeds:
        params = dict(max_iter=n_epochs, tol=None, random_state=seed)
        params.update(extra)
        makers = {
            "ours": lambda p=params: SGDLogisticClassifier(**p, **ours_extra),
            "sklearn": lambda p=params: SGDClassifier(loss="log_loss", **p),
        }
        for _ in range(n_reps):  # interleaved
            models = {}
            for who, make in makers.items():
                t, models[who] = time_fit(make, X_tr, y_tr)
                times[who].append(t)
        for who, model in models.items():
            scores[who].append(quality(model, X_tr, y_tr) + quality(model, X_te, y_te))
    ours_e = np.median(times["ours"]) / n_epochs
    theirs_e = np.median(times["sklearn"]) / n_epochs

    def median(who, k):
        return float(np.median([s[k] for s in scores[who]]))

    return dict(
        case=name,
        n_train=int(X_tr.shape[0]),
        n_features=int(X_tr.shape[1]),
        epochs=n_epochs,
        ours_s_per_epoch=float(ours_e),
        sklearn_s_per_epoch=float(theirs_e),
        ratio=float(ours_e / theirs_e),
        target=target,
        ours_train_logloss=median("ours", 0),
        sklearn_train_logloss=median("sklearn", 0),
        ours_logloss=median("ours", 2),
        sklearn_logloss=median("sklearn", 2),
        ours_accuracy=median("ours", 3),
        sklearn_accuracy=median("sklearn", 3),
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


def seconds(t):
    """A duration in readable units: 1.23 s, 45.6 ms, 789 us."""
    if t >= 1.0:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.3g} ms"
    return f"{t * 1e6:.3g} us"


def table(rows):
    head = (
        "| case | n_train x d | epochs | ours per epoch | sklearn per epoch | ratio "
        "| target | train log-loss ours / sklearn | held-out log-loss ours / sklearn "
        "| accuracy ours / sklearn |"
    )
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        target = (
            ""
            if r["target"] is None
            else (
                f"<= {r['target']} "
                + ("met" if r["ratio"] <= r["target"] else "**missed**")
            )
        )
        lines.append(
            f"| {r['case']} | {r['n_train']} x {r['n_features']} | {r['epochs']} "
            f"| {seconds(r['ours_s_per_epoch'])} | {seconds(r['sklearn_s_per_epoch'])} "
            f"| **{r['ratio']:.2f}** | {target} "
            f"| {r['ours_train_logloss']:.4f} / {r['sklearn_train_logloss']:.4f} "
            f"| {r['ours_logloss']:.4f} / {r['sklearn_logloss']:.4f} "
            f"| {r['ours_accuracy']:.4f} / {r['sklearn_accuracy']:.4f} |"
        )
    return "\n".join(lines)


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig, ax = plt.subplots(figsize=(10, 0.55 * len(rows) + 2.2))
    names = [r["case"] for r in rows]
    ratios = [r["ratio"] for r in rows]
    ax.barh(names, ratios, color="tab:blue")
    ax.axvline(1.0, color="black", linewidth=1)
    right = max([*ratios, *(r["target"] or 0 for r in rows), 1.0])
    for i, r in enumerate(rows):
        if r["target"] is not None:
            ax.plot([r["target"]] * 2, [i - 0.4, i + 0.4], color="tab:red", lw=2)
        # The value and the absolute times, right of the bar and of its target.
        x = max(r["ratio"], r["target"] or 0.0) + 0.02 * right
        ax.text(
            x,
            i,
            f"{r['ratio']:.2f}  ({seconds(r['ours_s_per_epoch'])} vs "
            f"{seconds(r['sklearn_s_per_epoch'])} per epoch)",
            va="center",
            fontsize=8,
        )
    ax.set_xlim(0, right * 1.9)
    ax.set_xlabel("fit time per epoch, sgdclf / SGDClassifier(loss='log_loss')")
    ax.set_title("Fit time ratio (lower is faster; same epochs, tol=None)")
    ax.invert_yaxis()
    ax.legend(
        handles=[
            Patch(color="tab:blue", label="ours / sklearn"),
            Line2D([], [], color="black", lw=1, label="1 = same speed"),
            Line2D([], [], color="tab:red", lw=2, label="target ratio"),
        ],
        loc="lower right",
        fontsize=8,
    )
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    os.replace(tmp, path)
    return fig


def write_atomic(path, text):
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def report(
    info, args, rows, ttt, foot, extra_rows, stream, dask_result, small_rows, opt
):
    return "\n".join(
        [
            '# sgdclf vs SGDClassifier(loss="log_loss")',
            "",
            f"Machine: {info['cpu']}, {info['cores']} cores. Python {info['python']}, "
            f"numpy {info['numpy']}, scikit-learn {info['sklearn']}, sgdclf {info['sgdclf']}. "
            f"Date: {info['date']}.",
            "",
            "## Fit time",
            "",
            "Same epochs for both (tol=None), runs interleaved; times are medians over "
            f"{args.seeds} seeds x {args.reps} repetitions (small data sets: 3x the "
            "repetitions and 50 epochs). Ratio = ours / sklearn fit time (below 1 is "
            "faster); red ticks in the plot are the targets. Log-losses and accuracy "
            "are medians over seeds; held-out = 20% of the data.",
            "",
            table(rows),
            "",
            "![ratio](ratio.png)",
            "",
            "## Time to target",
            "",
            convergence.table(ttt),
            "",
            "![held-out log-loss vs time](loss_vs_time.png)",
            "",
            "## Memory and prediction",
            "",
            "Peak memory allocated during fit beyond what existed before (tracemalloc; "
            "X itself not counted), 3 epochs; predict_proba on the held-out rows, "
            "median of 7 interleaved runs.",
            "",
            footprint.table(foot),
            "",
            "## Beyond SGDClassifier",
            "",
            "n_jobs: median fit time with n_jobs=1 / n_jobs=2 over "
            f"{args.reps + 1} interleaved repetitions (ratio above 1: threads help). "
            "AdaGrad: same epochs, held-out 20%.",
            "",
            beyond.table(extra_rows),
            "",
            "## Streaming from a file",
            "",
            "Each run in a fresh process; memory as the peak RSS (VmHWM) and what the "
            "work added to the RSS after the imports.",
            "",
            streaming.table(stream),
            "",
            "## Dask: data-parallel training",
            "",
            distributed_bench.table(dask_result),
            "",
            "## Small data, many fits",
            "",
            small.METHOD,
            "",
            small.table(small_rows),
            "",
            "## Time to the optimum",
            "",
            optimum.method_text(opt),
            "",
            optimum.table(opt),
            "",
            "![objective gap vs time](optimum.png)",
            "",
        ]
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="larger data sets")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--reps", type=int, default=2, help="repetitions per seed")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--only",
        default=None,
        help="run fit-time cases whose name contains this, or 'small' for the "
        "small-data section (prints, writes no report), or 'optimum' for the "
        "time-to-optimum section (prints, writes optimum.png and only the "
        "'optimum' entry of results.json)",
    )
    args = parser.parse_args(argv)

    RESULTS.mkdir(parents=True, exist_ok=True)
    # tol=None with max_iter epochs is the point of the timings, not a problem.
    warnings.simplefilter("ignore", ConvergenceWarning)
    start = time.perf_counter()

    def progress(what):
        print(f"[{time.perf_counter() - start:6.1f}s] {what}", flush=True)

    if args.only == "small":
        print("\n" + small.table(small.measure(progress)))
        return
    if args.only == "optimum":
        opt = optimum.measure(progress, args.full)
        opt["machine"] = machine()
        print("\n" + optimum.table(opt))
        optimum.plot(opt, RESULTS / "optimum.png")
        # The other sections' numbers stay: only this entry is replaced.
        path = RESULTS / "results.json"
        saved = json.loads(path.read_text()) if path.exists() else {}
        saved["optimum"] = opt
        write_atomic(path, json.dumps(saved, indent=2))
        print(
            f"\nWrote {RESULTS / 'optimum.png'} and results.json['optimum'] "
            f"(total {time.perf_counter() - start:.0f}s)"
        )
        return
    rows = []
    for name, load, extra, ours_extra, target in cases(args.full):
        if args.only and args.only not in name:
            continue
        progress(f"{name} ...")
        row = run_case(
            name,
            load,
            extra,
            ours_extra,
            target,
            args.epochs,
            args.reps,
            range(args.seeds),
        )
        rows.append(row)
        print(
            f"          ratio {row['ratio']:.2f} (ours {seconds(row['ours_s_per_epoch'])}"
            f" per epoch, sklearn {seconds(row['sklearn_s_per_epoch'])} per epoch)",
            flush=True,
        )
    print()
    print(table(rows))
    if args.only:
        # A partial run must not replace the full report.
        print(f"\n--only: no report written (total {time.perf_counter() - start:.0f}s)")
        return
    progress("time to target ...")
    ttt = convergence.time_to_target(args.full)
    progress("memory and prediction ...")
    foot = footprint.measure(args.full)
    progress("threads and AdaGrad ...")
    extra_rows = beyond.thread_scaling(
        args.reps + 1, args.full
    ) + beyond.adagrad_on_badly_scaled(args.full)
    progress("streaming from a file ...")
    stream = streaming.measure(args.full)
    progress("dask, 1 and 2 workers ...")
    dask_result = distributed_bench.measure(args.full)
    progress("start-up ...")
    start_up = startup.measure(args.full)
    progress("small data, many fits ...")
    small_rows = small.measure(progress)
    progress("time to the optimum ...")
    opt = optimum.measure(progress, args.full)
    info = machine()
    print()
    print(convergence.table(ttt))
    print()
    print(footprint.table(foot))
    print()
    print(beyond.table(extra_rows))
    print()
    print(streaming.table(stream))
    print()
    print(distributed_bench.table(dask_result))
    print()
    print(startup.table(start_up))
    print()
    print(small.table(small_rows))
    print()
    print(optimum.table(opt))
    write_atomic(
        RESULTS / "report.md",
        report(
            info,
            args,
            rows,
            ttt,
            foot,
            extra_rows,
            stream,
            dask_result,
            small_rows,
            opt,
        )
        + startup.section(start_up),
    )
    write_atomic(
        RESULTS / "results.json",
        json.dumps(
            dict(
                machine=info,
                cases=rows,
                time_to_target=ttt,
                footprint=foot,
                beyond=extra_rows,
                streaming=stream,
                dask=dask_result,
                startup=start_up,
                small=small_rows,
                optimum=opt,
            ),
            indent=2,
        ),
    )
    plot(rows, RESULTS / "ratio.png")
    convergence.plot(ttt, RESULTS / "loss_vs_time.png")
    optimum.plot(opt, RESULTS / "optimum.png")
    print(f"\nWrote {RESULTS / 'report.md'} (total {time.perf_counter() - start:.0f}s)")


if __name__ == "__main__":
    main()
