"""A plain NumPy transcription of the per-example update, for tests.

No lazy scaling, no lazy averaging: the weights are updated exactly as the
algorithm reads on paper, one example at a time, so the kernel's tricks can be
checked against it.
"""

import numpy as np
from scipy.special import expit

from sgdclf._schedule import optimal_t0


def reference_sgd(
    X, y, sample_weight=None, *, alpha=1e-4, l1_ratio=0.15, penalty="l2",
    learning_rate="optimal", eta0=0.01, power_t=0.5, epochs=1, average=0,
    fit_intercept=True, order=None,
):
    """Binary logistic SGD; y in {0, 1}. Returns (w, b, avg_w, avg_b, t)."""
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    order = np.arange(n) if order is None else order
    l1r = {"l2": 0.0, "l1": 1.0, "elasticnet": l1_ratio, None: 0.0}[penalty]
    w, b = np.zeros(d), 0.0
    avg_w, avg_b = np.zeros(d), 0.0
    u, q = 0.0, np.zeros(d)
    t = 1.0
    t0 = optimal_t0(alpha) if learning_rate == "optimal" else None
    for _ in range(epochs):
        for i in order:
            x = X[i]
            p = w @ x + b
            if learning_rate == "optimal":
                eta = 1.0 / (alpha * (t0 + t - 1))
            elif learning_rate == "invscaling":
                eta = eta0 / t**power_t
            else:
                eta = eta0
            update = -eta * (expit(p) - y[i]) * sw[i]
            if penalty in ("l2", "elasticnet"):
                w *= max(0.0, 1.0 - (1.0 - l1r) * eta * alpha)
            w += update * x
            if fit_intercept:
                b += update
            if penalty in ("l1", "elasticnet"):
                u += l1r * eta * alpha
                old = w.copy()
                pos, neg = w > 0, w < 0
                w[pos] = np.maximum(0.0, w[pos] - (u + q[pos]))
                w[neg] = np.minimum(0.0, w[neg] + (u - q[neg]))
                q += w - old
            if average and t >= average:
                k = t - average + 1
                avg_w += (w - avg_w) / k
                avg_b += (b - avg_b) / k
            t += 1
    return w, b, avg_w, avg_b, t
