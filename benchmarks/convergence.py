"""Time to target: how long each solver takes to reach a held-out log-loss
within 1% of the optimum of the same regularised objective.

The optimum comes from LogisticRegression (lbfgs) run to convergence with
C = 1 / (alpha * n_samples), which is SGD's objective mean loss + alpha/2 |w|^2
scaled by n. Every method is fitted with a growing budget (epochs or solver
iterations), each fit timed from scratch, giving a curve of held-out log-loss
against wall time; the time to target is the first fit on the curve within 1%.
"""

import time
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import log_loss

from sgdclf import SGDLogisticClassifier

from . import datasets

ALPHA = 1e-4
TOLERANCE = 0.01  # within 1% of the optimum
SGD_EPOCHS = (1, 2, 3, 5, 8, 12, 20)
LBFGS_ITERATIONS = (2, 4, 8, 16, 32, 64, 128)
SAGA_EPOCHS = (1, 2, 4, 8, 16)


def methods(n_samples):
    sgd = dict(alpha=ALPHA, tol=None, random_state=0)
    C = 1.0 / (ALPHA * n_samples)
    return {
        "sgdclf (default)": (
            lambda k: SGDLogisticClassifier(max_iter=k, **sgd),
            SGD_EPOCHS,
        ),
        "sgdclf averaged": (
            lambda k: SGDLogisticClassifier(max_iter=k, average=True, **sgd),
            SGD_EPOCHS,
        ),
        "sgdclf adagrad": (
            lambda k: SGDLogisticClassifier(
                max_iter=k, learning_rate="adagrad", eta0=0.1, **sgd
            ),
            SGD_EPOCHS,
        ),
        "SGDClassifier (default)": (
            lambda k: SGDClassifier(loss="log_loss", max_iter=k, **sgd),
            SGD_EPOCHS,
        ),
        "SGDClassifier averaged": (
            lambda k: SGDClassifier(loss="log_loss", max_iter=k, average=True, **sgd),
            SGD_EPOCHS,
        ),
        "LogisticRegression lbfgs": (
            lambda k: LogisticRegression(C=C, solver="lbfgs", max_iter=k, tol=1e-12),
            LBFGS_ITERATIONS,
        ),
        "LogisticRegression saga": (
            lambda k: LogisticRegression(
                C=C, solver="saga", max_iter=k, tol=1e-12, random_state=0
            ),
            SAGA_EPOCHS,
        ),
    }


def time_to_target(full):
    X_tr, X_te, y_tr, y_te = datasets.dense(125_000 * (2 if full else 1), 100)
    n = X_tr.shape[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reference = LogisticRegression(
            C=1.0 / (ALPHA * n), tol=1e-10, max_iter=5000
        ).fit(X_tr, y_tr)
        optimum = log_loss(y_te, reference.predict_proba(X_te))
        target = optimum * (1 + TOLERANCE)
        curves, rows = {}, []
        for name, (make, budgets) in methods(n).items():
            points = []
            for budget in budgets:
                model = make(budget)
                start = time.perf_counter()
                model.fit(X_tr, y_tr)
                elapsed = time.perf_counter() - start
                loss = log_loss(y_te, model.predict_proba(X_te))
                points.append((elapsed, loss, budget))
                if loss <= target:
                    break
            curves[name] = points
            reached = [p for p in points if p[1] <= target]
            rows.append(
                dict(
                    method=name,
                    seconds=float(reached[0][0]) if reached else None,
                    budget=int(reached[0][2]) if reached else None,
                    best_logloss=float(min(p[1] for p in points)),
                    tried=[int(b) for b in budgets[: len(points)]],
                )
            )
    return dict(
        data=f"dense f64 {n // 1000}k x 100",
        n_train=n,
        alpha=ALPHA,
        optimum=float(optimum),
        target=float(target),
        rows=rows,
        curves={
            k: [[float(t), float(loss), int(b)] for t, loss, b in v]
            for k, v in curves.items()
        },
    )


def table(result):
    lines = [
        f"Data: {result['data']}, alpha={result['alpha']}; optimum held-out log-loss "
        f"{result['optimum']:.5f} (LogisticRegression lbfgs to convergence), "
        f"target {result['target']:.5f} (+{TOLERANCE:.0%}).",
        "",
        "| method | time to target | budget (epochs / iterations) | best held-out log-loss |",
        "|---|---|---|---|",
    ]
    for r in result["rows"]:
        reached = (
            f"{r['seconds']:.3f} s"
            if r["seconds"] is not None
            else f"not reached (tried {r['tried'][-1]})"
        )
        budget = r["budget"] if r["budget"] is not None else "-"
        lines.append(
            f"| {r['method']} | {reached} | {budget} | {r['best_logloss']:.5f} |"
        )
    return "\n".join(lines)


def plot(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator

    fig, ax = plt.subplots(figsize=(9, 6))
    values = []
    for name, points in result["curves"].items():
        t = [p[0] for p in points]
        loss = [p[1] for p in points]
        values += loss
        ours = name.startswith("sgdclf")
        ax.plot(
            t,
            loss,
            "-" if ours else "--",
            marker="o" if ours else "s",
            markersize=4,
            label=name,
        )
    ax.axhline(
        result["target"],
        color="black",
        linewidth=1,
        linestyle=":",
        label="target (optimum + 1%)",
    )
    # Every point on the plot: from the optimum to the worst value seen.
    low = min(min(values), result["optimum"])
    high = max(values)
    pad = 0.05 * (high - low)
    ax.set_ylim(low - pad, high + pad)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set_xlabel("fit wall time (s, log scale)")
    ax.set_ylabel("held-out log-loss")
    ax.set_title(
        f"Held-out log-loss vs time, {result['data']}\n"
        "solid, circles: sgdclf; dashed, squares: scikit-learn"
    )
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=100)
    tmp.replace(path)
    return fig
