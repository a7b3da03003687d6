"""What SGDClassifier cannot do, measured: threads for multiclass, AdaGrad.

- ``thread_scaling``: fit time with n_jobs=1 over n_jobs=2 (same results), for
  one-vs-rest (classes split across threads) and multinomial (each example's
  classes split across a team, used only when an example carries enough work).
- ``adagrad_on_badly_scaled``: held-out log-loss after the same epochs on
  unscaled features, AdaGrad vs the "optimal" schedule (ours and sklearn's).
"""

import time

import numpy as np
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import log_loss
from threadpoolctl import threadpool_limits

from sgdclf import SGDLogisticClassifier

from . import datasets


def _fit_time(make, X, y):
    model = make()
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start, model


def thread_scaling(reps, full):
    scale = 2 if full else 1
    settings = [
        (
            "OvR, 30-class dense 100k x 100, 20 epochs",
            lambda: datasets.dense(125_000 * scale, 100, n_classes=30),
            20,
            {},
        ),
        (
            "multinomial, 10-class dense 100k x 50, 10 epochs (1 thread: below the threshold)",
            lambda: datasets.dense(125_000 * scale, 50, n_classes=10),
            10,
            {"multi_class": "multinomial"},
        ),
        (
            "multinomial, 20-class CSR 40k x 20k, 100 nnz/row, 10 epochs",
            lambda: datasets.sparse_multiclass(50_000 * scale, 20_000, 100, 20),
            10,
            {"multi_class": "multinomial"},
        ),
    ]
    rows = []
    for name, load, epochs, extra in settings:
        X, _, y, _ = load()
        params = dict(max_iter=epochs, tol=None, random_state=0, **extra)
        times = {1: [], 2: []}
        coefs = {}
        # BLAS threads left spinning by the data generation would take the
        # second core from our threads.
        with threadpool_limits(1):
            for _ in range(reps):  # interleaved
                for n_jobs in (1, 2):
                    t, model = _fit_time(
                        lambda j=n_jobs, p=params: SGDLogisticClassifier(n_jobs=j, **p),
                        X,
                        y,
                    )
                    times[n_jobs].append(t)
                    coefs[n_jobs] = model.coef_
        one, two = np.median(times[1]), np.median(times[2])
        rows.append(
            dict(
                experiment="n_jobs=2 speedup",
                setting=name,
                value=f"{one:.3f} s / {two:.3f} s",
                ratio=float(one / two),
                note="identical coef_"
                if np.array_equal(coefs[1], coefs[2])
                else "coef_ DIFFER",
            )
        )
    return rows


def adagrad_on_badly_scaled(full):
    X_tr, X_te, y_tr, y_te = datasets.badly_scaled(25_000 * (2 if full else 1), 50)
    common = dict(max_iter=10, tol=None, random_state=0)
    models = {
        "ours adagrad (eta0=0.01)": SGDLogisticClassifier(
            learning_rate="adagrad", **common
        ),
        "ours optimal": SGDLogisticClassifier(**common),
        "sklearn optimal": SGDClassifier(loss="log_loss", **common),
    }
    losses = {}
    for name, model in models.items():
        model.fit(X_tr, y_tr)
        losses[name] = (
            log_loss(y_te, model.predict_proba(X_te)),
            model.score(X_te, y_te),
        )
    ada = losses["ours adagrad (eta0=0.01)"]
    rows = []
    for name in ("ours optimal", "sklearn optimal"):
        rows.append(
            dict(
                experiment="AdaGrad, unscaled features (scales 0.01..1000)",
                setting=f"{X_tr.shape[0]} x {X_tr.shape[1]}, 10 epochs, vs {name}",
                value=(
                    f"log-loss {ada[0]:.3f} vs {losses[name][0]:.3f}; "
                    f"accuracy {ada[1]:.3f} vs {losses[name][1]:.3f}"
                ),
                ratio=float(ada[0] / losses[name][0]),
                note="ratio = AdaGrad's held-out log-loss / the other's",
            )
        )
    return rows


def table(rows):
    lines = [
        "| experiment | setting | measured | ratio | note |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['experiment']} | {r['setting']} | {r['value']} "
            f"| **{r['ratio']:.2f}** | {r['note']} |"
        )
    return "\n".join(lines)
