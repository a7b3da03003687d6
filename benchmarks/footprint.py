"""Memory and prediction: peak extra memory of fit, and predict_proba time.

Peak memory is what tracemalloc sees allocated during fit beyond what was
allocated before (numpy and scipy report their buffers to it; X itself is
allocated before and not counted). The kernel's own scratch space (a few
numbers per class, from malloc) is not traced; it is O(classes), or
O(classes x features) for AdaGrad on sparse input.
"""

import time
import tracemalloc

import numpy as np
from sklearn.linear_model import SGDClassifier

from sgdclf import SGDLogisticClassifier

from . import datasets


def _peak_fit_bytes(model, X, y):
    tracemalloc.start()
    tracemalloc.reset_peak()
    base, _ = tracemalloc.get_traced_memory()
    model.fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - base


def _nbytes(X):
    if hasattr(X, "indptr"):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


def _predict_seconds(model, X, reps):
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        model.predict_proba(X)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def measure(full, reps=7):
    scale = 2 if full else 1
    cases = [
        ("dense f64 200k x 100", lambda: datasets.dense(250_000 * scale, 100)),
        (
            "CSR 200k x 50k, 40 nnz/row",
            lambda: datasets.sparse(250_000 * scale, 50_000, 40),
        ),
        (
            "10-class dense 100k x 50",
            lambda: datasets.dense(125_000 * scale, 50, n_classes=10),
        ),
    ]
    rows = []
    for name, load in cases:
        X_tr, X_te, y_tr, y_te = load()
        params = dict(max_iter=3, tol=None, random_state=0)
        ours = SGDLogisticClassifier(**params)
        theirs = SGDClassifier(loss="log_loss", **params)
        ours_peak = _peak_fit_bytes(ours, X_tr, y_tr)
        theirs_peak = _peak_fit_bytes(theirs, X_tr, y_tr)
        ours_predict, theirs_predict = [], []
        for _ in range(reps):  # interleaved
            ours_predict.append(_predict_seconds(ours, X_te, 1))
            theirs_predict.append(_predict_seconds(theirs, X_te, 1))
        x_bytes = _nbytes(X_tr)
        rows.append(
            dict(
                case=name,
                x_mb=x_bytes / 2**20,
                ours_peak_mb=ours_peak / 2**20,
                sklearn_peak_mb=theirs_peak / 2**20,
                ours_peak_share=ours_peak / x_bytes,
                sklearn_peak_share=theirs_peak / x_bytes,
                n_predict=int(X_te.shape[0]),
                ours_predict_s=float(np.median(ours_predict)),
                sklearn_predict_s=float(np.median(theirs_predict)),
                predict_ratio=float(
                    np.median(ours_predict) / np.median(theirs_predict)
                ),
            )
        )
    return rows


def table(rows):
    lines = [
        "| case | X (MB) | peak extra memory in fit, ours / sklearn (MB) | as % of X "
        "| predict_proba ours / sklearn (ms) | ratio |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['case']} | {r['x_mb']:.0f} | {r['ours_peak_mb']:.1f} / "
            f"{r['sklearn_peak_mb']:.1f} | {100 * r['ours_peak_share']:.1f}% / "
            f"{100 * r['sklearn_peak_share']:.1f}% | {1000 * r['ours_predict_s']:.1f} / "
            f"{1000 * r['sklearn_predict_s']:.1f} (n={r['n_predict']}) "
            f"| **{r['predict_ratio']:.2f}** |"
        )
    return "\n".join(lines)
