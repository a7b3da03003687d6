"""solver="saga": the exact minimiser of mean weighted log loss + alpha * penalty,
which is LogisticRegression's model with C = 1 / (alpha * n_samples)."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler

from sgdclf import SGDLogisticClassifier, _kernel
from sgdclf._state import penalty_value

SKLEARN_VERSION = tuple(int(v) for v in sklearn.__version__.split(".")[:2])
ALPHA = 1e-3
TIGHT = dict(solver="saga", alpha=ALPHA, tol=1e-10, max_iter=5000, random_state=0)


@pytest.fixture(scope="module")
def multi():
    X, y = make_classification(
        600, 15, n_informative=8, n_classes=4, random_state=0, flip_y=0.05
    )
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def binary(multi):
    X, y = multi
    return X, (y > 1).astype(int)


def lbfgs(X, y, sample_weight=None, **params):
    return LogisticRegression(
        C=1.0 / (ALPHA * X.shape[0]), tol=1e-12, max_iter=10_000, **params
    ).fit(X, y, sample_weight=sample_weight)


def assert_close(ours, theirs, rtol):
    scale = np.abs(theirs.coef_).max()
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=rtol * scale)
    np.testing.assert_allclose(
        ours.intercept_, theirs.intercept_, rtol=0, atol=rtol * max(scale, 1.0)
    )


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_binary_l2_is_logistic_regressions_model(binary, sparse):
    X, y = binary
    data = sp.csr_matrix(X) if sparse else X
    ours = SGDLogisticClassifier(**TIGHT).fit(data, y)
    assert_close(ours, lbfgs(X, y), 1e-5)
    assert ours.n_iter_ < TIGHT["max_iter"]


def test_multinomial_is_logistic_regressions_multinomial_model(multi):
    X, y = multi
    ours = SGDLogisticClassifier(multi_class="multinomial", **TIGHT).fit(X, y)
    assert_close(ours, lbfgs(X, y), 1e-5)


def test_one_vs_rest_is_one_logistic_regression_per_class(multi):
    X, y = multi
    ours = SGDLogisticClassifier(**TIGHT).fit(X, y)
    theirs = OneVsRestClassifier(
        LogisticRegression(C=1.0 / (ALPHA * len(y)), tol=1e-12, max_iter=10_000)
    ).fit(X, y)
    for k, estimator in enumerate(theirs.estimators_):
        np.testing.assert_allclose(
            ours.coef_[k], estimator.coef_[0], atol=1e-5 * np.abs(estimator.coef_).max()
        )
        np.testing.assert_allclose(
            ours.intercept_[k], estimator.intercept_[0], atol=1e-5
        )


def test_float32(binary):
    X, y = binary
    ours = SGDLogisticClassifier(**{**TIGHT, "tol": 1e-6}).fit(X.astype(np.float32), y)
    assert ours.coef_.dtype == np.float32
    assert_close(ours, lbfgs(X, y), 1e-4)


def test_sample_and_class_weights(binary):
    X, y = binary
    weight = np.random.default_rng(0).uniform(0.1, 3.0, len(y))
    ours = SGDLogisticClassifier(**TIGHT).fit(X, y, sample_weight=weight)
    assert_close(ours, lbfgs(X, y, sample_weight=weight), 1e-5)
    ours = SGDLogisticClassifier(class_weight={0: 1.0, 1: 3.0}, **TIGHT).fit(X, y)
    assert_close(ours, lbfgs(X, y, class_weight={0: 1.0, 1: 3.0}), 1e-5)
    # A large weight does not make the step too long (it enters the step size).
    ours = SGDLogisticClassifier(**TIGHT).fit(X, y, sample_weight=100 * weight)
    assert_close(ours, lbfgs(X, y, sample_weight=100 * weight), 1e-5)


@pytest.mark.parametrize("penalty, l1_ratio", [("l1", 1.0), ("elasticnet", 0.5)])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_l1_and_elasticnet_are_saga_logistic_regressions_model(
    binary, penalty, l1_ratio, sparse
):
    X, y = binary
    alpha = 2e-2  # strong enough to zero some weights
    # (scikit-learn 1.8 deprecated penalty: l1_ratio alone says it.)
    mix = (
        dict(l1_ratio=l1_ratio)
        if SKLEARN_VERSION >= (1, 8)
        else dict(penalty="elasticnet", l1_ratio=l1_ratio)
    )
    theirs = LogisticRegression(
        **mix,
        solver="saga",
        C=1.0 / (alpha * len(y)),
        tol=1e-12,
        max_iter=100_000,
    ).fit(X, y)
    ours = SGDLogisticClassifier(
        **{**TIGHT, "alpha": alpha, "tol": 1e-12, "max_iter": 20_000},
        penalty=penalty,
        l1_ratio=l1_ratio,
    ).fit(sp.csr_matrix(X) if sparse else X, y)
    zeros = theirs.coef_ == 0
    assert 0 < zeros.sum() < zeros.size
    np.testing.assert_array_equal(ours.coef_ == 0, zeros)
    assert_close(ours, theirs, 1e-6)


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet", None])
@pytest.mark.parametrize(
    "alpha, epochs, zeros",
    [(1e-2, 20, 0.5), (1e-2, 1, 0.5), (3e-2, 1, 0.9), (1e-1, 3, 0.5)],
)
def test_dense_and_csr_give_the_same_model(multi, penalty, alpha, epochs, zeros):
    # Dense rows step every coordinate at every example; CSR rows only their
    # own, the others caught up in closed form. One epoch from zero checks
    # the catch-up while the memory fills (the average over the examples seen
    # so far: a pull that shrinks step by step); a strong L1 makes weights
    # reach zero, leave it and come back within one lag.
    X, y = multi
    params = dict(
        solver="saga", penalty=penalty, alpha=alpha, max_iter=epochs, tol=None
    )
    # Sparse rows (half or 90% of the values zero): the lagged steps have work.
    Xs = np.where(np.random.default_rng(1).random(X.shape) < zeros, 0.0, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense = SGDLogisticClassifier(random_state=0, **params).fit(Xs, y)
        csr = SGDLogisticClassifier(random_state=0, **params).fit(sp.csr_matrix(Xs), y)
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(csr.intercept_, dense.intercept_, rtol=1e-9)


def test_n_jobs_does_not_change_the_model(multi):
    X, y = multi
    params = dict(solver="saga", max_iter=10, tol=None, random_state=0)
    one = SGDLogisticClassifier(n_jobs=1, **params).fit(X, y)
    two = SGDLogisticClassifier(n_jobs=2, **params).fit(X, y)
    np.testing.assert_array_equal(one.coef_, two.coef_)
    np.testing.assert_array_equal(one.intercept_, two.intercept_)


def objective(model, X, y):
    """Mean log loss + ALPHA / 2 |w|^2 of any fitted linear model."""
    scores = model.decision_function(X)
    loss = np.mean(np.logaddexp(0.0, scores) - y * scores)
    return loss + penalty_value(model.coef_, penalty="l2", alpha=ALPHA, l1_ratio=0)


@pytest.mark.parametrize("scale", [1.0, 1e3])
def test_the_objective_approaches_the_optimum_without_diverging(binary, scale):
    X, y = binary
    X = X * scale
    optimum = objective(lbfgs(X, y), X, y)
    gaps = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for epochs in (1, 2, 4, 8, 16, 32):
            model = SGDLogisticClassifier(
                **{**TIGHT, "max_iter": epochs, "tol": None}
            ).fit(X, y)
            gaps.append(objective(model, X, y) - optimum)
    assert all(np.isfinite(gaps)) and min(gaps) >= -1e-9
    assert all(b <= a * 1.01 for a, b in zip(gaps, gaps[1:], strict=False))
    assert gaps[-1] < gaps[0] / 10


def test_warm_start_and_coef_init(binary):
    X, y = binary
    theirs = lbfgs(X, y)
    ours = SGDLogisticClassifier(**TIGHT).fit(
        X, y, coef_init=theirs.coef_, intercept_init=theirs.intercept_
    )
    # Started at the optimum (its memory filled there), it stays: a few
    # epochs to meet tol, against a cold start's dozens.
    cold = SGDLogisticClassifier(**TIGHT).fit(X, y)
    assert ours.n_iter_ * 3 < cold.n_iter_
    assert_close(ours, theirs, 1e-6)
    warm = SGDLogisticClassifier(
        warm_start=True, **{**TIGHT, "max_iter": 5, "tol": None}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm.fit(X, y)
    warm.set_params(max_iter=5000, tol=1e-10).fit(X, y)
    assert_close(warm, theirs, 1e-5)


def test_no_fit_intercept(binary):
    X, y = binary
    ours = SGDLogisticClassifier(fit_intercept=False, **TIGHT).fit(X, y)
    assert_close(ours, lbfgs(X, y, fit_intercept=False), 1e-5)
    assert ours.intercept_ == 0


def test_stops_by_the_largest_relative_weight_change(binary, capsys):
    X, y = binary
    loose = SGDLogisticClassifier(solver="saga", tol=1e-2, random_state=0).fit(X, y)
    tight = SGDLogisticClassifier(solver="saga", tol=1e-8, random_state=0).fit(X, y)
    assert 1 < loose.n_iter_ < tight.n_iter_ < 1000
    with pytest.warns(ConvergenceWarning):
        SGDLogisticClassifier(solver="saga", tol=1e-12, max_iter=2).fit(X, y)
    SGDLogisticClassifier(solver="saga", verbose=1, max_iter=2, tol=None).fit(X, y)
    assert "largest change" in capsys.readouterr().out


@pytest.mark.parametrize(
    "params, named",
    [
        (dict(learning_rate="constant"), "learning_rate='constant'"),
        (dict(eta0=0.1), "eta0=0.1"),
        (dict(power_t=0.3), "power_t=0.3"),
        (dict(average=True), "average=True"),
        (dict(early_stopping=True), "early_stopping=True"),
    ],
)
def test_parameters_saga_does_not_use_are_refused(binary, params, named):
    X, y = binary
    with pytest.raises(ValueError, match=f"solver='saga' does not use {named}"):
        SGDLogisticClassifier(solver="saga", **params).fit(X, y)


def test_partial_fit_is_refused(binary):
    X, y = binary
    clf = SGDLogisticClassifier(solver="saga")
    # Not there at all, so scikit-learn's tools do not offer it.
    assert not hasattr(clf, "partial_fit")
    with pytest.raises(AttributeError, match="cannot partial_fit.*solver='sgd'"):
        clf.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(clf, "coef_")
    assert hasattr(clf.set_params(solver="sgd"), "partial_fit")


def test_non_finite_input_is_named(binary):
    X, y = binary
    X = X.copy()
    X[7, 3] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinity \(row 7\)"):
        SGDLogisticClassifier(solver="saga").fit(X, y)


def test_pickle_and_old_models_without_solver(binary):
    X, y = binary
    model = SGDLogisticClassifier(solver="saga", random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    assert restored.solver == "saga"
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    state = model.__getstate__()
    del state["solver"]  # as saved before the parameter existed
    old = SGDLogisticClassifier.__new__(SGDLogisticClassifier)
    old.__setstate__(state)
    assert old.solver == "sgd"


def _one_model_epoch(y, n_features):
    """saga_epoch's arguments but the rows: one binary model from zero."""
    n = len(y)
    return dict(
        y_code=y.astype(np.int32),
        sample_weight=np.ones(1),
        coef=np.zeros((1, n_features)),
        intercept=np.zeros(1),
        memory=np.zeros((n, 1)),
        grad_sum=np.zeros((1, n_features)),
        intercept_grad_sum=np.zeros(1),
        model_class=np.array([1], dtype=np.int32),
        models=np.array([0]),
        order=np.arange(n),
        decay_pow=np.ones(n + 1),
        decay_sum=np.arange(n + 1.0),
        step=0.01,
        l2=0.0,
        l1=0.0,
        fit_intercept=True,
        multinomial=False,
    )


def test_kernel_checks_its_arrays(binary):
    X, y = binary
    n, d = X.shape
    arrays = _one_model_epoch(y, d)
    assert _kernel.saga_epoch(X=X, **arrays) == -1
    for name, bad in [
        ("memory", np.zeros((n - 1, 1))),
        ("memory", np.zeros((1, n))),
        ("grad_sum", np.zeros((1, d + 1))),
        ("models", np.array([1])),
        ("order", np.array([n])),
        ("decay_pow", np.ones(3)),
        ("y_code", np.zeros(n - 1, dtype=np.int32)),
        ("seen", n + 1),
        ("seen", -1),
    ]:
        with pytest.raises(ValueError):
            _kernel.saga_epoch(X=X, **{**arrays, name: bad})
    csr = sp.csr_matrix(X)
    indices = csr.indices.copy()
    indices[5] = d  # a column beyond the width: the epoch stops at its row
    row = np.searchsorted(csr.indptr, 5, side="right") - 1
    got = _kernel.saga_epoch(
        data=csr.data, indices=indices, indptr=csr.indptr, **arrays
    )
    assert got == row


def test_kernel_reports_weights_left_not_finite(binary):
    # A column no row stores is only caught up at the end of the epoch: an
    # infinite weight there leaves every margin finite, and the epoch must
    # still say its weights are not (WEIGHTS_NOT_FINITE, -2), not -1.
    X, y = binary
    n, d = X.shape
    csr = sp.csr_matrix(np.c_[X, np.zeros(n)])
    rows = dict(data=csr.data, indices=csr.indices, indptr=csr.indptr)
    arrays = _one_model_epoch(y, d + 1)
    assert _kernel.saga_epoch(**rows, **arrays) == -1
    arrays = _one_model_epoch(y, d + 1)
    arrays["coef"][0, d] = np.inf
    assert _kernel.saga_epoch(**rows, **arrays) == -2
