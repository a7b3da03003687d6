"""learning_rate="adagrad": per-coordinate steps with a proximal penalty."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from reference_sgd import reference_linear_models
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split

from sgdclf import SGDLogisticClassifier, _kernel


def sparse_data(n_classes, seed=0):
    """Standardised features with ~70% of the entries zeroed."""
    X, y = make_classification(
        300, 15, n_informative=8, n_classes=n_classes, random_state=seed
    )
    X = (X - X.mean(0)) / X.std(0)
    X[np.random.default_rng(seed).random(X.shape) < 0.7] = 0.0
    return X, y


@pytest.mark.parametrize(
    "n_classes,multi_class", [(2, "ovr"), (3, "ovr"), (3, "multinomial")]
)
@pytest.mark.parametrize("penalty", [None, "l2", "l1", "elasticnet"])
@pytest.mark.parametrize("average", [False, 50])
def test_adagrad_equals_numpy_reference(n_classes, multi_class, penalty, average):
    X, y = sparse_data(n_classes)
    X, y = X[:60], y[:60]
    weight = np.random.default_rng(1).uniform(0.5, 2, size=len(y))
    params = dict(
        penalty=penalty, alpha=0.01, learning_rate="adagrad", eta0=0.3, average=average
    )
    clf = SGDLogisticClassifier(
        multi_class=multi_class, shuffle=False, tol=None, max_iter=2, **params
    ).fit(X, y, sample_weight=weight)
    code = np.searchsorted(clf.classes_, y)
    W, b, avg_W, avg_b, t = reference_linear_models(
        X,
        code,
        n_classes,
        weight,
        epochs=2,
        multinomial=multi_class == "multinomial" and n_classes > 2,
        **params,
    )
    if average:
        W, b = avg_W, avg_b
    if n_classes == 2:
        # A binary model is the one-vs-rest model of the second class.
        W, b = W[1:], b[1:]
    assert_allclose(clf.coef_, W, rtol=1e-10, atol=1e-13)
    assert_allclose(clf.intercept_, b, rtol=1e-10, atol=1e-13)
    assert clf.t_ == t


@pytest.mark.parametrize("multi_class", ["ovr", "multinomial"])
@pytest.mark.parametrize("penalty", [None, "l2", "l1", "elasticnet"])
@pytest.mark.parametrize("average", [False, True, 400])
@pytest.mark.parametrize("alpha", [5e-2, 1e-7])
def test_adagrad_sparse_equals_dense(multi_class, penalty, average, alpha):
    # On sparse rows the weights of absent features get their proximal shrinks
    # (and their share of the average) in closed form when next touched; dense
    # rows apply them one step at a time. The results must agree.
    X, y = sparse_data(3, seed=2)
    params = dict(
        multi_class=multi_class,
        penalty=penalty,
        average=average,
        alpha=alpha,
        learning_rate="adagrad",
        eta0=0.5,
        random_state=0,
        max_iter=4,
        tol=None,
    )
    dense = SGDLogisticClassifier(**params).fit(X, y)
    sparse = SGDLogisticClassifier(**params).fit(sp.csr_matrix(X), y)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9, atol=1e-12)
    assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-9, atol=1e-12)
    assert np.array_equal(sparse.coef_ == 0, dense.coef_ == 0)
    if penalty == "l1" and alpha == 5e-2 and not average:
        assert np.sum(dense.coef_ == 0) >= 3  # measured 4 to 6, by shuffle


@pytest.mark.parametrize(
    "size,a,b,n",
    [
        (1.0, 0.0, 0.1, 7),
        (1.0, 0.05, 0.0, 30),
        (1.0, 0.05, 0.1, 30),
        (2.5, 1e-3, 1e-12, 50),
        (0.3, 1e-9, 1e-9, 1000),
        (1.0, 0.3, 0.2, 3),
        (1e-3, 1.0, 0.5, 4),
        (5.0, 0.0, 1e-15, 100),
        (5.0, 1e-4, 2.0, 60),
        # Extremes: tiny a with a long stretch, subnormal b (overflow / rounding).
        (1.0, 1e-310, 1.0, 2000),
        (1.0, 0.01, 5e-324, 100),
        (3.0, 0.0, 0.5, 5000),
    ],
)
def test_shrink_stretch_equals_step_by_step(size, a, b, n):
    w, total = size, 0.0
    for _ in range(n):
        w = max(w - a, 0.0) / (1.0 + b)
        total += w
    end, closed_total = _kernel.py_shrink_stretch(size, a, b, n)
    assert end == pytest.approx(w, rel=1e-11, abs=1e-15)
    assert closed_total == pytest.approx(total, rel=1e-10, abs=1e-14)


@pytest.mark.parametrize("multi_class", ["ovr", "multinomial"])
def test_adagrad_partial_fit_continues_the_sums(multi_class):
    X, y = sparse_data(3)
    params = dict(
        multi_class=multi_class,
        learning_rate="adagrad",
        eta0=0.5,
        penalty="elasticnet",
        average=True,
        shuffle=False,
    )
    fitted = SGDLogisticClassifier(max_iter=2, tol=None, **params).fit(X, y)
    partial = SGDLogisticClassifier(**params)
    partial.partial_fit(X, y, classes=np.unique(y)).partial_fit(X, y)
    assert_allclose(partial.coef_, fitted.coef_, rtol=1e-12)
    assert_allclose(partial.intercept_, fitted.intercept_, rtol=1e-12)


def test_adagrad_stops_on_tol_float32_and_warm_start_from_sgd():
    X, y = sparse_data(2)
    clf = SGDLogisticClassifier(
        learning_rate="adagrad", eta0=0.5, random_state=0, max_iter=1000
    ).fit(X, y)
    assert clf.n_iter_ < 1000
    f32 = SGDLogisticClassifier(
        learning_rate="adagrad", eta0=0.5, random_state=0, max_iter=5, tol=None
    ).fit(X.astype(np.float32), y)
    f64 = SGDLogisticClassifier(
        learning_rate="adagrad", eta0=0.5, random_state=0, max_iter=5, tol=None
    ).fit(X, y)
    assert f32.coef_.dtype == np.float32
    assert_allclose(f32.coef_, f64.coef_, rtol=1e-3, atol=1e-4)
    # Switching schedule under warm start: AdaGrad's sums start from zero.
    warm = SGDLogisticClassifier(
        warm_start=True, max_iter=3, tol=None, random_state=0
    ).fit(X, y)
    warm.set_params(learning_rate="adagrad", eta0=0.5).fit(X, y)
    assert np.isfinite(warm.coef_).all() and warm._adagrad_g.any()


def test_adagrad_beats_optimal_on_badly_scaled_features():
    X, y = make_classification(3000, 20, n_informative=10, random_state=0)
    X = X * np.logspace(-2, 3, 20)  # feature scales from 0.01 to 1000
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
    losses = {}
    for schedule, eta0 in (("optimal", 0.01), ("adagrad", 0.1)):
        clf = SGDLogisticClassifier(
            learning_rate=schedule, eta0=eta0, max_iter=10, tol=None, random_state=0
        ).fit(X_tr, y_tr)
        losses[schedule] = log_loss(y_te, clf.predict_proba(X_te))
    assert losses["adagrad"] < losses["optimal"]


def test_adagrad_warm_start_keeps_the_sums():
    # A warm fit restarts the schedule's t but keeps AdaGrad's sums: from zero
    # sums, weights of features not yet seen in the epoch would get proximal
    # steps of eta0 / sqrt(1e-8) and be wiped out.
    X, y = sparse_data(3)
    X = sp.csr_matrix(X)
    params = dict(learning_rate="adagrad", eta0=0.3, shuffle=False, tol=None)
    two = SGDLogisticClassifier(max_iter=2, **params).fit(X, y)
    warm = SGDLogisticClassifier(max_iter=1, warm_start=True, **params)
    warm.fit(X, y).fit(X, y)
    assert_allclose(warm.coef_, two.coef_, rtol=1e-12)
    assert_allclose(warm.intercept_, two.intercept_, rtol=1e-12)


@pytest.mark.parametrize("learning_rate", ["adagrad", "constant"])
@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_csr_with_duplicate_entries_equals_summed_matrix(learning_rate, penalty):
    # scipy allows a row to store a column twice (meaning the sum); AdaGrad's
    # squared gradients and the L1 truncation must see the summed entry.
    rng = np.random.default_rng(0)
    n, d = 60, 6
    cols = []
    for _ in range(n):
        pair = rng.choice(d, 2, replace=False)
        cols += [pair[0], pair[1], pair[0], pair[1]]
    values = rng.uniform(0.2, 1.0, size=4 * n)
    duplicated = sp.csr_matrix((values, cols, np.arange(0, 4 * n + 1, 4)), shape=(n, d))
    summed = sp.csr_matrix(duplicated.toarray())
    y = rng.integers(0, 2, n)
    params = dict(
        learning_rate=learning_rate,
        eta0=0.1,
        alpha=1e-3,
        penalty=penalty,
        shuffle=False,
        tol=None,
        max_iter=3,
    )
    a = SGDLogisticClassifier(**params).fit(duplicated, y)
    b = SGDLogisticClassifier(**params).fit(summed, y)
    assert_allclose(a.coef_, b.coef_, rtol=1e-10, atol=1e-14)
    assert not duplicated.has_canonical_format  # the caller's matrix is untouched
