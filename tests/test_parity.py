"""Same model as SGDClassifier(loss="log_loss") without shuffling, and the same
model as a plain NumPy transcription of the algorithm where SGDClassifier is wrong.

At alpha=1e-4 with the "optimal" schedule SGD is chaotic on standardised data
(a 1e-15 change of X moves SGDClassifier's own coef_ by ~30%), so the
comparisons use alpha=1e-3 or the eta0-based schedules.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from reference_sgd import reference_sgd
from sklearn.datasets import make_classification
from sklearn.linear_model import SGDClassifier

from sgdclf import SGDLogisticClassifier


def _data(n_classes, seed=0):
    X, y = make_classification(
        n_samples=600,
        n_features=12,
        n_informative=6,
        n_classes=n_classes,
        random_state=seed,
    )
    return (X - X.mean(0)) / X.std(0), y


SCHEDULES = [
    dict(learning_rate="optimal", alpha=1e-3),
    dict(learning_rate="constant", eta0=0.01),
    dict(learning_rate="invscaling", eta0=0.2, power_t=0.4),
    dict(learning_rate="adaptive", eta0=0.05, tol=1e-2, n_iter_no_change=2),
]
PENALTIES = ["l2", "l1", "elasticnet", None]
AVERAGES = [False, True, 250]


def _fit_both(X, y, **params):
    ours = SGDLogisticClassifier(shuffle=False, max_iter=30, **params)
    theirs = SGDClassifier(loss="log_loss", shuffle=False, max_iter=30, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(X, y)
        theirs.fit(X, y)
    return ours, theirs


def _assert_same(ours, theirs):
    scale = np.abs(theirs.coef_).max()
    assert_allclose(ours.coef_, theirs.coef_, rtol=1e-7, atol=1e-9 * scale)
    assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-7, atol=1e-9)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.t_ == theirs.t_
    assert ours.coef_.shape == theirs.coef_.shape


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: s["learning_rate"])
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("average", AVERAGES)
def test_parity_with_sgdclassifier(n_classes, schedule, penalty, average):
    if average and penalty in ("l1", "elasticnet"):
        pytest.skip(
            "SGDClassifier's average ignores L1 truncation: see the reference test"
        )
    X, y = _data(n_classes)
    params = dict(schedule)
    params.setdefault("alpha", 1e-3)
    ours, theirs = _fit_both(X, y, penalty=penalty, average=average, **params)
    _assert_same(ours, theirs)


@pytest.mark.parametrize("class_weight", [{0: 3.0, 1: 0.5}, "balanced"])
def test_parity_class_weight_binary(class_weight):
    X, y = _data(2)
    y = np.where(np.arange(len(y)) % 4 == 0, 1, y)  # unbalance the classes
    ours, theirs = _fit_both(X, y, alpha=1e-3, class_weight=class_weight)
    _assert_same(ours, theirs)


def test_parity_sample_weight_and_no_intercept():
    X, y = _data(2)
    sw = np.random.default_rng(0).uniform(0.2, 2.0, size=len(y))
    ours = SGDLogisticClassifier(shuffle=False, alpha=1e-3, fit_intercept=False)
    theirs = SGDClassifier(
        loss="log_loss", shuffle=False, alpha=1e-3, fit_intercept=False
    )
    ours.fit(X, y, sample_weight=sw)
    theirs.fit(X, y, sample_weight=sw)
    _assert_same(ours, theirs)
    assert ours.intercept_[0] == 0.0


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet", None])
@pytest.mark.parametrize("average", [False, True, 400])
@pytest.mark.parametrize("learning_rate", ["optimal", "invscaling"])
def test_matches_numpy_reference(penalty, average, learning_rate):
    """Including L1 + averaging, where the average must be of the truncated iterates."""
    X, y = _data(2, seed=3)
    params = dict(alpha=1e-3, penalty=penalty, learning_rate=learning_rate, eta0=0.1)
    ours = SGDLogisticClassifier(
        shuffle=False, tol=None, max_iter=3, average=average, **params
    ).fit(X, y)
    w, b, avg_w, avg_b, t = reference_sgd(X, y, epochs=3, average=average, **params)
    rtol = 1e-9
    if average:
        # The lazy average (A + a v) / b loses a few more digits to rounding.
        w, b, rtol = avg_w, avg_b, 1e-7
    assert_allclose(ours.coef_.ravel(), w, rtol=rtol, atol=1e-12)
    assert_allclose(ours.intercept_[0], b, rtol=rtol, atol=1e-12)
    assert ours.t_ == t


def test_sgdclassifier_l1_average_is_wrong_and_ours_is_not():
    """SGDClassifier's averaged weights ignore the L1 truncation; ours average
    the actual iterates (the reference), and predict much better here."""
    X, y = _data(2, seed=3)
    params = dict(alpha=1e-3, penalty="l1", average=True, learning_rate="optimal")
    ours, theirs = _fit_both(X, y, tol=None, **params)
    _, _, avg_w, _, _ = reference_sgd(X, y, epochs=30, **params)
    assert_allclose(ours.coef_.ravel(), avg_w, rtol=1e-8, atol=1e-10)
    assert not np.allclose(theirs.coef_.ravel(), avg_w, rtol=1e-3)


def test_ovr_models_are_independent_binary_fits():
    """Each one-vs-rest row equals a binary fit of that class against the rest."""
    X, y = _data(3)
    multi = SGDLogisticClassifier(shuffle=False, alpha=1e-3, tol=None, max_iter=5).fit(
        X, y
    )
    for k in range(3):
        binary = SGDLogisticClassifier(shuffle=False, alpha=1e-3, tol=None, max_iter=5)
        binary.fit(X, (y == k).astype(int))
        assert_allclose(multi.coef_[k], binary.coef_[0], rtol=1e-12, atol=1e-14)
        assert_allclose(multi.intercept_[k], binary.intercept_[0], rtol=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_penalty_none_objective_has_no_penalty_term(seed):
    """With penalty=None SGDClassifier's stopping objective is the loss alone;
    ours added alpha/2 |w|^2 and stopped at other epochs (13 vs 17 at
    alpha=0.01 with a constant rate, every seed tried)."""
    X, y = _data(2, seed)
    params = dict(penalty=None, alpha=0.01, learning_rate="constant", eta0=0.01)
    ours = SGDLogisticClassifier(shuffle=False, max_iter=200, **params).fit(X, y)
    theirs = SGDClassifier(loss="log_loss", shuffle=False, max_iter=200, **params)
    theirs.fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_ < 200
    _assert_same(ours, theirs)
