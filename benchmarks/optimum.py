"""Time to the optimum (issue 12): wall time to an objective within 1e-4 of the optimum.

The objective is the one both estimators minimise, on the training data:

    F(w, b) = (1/n) sum_i logloss_i + alpha * 0.5 |w|^2,   alpha = 1e-4,

LogisticRegression's objective with C = 1 / (alpha * n) (divided by C * n);
the log-loss is the binary one for two classes, the multinomial one otherwise
(LogisticRegression's only choice for more classes; ours with
multi_class="multinomial"). F is computed here, in float64, from coef_ and
intercept_ (log1p/logsumexp forms, stable at any margin). The optimum F* is
that of LogisticRegression(lbfgs) run to convergence (tol=1e-12).

Every method is given a ladder of budgets (lbfgs iterations, sag/saga/SGD
epochs), each fit from scratch and timed alone. A round gives every method
still running its next budget, `reps` times, interleaved (a, b, c, a, b, c,
...), and keeps the median time. A method leaves the race when its gap
(F - F*) / |F*| is <= 1e-4 (its time to target is that fit's median time),
when its ladder ends ("not reached"), or when its fit took over 10x the best
time to target so far ("stopped"). A ladder's budgets grow by sqrt(2), so a
time to target overestimates by up to 1.41x the time a finer ladder would find,
the same for all.

`make bench --full` runs 5 repetitions instead of 3, on the same data (the
issue fixes the sizes); `python -m benchmarks --only optimum` runs this alone.

sgdclf's `solver="saga"` is raced when the estimator has a `solver` parameter;
until then its column says "not available".

One thread for BLAS and OpenMP (threadpoolctl) for every method: sag, saga and
ours are single-threaded, and on this machine's two busy cores two BLAS
threads made lbfgs slower, not faster (dense 100k x 100, 16 iterations:
0.85-1.34 s with 2 threads, 0.40-0.57 s with 1).
"""

import time
import warnings

import numpy as np
from scipy.special import logsumexp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from sgdclf import SGDLogisticClassifier

from . import datasets

ALPHA = 1e-4
TOLERANCE = 1e-4  # relative objective gap of the target
GIVE_UP = 10.0  # leave the race past this multiple of the best time to target
TARGETS = {"fastest": 0.33, "saga": 0.25}  # ours / sklearn, issue 12
SEED = 0


def ladder(first, last):
    """Budgets first * sqrt(2)**k, rounded (repeats dropped), up to last:
    1, 2, 3, 4, 6, 8, 11, 16, ... epochs; 4, 6, 8, 11, 16, ... iterations."""
    budgets = [first]
    k = 1
    while budgets[-1] < last:
        budget = min(last, round(first * 2 ** (k / 2)))
        if budget > budgets[-1]:
            budgets.append(budget)
        k += 1
    return tuple(budgets)


def data_sets():
    """(name, load, small): train X, y; small sets get longer ladders."""

    def binary_dense():
        X, _, y, _ = datasets.dense(125_000, 100)
        return X, y

    def binary_csr():
        X, _, y, _ = datasets.sparse(125_000, 20_000, 40)
        return X, y

    def multinomial_dense():
        X, _, y, _ = datasets.dense(125_000, 50, n_classes=10)
        return X, y

    def digits():
        X, y = load_digits(return_X_y=True)
        return StandardScaler().fit_transform(X), y

    yield "dense 100k x 100, binary", binary_dense, False
    yield "CSR 100k x 20k, 40 nnz/row, binary", binary_csr, False
    yield "dense 100k x 50, 10 classes", multinomial_dense, False
    yield "digits 1797 x 64, 10 classes", digits, True


def objective(X, y, coef, intercept, classes):
    """F(w, b) in float64: mean log-loss + ALPHA * 0.5 * |w|^2."""
    coef = np.asarray(coef, dtype=np.float64)
    scores = np.asarray(X @ coef.T, dtype=np.float64) + np.asarray(
        intercept, dtype=np.float64
    )
    if coef.shape[0] == 1:  # binary: log(1 + exp(-s z)), s = +-1
        sign = np.where(y == classes[1], 1.0, -1.0)
        losses = np.logaddexp(0.0, -sign * scores[:, 0])
    else:  # multinomial: logsumexp(z) - z_y
        column = np.searchsorted(classes, y)
        losses = logsumexp(scores, axis=1) - scores[np.arange(len(y)), column]
    return float(np.mean(losses) + ALPHA * 0.5 * np.sum(coef * coef))


def ours_has_saga():
    return "solver" in SGDLogisticClassifier().get_params()


def ours_saga_tol():
    """tol=None (no stopping rule, as for sgd) if saga accepts it, else 0.0."""
    X = np.arange(40.0).reshape(20, 2) % 7
    y = np.arange(20) % 2
    try:
        SGDLogisticClassifier(solver="saga", tol=None, max_iter=1).fit(X, y)
    except Exception:
        return 0.0
    return None


def methods(n_samples, n_classes, small):
    """{name: (make(budget), budgets, unit)}; ours saga only if it exists."""
    C = 1.0 / (ALPHA * n_samples)
    iterations = ladder(4, 1024 if small else 256)
    epochs = ladder(1, 4096 if small else 64)
    # Ours with the multinomial loss on > 2 classes: the same objective.
    ours = dict(alpha=ALPHA, tol=None, random_state=SEED)
    if n_classes > 2:
        ours["multi_class"] = "multinomial"
    found = {
        "LogisticRegression lbfgs": (
            lambda k: LogisticRegression(C=C, solver="lbfgs", tol=0.0, max_iter=k),
            iterations,
            "it",
        ),
        "LogisticRegression saga": (
            lambda k: LogisticRegression(
                C=C, solver="saga", tol=1e-12, max_iter=k, random_state=SEED
            ),
            epochs,
            "ep",
        ),
        "LogisticRegression sag": (
            lambda k: LogisticRegression(
                C=C, solver="sag", tol=1e-12, max_iter=k, random_state=SEED
            ),
            epochs,
            "ep",
        ),
        "sgdclf sgd (default)": (
            lambda k: SGDLogisticClassifier(max_iter=k, **ours),
            epochs,
            "ep",
        ),
    }
    if ours_has_saga():
        saga = dict(ours, tol=ours_saga_tol())
        found["sgdclf saga"] = (
            lambda k: SGDLogisticClassifier(solver="saga", max_iter=k, **saga),
            epochs,
            "ep",
        )
    return found


SKLEARN = (
    "LogisticRegression lbfgs",
    "LogisticRegression saga",
    "LogisticRegression sag",
)
OURS_SAGA = "sgdclf saga"
COLUMNS = {  # method: table header
    "LogisticRegression lbfgs": "sklearn lbfgs",
    "LogisticRegression saga": "sklearn saga",
    "LogisticRegression sag": "sklearn sag",
    "sgdclf sgd (default)": "ours sgd (default schedule)",
    OURS_SAGA: "ours saga",
}


def _timed_fit(make, budget, X, y):
    model = make(budget)
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start, model


def race(X, y, found, reps, f_star):
    """Interleaved rounds of growing budgets; one result per method."""
    results = {
        name: dict(method=name, unit=unit, status="running", points=[])
        for name, (_, _, unit) in found.items()
    }
    best = np.inf
    step = 0
    while True:
        running = [m for m in found if results[m]["status"] == "running"]
        if not running:
            break
        times = {m: [] for m in running}
        models = {}
        for _ in range(reps):
            for m in running:  # interleaved
                if results[m]["status"] != "running":
                    continue  # failed in an earlier repetition
                make, budgets, _ = found[m]
                try:
                    seconds, models[m] = _timed_fit(make, budgets[step], X, y)
                except Exception as exc:  # ours in progress: report, go on
                    results[m]["status"] = "error"
                    results[m]["error"] = f"{type(exc).__name__}: {exc}"
                    continue
                times[m].append(seconds)
        for m in running:
            r = results[m]
            if r["status"] != "running":
                continue
            model = models[m]
            value = objective(X, y, model.coef_, model.intercept_, model.classes_)
            seconds = float(np.median(times[m]))
            r["points"].append(
                dict(
                    budget=int(found[m][1][step]),
                    n_iter=int(np.max(model.n_iter_)),
                    seconds=seconds,
                    times=[float(t) for t in times[m]],
                    objective=value,
                    gap=(value - f_star) / abs(f_star),
                )
            )
            if r["points"][-1]["gap"] <= TOLERANCE:
                r["status"] = "reached"
                best = min(best, seconds)
        for m in running:
            r = results[m]
            if r["status"] != "running":
                continue
            if r["points"][-1]["seconds"] > GIVE_UP * best:
                r["status"] = "stopped"
            elif step + 1 == len(found[m][1]):
                r["status"] = "not reached"
        step += 1
    for r in results.values():
        points = r["points"]
        reached = [p for p in points if p["gap"] <= TOLERANCE]
        r["seconds"] = reached[0]["seconds"] if reached else None
        r["budget"] = reached[0]["budget"] if reached else None
        r["best_gap"] = min(p["gap"] for p in points) if points else None
        r["last_budget"] = points[-1]["budget"] if points else None
        r["last_seconds"] = points[-1]["seconds"] if points else None
    return list(results.values())


def ratios(rows):
    """ours saga / fastest sklearn and / sklearn saga, with the issue's targets."""
    by = {r["method"]: r for r in rows}
    sk = {m: by[m]["seconds"] for m in SKLEARN if by[m]["seconds"] is not None}
    fastest = min(sk, key=sk.get) if sk else None
    ours = by.get(OURS_SAGA)
    out = dict(fastest_sklearn=fastest)
    for key, against in (("fastest", fastest), ("saga", "LogisticRegression saga")):
        theirs = by[against]["seconds"] if against else None
        if ours is None:
            verdict, ratio = "not available", None
        elif ours["status"] == "error":
            verdict, ratio = "error", None
        elif ours["seconds"] is None:
            verdict, ratio = "missed (not reached)", None
        elif theirs is None:  # ours reached, theirs did not: faster than its last
            ratio = None
            last = by[against]["last_seconds"] if against else None
            bound = ours["seconds"] / last if last else None
            verdict = (
                "met (sklearn not reached)"
                if bound is not None and bound <= TARGETS[key]
                else "not comparable (sklearn not reached)"
            )
        else:
            ratio = ours["seconds"] / theirs
            verdict = "met" if ratio <= TARGETS[key] else "missed"
        out[key] = dict(ratio=ratio, target=TARGETS[key], verdict=verdict)
    return out


def measure(progress=print, full=False):
    """Every data set: F*, the race, the ratios (a dict for results.json)."""
    reps = 5 if full else 3
    out = dict(
        alpha=ALPHA,
        tolerance=TOLERANCE,
        give_up=GIVE_UP,
        reps=reps,
        threads=1,
        ours_saga_available=ours_has_saga(),
        data=[],
    )
    with warnings.catch_warnings(), threadpool_limits(1):
        # Budgets, not tolerances, stop the fits.
        warnings.simplefilter("ignore", ConvergenceWarning)
        for name, load, small in data_sets():
            progress(f"optimum: {name}: data, reference ...")
            X, y = load()
            classes = np.unique(y)
            n = X.shape[0]
            start = time.perf_counter()
            reference = LogisticRegression(
                C=1.0 / (ALPHA * n), solver="lbfgs", tol=1e-12, max_iter=10_000
            ).fit(X, y)
            ref_seconds = time.perf_counter() - start
            f_star = objective(
                X, y, reference.coef_, reference.intercept_, reference.classes_
            )
            progress(f"optimum: {name}: race ...")
            rows = race(X, y, methods(n, len(classes), small), reps, f_star)
            lowest = min(p["objective"] for r in rows for p in r["points"])
            below = max(0.0, (f_star - lowest) / abs(f_star))
            if below > 1e-7:
                progress(
                    f"optimum: WARNING {name}: a fit is {below:.1e} below the "
                    "reference optimum"
                )
            out["data"].append(
                dict(
                    data=name,
                    n_samples=int(n),
                    n_features=int(X.shape[1]),
                    n_classes=len(classes),
                    sparse=not isinstance(X, np.ndarray),
                    optimum=f_star,
                    reference_seconds=ref_seconds,
                    reference_n_iter=int(np.max(reference.n_iter_)),
                    best_fit_below_optimum=below,
                    methods=rows,
                    ratios=ratios(rows),
                )
            )
    return out


def _cell(r):
    if r is None:
        return "not available"
    if r["status"] == "error":
        return f"error: {r['error'][:60]}"
    if r["seconds"] is not None:
        return f"{r['seconds']:.3f} s ({r['budget']} {r['unit']})"
    why = "stopped" if r["status"] == "stopped" else "not reached"
    return (
        f"{why}: gap {r['best_gap']:.1e} at {r['last_budget']} {r['unit']}, "
        f"{r['last_seconds']:.2f} s"
    )


def _ratio_cell(v):
    if v["ratio"] is None:
        return f"{v['verdict']} (<= {v['target']})"
    mark = "met" if v["verdict"] == "met" else "**missed**"
    return f"**{v['ratio']:.2f}** (<= {v['target']} {mark})"


def table(result):
    heads = list(COLUMNS.values()) + [
        "ours saga / fastest sklearn",
        "ours saga / sklearn saga",
    ]
    lines = [
        "| data | " + " | ".join(heads) + " |",
        "|---" * (len(heads) + 1) + "|",
    ]
    for d in result["data"]:
        by = {r["method"]: r for r in d["methods"]}
        cells = [_cell(by.get(m)) for m in COLUMNS]
        cells += [_ratio_cell(d["ratios"]["fastest"]), _ratio_cell(d["ratios"]["saga"])]
        lines.append(f"| {d['data']} | " + " | ".join(cells) + " |")
    lines.append("")
    for d in result["data"]:
        fastest = d["ratios"]["fastest_sklearn"] or "none reached"
        lines.append(
            f"- {d['data']}: F* = {d['optimum']:.8f} (reference lbfgs: "
            f"{d['reference_n_iter']} iterations, {d['reference_seconds']:.1f} s); "
            f"fastest sklearn: {fastest}."
        )
    return "\n".join(lines)


METHOD = (
    "Objective F = mean training log-loss + alpha/2 |w|^2 with alpha = 1e-4 "
    "(LogisticRegression with C = 1/(alpha n); multinomial loss for 10 classes, "
    'ours with multi_class="multinomial"), computed in float64 from coef_ and '
    "intercept_; F* from LogisticRegression(lbfgs, tol=1e-12) run to convergence. "
    "Time to target: the median fit time (over {reps} interleaved repetitions) of "
    "the first budget whose gap (F - F*)/|F*| is <= 1e-4. Budgets grow by sqrt(2): "
    "lbfgs 4, 6, 8, 11, 16, ... 256 iterations (digits 1024), epochs 1, 2, 3, 4, "
    "6, 8, 11, 16, ... 64 (digits 4096); "
    "sklearn's tol tiny (lbfgs 0, sag/saga 1e-12), ours tol=None (saga: 0 if it "
    "refuses None), so the budget "
    "stops every fit. A method leaves the race once it reached the target, at the "
    "end of its ladder, or once a fit took over 10x the best time to target "
    '("stopped"); cells give the budget reached, or the best gap. One BLAS/OpenMP '
    "thread for all (threadpoolctl). random_state=0. Dense data standardised; CSR "
    "values standard normal, labels from a sparse true w plus noise. Ratios: ours "
    "saga's time to target over the fastest sklearn solver's and over sklearn "
    "saga's (issue 12 targets: <= 0.33 and <= 0.25). These ladders overstate "
    "every time to target by up to 1.41x."
)


def method_text(result):
    return METHOD.format(reps=result["reps"])


def _whole_decades(ax):
    """Limits on whole decades, decade labels only (minor labels overlap)."""
    from matplotlib.ticker import NullFormatter

    for axis, get, put in (
        (ax.xaxis, ax.get_xlim, ax.set_xlim),
        (ax.yaxis, ax.get_ylim, ax.set_ylim),
    ):
        low, high = get()
        put(10 ** np.floor(np.log10(low)), 10 ** np.ceil(np.log10(high)))
        axis.set_minor_formatter(NullFormatter())


def plot(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = result["data"]
    n_cols = 2
    n_rows = (len(data) + 1) // n_cols
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(11, 4.2 * n_rows + 1.2), squeeze=False
    )
    names = list(COLUMNS)
    colours = dict(zip(names, plt.cm.tab10.colors, strict=False))
    markers = dict(zip(names, "osD^v", strict=True))
    floor = 1e-10  # gaps <= 0 (at the optimum) drawn here
    handles = {}
    for ax, d in zip(axes.flat, data, strict=False):
        for r in d["methods"]:
            if not r["points"]:
                continue
            t = [p["seconds"] for p in r["points"]]
            gap = [max(p["gap"], floor) for p in r["points"]]
            (line,) = ax.plot(
                t,
                gap,
                linestyle="-" if r["method"].startswith("sgdclf") else "--",
                marker=markers[r["method"]],
                markersize=4,
                color=colours[r["method"]],
                label=COLUMNS[r["method"]],
            )
            handles[r["method"]] = line
        target = ax.axhline(
            TOLERANCE, color="black", linestyle="--", linewidth=1, label="target"
        )
        ax.text(
            0.01,
            TOLERANCE,
            " target 1e-4",
            transform=ax.get_yaxis_transform(),
            va="bottom",
            fontsize=8,
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        _whole_decades(ax)
        ax.set_title(d["data"], fontsize=10)
        ax.set_xlabel("fit wall time (s)")
        ax.set_ylabel("objective gap (F - F*) / |F*|")
        ax.grid(True, which="major", alpha=0.3)
    for ax in list(axes.flat)[len(data) :]:
        ax.set_visible(False)
    order = [m for m in names if m in handles]
    labels = [COLUMNS[m] for m in order] + ["target (gap 1e-4)"]
    if not result["ours_saga_available"]:
        labels[-1] += "; ours saga: not available"
    fig.legend(
        [handles[m] for m in order] + [target],
        labels,
        loc="lower center",
        ncol=3,
        fontsize=9,
        frameon=False,
    )
    fig.suptitle(
        f"Objective gap vs fit time, alpha = {result['alpha']:g} "
        f"(median of {result['reps']} fits per point)"
    )
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    tmp.replace(path)
