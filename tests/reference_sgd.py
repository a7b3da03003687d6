"""A plain NumPy transcription of the per-example update, for tests.

No lazy scaling, no lazy averaging: the weights are updated exactly as the
algorithm reads on paper, one example at a time, so the kernel's tricks can be
checked against it.
"""

import numpy as np
from scipy.special import expit

from sgdclf._schedule import optimal_t0


def reference_sgd(
    X,
    y,
    sample_weight=None,
    *,
    alpha=1e-4,
    l1_ratio=0.15,
    penalty="l2",
    learning_rate="optimal",
    eta0=0.01,
    power_t=0.5,
    epochs=1,
    average=0,
    fit_intercept=True,
    order=None,
):
    """Binary logistic SGD; y in {0, 1}. Returns (w, b, avg_w, avg_b, t).

    The binary model is the class-1 model of a one-vs-rest pair.
    """
    W, b, avg_W, avg_b, t = reference_linear_models(
        X,
        np.asarray(y).astype(int),
        2,
        sample_weight,
        multinomial=False,
        alpha=alpha,
        l1_ratio=l1_ratio,
        penalty=penalty,
        learning_rate=learning_rate,
        eta0=eta0,
        power_t=power_t,
        epochs=epochs,
        average=average,
        fit_intercept=fit_intercept,
        order=order,
    )
    return W[1], b[1], avg_W[1], avg_b[1], t


def _softmax(scores):
    e = np.exp(scores - scores.max())
    return e / e.sum()


def reference_linear_models(
    X,
    y_code,
    n_classes,
    sample_weight=None,
    *,
    multinomial,
    alpha=1e-4,
    l1_ratio=0.15,
    penalty="l2",
    learning_rate="constant",
    eta0=0.01,
    power_t=0.5,
    epochs=1,
    average=0,
    fit_intercept=True,
    order=None,
):
    """K linear models trained on the same examples in the same order.

    ``multinomial=False``: K one-vs-rest binary models, g_k = sigmoid(p_k) - y_k.
    ``multinomial=True``: softmax, g = softmax(p) - onehot(y). The step given g
    is the same in both (weight decay, gradient step, L1 truncation, average),
    and AdaGrad (``learning_rate="adagrad"``) updates every coordinate eagerly
    with its own step and a proximal penalty. Returns (W, b, avg_W, avg_b, t).
    """
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    K = n_classes
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    order = np.arange(n) if order is None else order
    l1r = {"l2": 0.0, "l1": 1.0, "elasticnet": l1_ratio, None: 0.0}[penalty]
    l2_strength = alpha * (1 - l1r) if penalty in ("l2", "elasticnet") else 0.0
    l1_strength = alpha * l1r
    W, b = np.zeros((K, d)), np.zeros(K)
    avg_W, avg_b = np.zeros((K, d)), np.zeros(K)
    G, G_b = np.zeros((K, d)), np.zeros(K)
    u, q = 0.0, np.zeros((K, d))
    t = 1.0
    t0 = optimal_t0(alpha) if learning_rate == "optimal" else None
    for _ in range(epochs):
        for i in order:
            x = X[i]
            onehot = (np.arange(K) == y_code[i]).astype(float)
            p = W @ x + b
            g = _softmax(p) - onehot if multinomial else expit(p) - onehot
            if learning_rate == "adagrad":
                grad = g[:, None] * sw[i] * x[None, :]
                G += grad**2
                eta = eta0 / np.sqrt(1e-8 + G)
                z = W - eta * grad
                W = np.sign(z) * np.maximum(np.abs(z) - eta * l1_strength, 0)
                W /= 1 + eta * l2_strength
                if fit_intercept:
                    G_b += (g * sw[i]) ** 2
                    b -= eta0 / np.sqrt(1e-8 + G_b) * g * sw[i]
            else:
                if learning_rate == "optimal":
                    eta = 1.0 / (alpha * (t0 + t - 1))
                elif learning_rate == "invscaling":
                    eta = eta0 / t**power_t
                else:
                    eta = eta0
                update = -eta * g * sw[i]
                if penalty in ("l2", "elasticnet"):
                    W *= max(0.0, 1.0 - (1.0 - l1r) * eta * alpha)
                W += update[:, None] * x[None, :]
                if fit_intercept:
                    b += update
                if penalty in ("l1", "elasticnet"):
                    u += l1r * eta * alpha
                    old = W.copy()
                    pos, neg = W > 0, W < 0
                    W[pos] = np.maximum(0.0, W[pos] - (u + q[pos]))
                    W[neg] = np.minimum(0.0, W[neg] + (u - q[neg]))
                    q += W - old
            if average and t >= average:
                k = t - average + 1
                avg_W += (W - avg_W) / k
                avg_b += (b - avg_b) / k
            t += 1
    return W, b, avg_W, avg_b, t
