"""Every parameter does what it says."""

import pickle
import warnings

import numpy as np
import pytest
from epoch_spy import spy_epochs
from numpy.testing import assert_allclose, assert_array_equal
from reference_sgd import reference_sgd
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import compute_class_weight

from sgdclf import SGDLogisticClassifier


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(
        800,
        20,
        n_informative=5,
        class_sep=1.5,
        flip_y=0.01,
        n_clusters_per_class=1,
        random_state=1,
    )
    return (X - X.mean(0)) / X.std(0), y


@pytest.fixture(scope="module")
def multi():
    X, y = make_classification(900, 15, n_informative=8, n_classes=4, random_state=2)
    return (X - X.mean(0)) / X.std(0), y


def test_l1_zeroes_coefficients(binary):
    X, y = binary
    l1 = SGDLogisticClassifier(penalty="l1", alpha=3e-3, random_state=0).fit(X, y)
    l2 = SGDLogisticClassifier(penalty="l2", alpha=3e-3, random_state=0).fit(X, y)
    assert np.sum(l1.coef_ == 0) >= 5  # 13 of the 20 features are pure noise
    assert np.sum(l2.coef_ == 0) == 0


def test_larger_alpha_shrinks_weights(binary):
    X, y = binary
    norms = [
        np.linalg.norm(SGDLogisticClassifier(alpha=a, random_state=0).fit(X, y).coef_)
        for a in (1e-4, 1e-2, 1e-1)
    ]
    assert norms[0] > norms[1] > norms[2]


@pytest.mark.parametrize("average", [True, 500])
def test_averaging_equals_naive_reference(binary, average):
    X, y = binary
    # A modest constant step keeps the iteration well conditioned, so the
    # comparison measures the algorithm, not amplified rounding.
    params = dict(alpha=1e-3, learning_rate="constant", eta0=0.02)
    clf = SGDLogisticClassifier(
        average=average, shuffle=False, tol=None, max_iter=2, **params
    ).fit(X, y)
    _, _, avg_w, avg_b, _ = reference_sgd(X, y, epochs=2, average=average, **params)
    assert_allclose(clf.coef_.ravel(), avg_w, rtol=1e-7, atol=1e-12)
    assert_allclose(clf.intercept_[0], avg_b, rtol=1e-7)


def test_average_start_after_training_gives_plain_weights(binary):
    X, y = binary
    late = SGDLogisticClassifier(average=10**6, shuffle=False, tol=None, max_iter=2)
    plain = SGDLogisticClassifier(shuffle=False, tol=None, max_iter=2)
    assert_allclose(late.fit(X, y).coef_, plain.fit(X, y).coef_)


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
@pytest.mark.parametrize("average", [False, True])
def test_partial_fit_twice_equals_fit_two_epochs(multi, penalty, average):
    X, y = multi
    params = dict(shuffle=False, penalty=penalty, average=average, alpha=1e-3)
    a = SGDLogisticClassifier(**params, tol=None, max_iter=2).fit(X, y)
    b = SGDLogisticClassifier(**params)
    b.partial_fit(X, y, classes=np.unique(y)).partial_fit(X, y)
    assert_allclose(a.coef_, b.coef_, rtol=1e-10, atol=1e-13)
    assert_allclose(a.intercept_, b.intercept_, rtol=1e-10, atol=1e-13)
    assert a.t_ == b.t_
    assert b.n_iter_ == 1


@pytest.mark.parametrize("data", ["binary", "multi"])
def test_class_weight_equals_sample_weight(data, request):
    X, y = request.getfixturevalue(data)
    weights = {c: 0.5 + c for c in np.unique(y)}
    a = SGDLogisticClassifier(class_weight=weights, random_state=0).fit(X, y)
    b = SGDLogisticClassifier(random_state=0).fit(
        X, y, sample_weight=np.array([weights[c] for c in y])
    )
    assert_allclose(a.coef_, b.coef_)
    assert_allclose(a.intercept_, b.intercept_)


def test_sample_weight_array_is_not_modified(multi):
    X, y = multi
    sample_weight = np.linspace(0.5, 2.0, len(y))
    before = sample_weight.copy()
    SGDLogisticClassifier(class_weight="balanced", max_iter=2, tol=None).fit(
        X, y, sample_weight=sample_weight
    )
    assert np.array_equal(sample_weight, before)


def test_balanced_class_weight(multi):
    X, y = multi
    keep = (y != 0) | (np.arange(len(y)) % 5 == 0)  # class 0 becomes rare
    X, y = X[keep], y[keep]
    cw = compute_class_weight("balanced", classes=np.unique(y), y=y)
    a = SGDLogisticClassifier(class_weight="balanced", random_state=0).fit(X, y)
    b = SGDLogisticClassifier(random_state=0).fit(X, y, sample_weight=cw[y])
    assert_allclose(a.coef_, b.coef_)
    plain = SGDLogisticClassifier(random_state=0).fit(X, y)
    # Balancing makes the rare class predicted more often.
    assert np.sum(a.predict(X) == 0) > np.sum(plain.predict(X) == 0)


def test_sample_weight_zero_is_like_absent_gradient(binary):
    X, y = binary
    sw = np.ones(len(y))
    sw[::2] = 0.0
    params = dict(alpha=1e-3, learning_rate="constant", eta0=0.02)
    clf = SGDLogisticClassifier(shuffle=False, tol=None, max_iter=1, **params)
    clf.fit(X, y, sample_weight=sw)
    w, b, *_ = reference_sgd(X, y, sw, epochs=1, **params)
    assert_allclose(clf.coef_.ravel(), w, rtol=1e-9)


def test_warm_start_and_coef_init(binary):
    X, y = binary
    params = dict(max_iter=3, tol=None, shuffle=False)
    first = SGDLogisticClassifier(**params).fit(X, y)
    explicit = SGDLogisticClassifier(**params).fit(
        X, y, coef_init=first.coef_, intercept_init=first.intercept_
    )
    # warm_start: the second fit starts where the first ended, like coef_init.
    warm = SGDLogisticClassifier(warm_start=True, **params).fit(X, y)
    assert_allclose(warm.coef_, first.coef_)
    warm.fit(X, y)
    assert_allclose(warm.coef_, explicit.coef_)
    assert_allclose(warm.intercept_, explicit.intercept_)
    assert not np.allclose(warm.coef_, first.coef_)
    # Without warm_start a second fit starts again from zero.
    cold = clone(first).fit(X, y)
    assert_allclose(cold.fit(X, y).coef_, first.coef_)


def test_coef_init_shape_is_checked(multi):
    X, y = multi
    with pytest.raises(ValueError, match="coef_init has shape"):
        SGDLogisticClassifier().fit(X, y, coef_init=np.zeros((2, X.shape[1])))
    with pytest.raises(ValueError, match="intercept_init has shape"):
        SGDLogisticClassifier().fit(X, y, intercept_init=np.zeros(3))


def test_early_stopping_stops_and_uses_the_split(binary):
    X, y = binary
    es = SGDLogisticClassifier(
        early_stopping=True, n_iter_no_change=3, random_state=0, max_iter=1000
    ).fit(X, y)
    assert es.n_iter_ < 100
    # 10% of 800 rows are held out: t_ counts them (as SGDClassifier does),
    # but only the training rows update the model. A different split (another
    # random_state) gives a different model.
    other = clone(es).set_params(random_state=1).fit(X, y)
    assert not np.allclose(es.coef_, other.coef_)
    # Correct validation labels: early stopping keeps a good model.
    assert es.score(X, y) > 0.9


def test_early_stopping_scores_correct_labels(binary):
    """SGDClassifier compares {0,1} labels with {-1,1} predictions; we do not:
    the validation score is the true held-out accuracy. (3 epochs stop nothing
    early: stopping takes n_iter_no_change=5 epochs without improvement.)"""
    from sgdclf import _classifier

    X, y = binary
    seen = []
    original = _classifier._ValidationScore.__call__

    def spy(self, m):
        score = original(self, m)
        seen.append(score)
        return score

    _classifier._ValidationScore.__call__ = spy
    try:
        SGDLogisticClassifier(early_stopping=True, max_iter=3, random_state=0).fit(X, y)
    finally:
        _classifier._ValidationScore.__call__ = original
    assert len(seen) == 3
    assert min(seen) > 0.85


def test_tol_stops_and_none_runs_max_iter(binary):
    X, y = binary
    stopped = SGDLogisticClassifier(tol=1e-3, random_state=0).fit(X, y)
    assert stopped.n_iter_ < 100
    full = SGDLogisticClassifier(tol=None, max_iter=37, random_state=0).fit(X, y)
    assert full.n_iter_ == 37


def test_convergence_warning(binary):
    X, y = binary
    with pytest.warns(ConvergenceWarning):
        SGDLogisticClassifier(max_iter=2, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        SGDLogisticClassifier(max_iter=2, tol=None, random_state=0).fit(X, y)


def test_adaptive_lowers_eta_on_plateau(binary):
    X, y = binary
    ada = SGDLogisticClassifier(
        learning_rate="adaptive",
        eta0=1.0,
        tol=1e-1,
        n_iter_no_change=1,
        shuffle=False,
        max_iter=4,
    ).fit(X, y)
    const = SGDLogisticClassifier(
        learning_rate="constant", eta0=1.0, tol=None, shuffle=False, max_iter=4
    ).fit(X, y)
    assert not np.allclose(ada.coef_, const.coef_)
    first_epoch = SGDLogisticClassifier(
        learning_rate="constant", eta0=1.0, tol=None, shuffle=False, max_iter=1
    ).fit(X, y)
    one = SGDLogisticClassifier(
        learning_rate="adaptive",
        eta0=1.0,
        tol=1e-1,
        n_iter_no_change=1,
        shuffle=False,
        max_iter=1,
    ).fit(X, y)
    assert_allclose(one.coef_, first_epoch.coef_)  # same until the first plateau


def test_shuffle_draws_fresh_permutations_and_is_deterministic(binary):
    X, y = binary
    a = SGDLogisticClassifier(random_state=3, tol=None, max_iter=5).fit(X, y)
    b = SGDLogisticClassifier(random_state=3, tol=None, max_iter=5).fit(X, y)
    c = SGDLogisticClassifier(random_state=4, tol=None, max_iter=5).fit(X, y)
    unshuffled = SGDLogisticClassifier(shuffle=False, tol=None, max_iter=5).fit(X, y)
    assert_array_equal(a.coef_, b.coef_)
    assert not np.allclose(a.coef_, c.coef_)
    assert not np.allclose(a.coef_, unshuffled.coef_)


def test_epoch_orders_differ(monkeypatch, binary):
    """Every epoch gets its own permutation (SGDClassifier replays one swap
    sequence)."""
    X, y = binary
    epochs = spy_epochs(monkeypatch)
    SGDLogisticClassifier(random_state=0, tol=None, max_iter=3).fit(X, y)
    orders = [order for order, _ in epochs]
    assert len(orders) == 3
    for o in orders:
        assert_array_equal(np.sort(o), np.arange(len(y)))
    assert not np.array_equal(orders[0], orders[1])
    assert not np.array_equal(orders[1], orders[2])


@pytest.mark.parametrize("n_jobs", [2, 3, -1])
def test_n_jobs_gives_identical_results(multi, n_jobs):
    X, y = multi
    one = SGDLogisticClassifier(random_state=0, n_jobs=1).fit(X, y)
    many = SGDLogisticClassifier(random_state=0, n_jobs=n_jobs).fit(X, y)
    assert_array_equal(one.coef_, many.coef_)
    assert_array_equal(one.intercept_, many.intercept_)
    assert one.n_iter_ == many.n_iter_


def test_fit_intercept_false(binary):
    X, y = binary
    clf = SGDLogisticClassifier(fit_intercept=False, random_state=0).fit(X, y)
    assert_array_equal(clf.intercept_, [0.0])


def test_verbose_prints_epochs(binary, capsys):
    X, y = binary
    SGDLogisticClassifier(verbose=1, max_iter=2, tol=None, random_state=0).fit(X, y)
    out = capsys.readouterr().out
    assert "-- Epoch 2" in out and "Avg. loss" in out and "Objective: " in out


def test_attributes_and_probabilities(multi):
    X, y = multi
    clf = SGDLogisticClassifier(random_state=0).fit(X, y)
    assert clf.coef_.shape == (4, X.shape[1])
    assert clf.intercept_.shape == (4,)
    assert_array_equal(clf.classes_, [0, 1, 2, 3])
    proba = clf.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1.0)
    assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_probabilities_finite_and_exact_at_extreme_margins(n_classes):
    X = np.array([[1.0], [-1.0]])
    y = np.arange(2) if n_classes == 2 else np.array([0, 1])
    clf = SGDLogisticClassifier(max_iter=1).fit(np.r_[X, X], np.r_[y, y])
    if n_classes == 3:
        clf.classes_ = np.array([0, 1, 2])
        clf.coef_ = np.array([[2000.0], [-2000.0], [0.0]])
        clf.intercept_ = np.zeros(3)
    else:
        clf.coef_ = np.array([[2000.0]])
        clf.intercept_ = np.zeros(1)
    log_proba = clf.predict_log_proba(X)
    proba = clf.predict_proba(X)
    assert np.isfinite(log_proba).all()
    assert np.isfinite(proba).all()
    assert_allclose(proba.sum(axis=1), 1.0)
    # The losing class at margin 2000 has log-probability close to -2000, not -inf.
    # Binary: log sigmoid(-2000) = -2000. Three classes: the log-sigmoids are
    # (0, -2000, log 0.5), normalised by log(1 + 0.5 + e^-2000).
    if n_classes == 2:
        assert log_proba[0, 0] == pytest.approx(-2000.0, rel=1e-12)
    else:
        assert log_proba[0, 1] == pytest.approx(-2000.0 - np.log(1.5), rel=1e-12)


def test_ovr_probabilities_when_every_sigmoid_underflows():
    # Margins of -1000, -1001, -1003 for one row: each sigmoid is 0 in float64,
    # so normalising them would be 0 / 0; the exact answer is a softmax.
    X = np.array([[1.0], [-1.0]])
    clf = SGDLogisticClassifier(max_iter=1).fit(np.r_[X, X, X], [0, 1, 2] * 2)
    clf.coef_ = np.zeros((3, 1))
    clf.intercept_ = np.array([-1000.0, -1001.0, -1003.0])
    proba = clf.predict_proba(X)
    expected = np.exp([0.0, -1.0, -3.0]) / np.exp([0.0, -1.0, -3.0]).sum()
    assert_allclose(proba, [expected, expected], rtol=1e-12)
    assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-12)


@pytest.mark.parametrize(
    "dtype, scale",
    [
        (np.float64, 1e17),
        (np.float64, 1e300),
        (np.float32, 3e7),
        (np.float32, 1e4),
        (np.float32, 1e6),
        (np.float32, 1e2),
    ],
)
def test_ovr_probabilities_sum_to_one_at_any_scale(dtype, scale):
    # Issue 10 item 3: coef [[-1, 0], [-1, 0], [-2, 0]], x = [1e17, 0] gave
    # [[1, 1, 0]]: the log-space normalisation lost its log k term to rounding
    # (float32: already at 3e7; off by 3e-4 at 1e4, 1e-2 at 1e6).
    X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]], dtype=dtype)
    clf = SGDLogisticClassifier(max_iter=1, tol=None).fit(X, [0, 1, 2])
    clf.coef_ = np.array([[-1.0, 0], [-1.0, 0], [-2.0, 0]], dtype=dtype)
    clf.intercept_ = np.zeros(3, dtype=dtype)
    x = np.array([[scale, 0.0]], dtype=dtype)
    proba = clf.predict_proba(x)
    assert proba.dtype == dtype
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6 if dtype == np.float32 else 1e-12)
    assert_allclose(proba[0, :2], [0.5, 0.5], rtol=1e-6)
    assert proba[0, 2] < 1e-30 or dtype == np.float32 and proba[0, 2] < 1e-40 + 1e-30
    log_proba = clf.predict_log_proba(x)
    assert np.isfinite(log_proba).all()
    assert_allclose(log_proba[0, :2], np.log([0.5, 0.5]), rtol=1e-6)


def test_partial_fit_checks_parameters_changed_since_the_first_call(binary):
    # Issue 10 item 13: alpha=0 with a constant rate, a partial_fit, then
    # set_params(learning_rate="optimal") gave ZeroDivisionError.
    X, y = binary
    clf = SGDLogisticClassifier(alpha=0, learning_rate="constant")
    clf.partial_fit(X, y, classes=[0, 1])
    coef = clf.coef_.copy()
    clf.set_params(learning_rate="optimal")
    with pytest.raises(
        ValueError, match="alpha must be > 0 with learning_rate='optimal'"
    ):
        clf.partial_fit(X, y)
    assert_array_equal(clf.coef_, coef)
    clf.set_params(learning_rate="constant", early_stopping=True)
    with pytest.raises(ValueError, match="early_stopping must be False"):
        clf.partial_fit(X, y)


def test_sparsify_densify_and_pickle(multi):
    X, y = multi
    clf = SGDLogisticClassifier(penalty="l1", alpha=1e-2, random_state=0).fit(X, y)
    dense_pred = clf.predict_proba(X)
    clf.sparsify()
    assert_allclose(clf.predict_proba(X), dense_pred)
    clf.partial_fit(X, y)  # continues from the sparsified coefficients
    clf.densify()
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert_array_equal(restored.coef_, clf.coef_)


def test_clone_keeps_parameters():
    clf = SGDLogisticClassifier(alpha=0.3, average=7, class_weight={0: 2})
    cloned = clone(clf)
    assert cloned.get_params() == clf.get_params()
    assert not hasattr(cloned, "coef_")


def test_divergence_raises_and_leaves_model_untouched(binary):
    X, y = binary
    X_big = X * 1e150
    clf = SGDLogisticClassifier(learning_rate="constant", eta0=1e150, penalty=None)
    with pytest.raises(
        ValueError, match=r"diverged at epoch \d+.*Scale the features.*eta0"
    ):
        clf.fit(X_big, y)
    assert not hasattr(clf, "coef_")
    clf.set_params(eta0=0.01).fit(X, y)
    before = clf.coef_.copy()
    clf.set_params(eta0=1e150, learning_rate="constant")
    with pytest.raises(ValueError, match="diverged"):
        clf.partial_fit(X_big, y)
    assert_array_equal(clf.coef_, before)
    assert np.isfinite(clf.coef_).all()


def test_weights_that_overflow_on_an_epochs_last_row_are_divergence():
    # The last row's margin is finite (its weight was 0 until then), its step
    # overflows the weight: the epoch runs through and the kernel's end-of-epoch
    # check (not a non-finite margin) must report it.
    X = np.array([[0.0], [1e300]])
    clf = SGDLogisticClassifier(
        learning_rate="constant", eta0=1e10, penalty=None, shuffle=False, max_iter=1
    )
    with pytest.raises(ValueError, match=r"diverged at epoch 1\b.*Scale the features"):
        clf.fit(X, [0, 1])
    assert not hasattr(clf, "coef_")


def test_float32_ovr_probabilities_when_every_sigmoid_underflows():
    # float32 sigmoids underflow to 0 below about -88: the fallback must see it.
    X = np.array([[1.0], [-1.0]], dtype=np.float32)
    clf = SGDLogisticClassifier(max_iter=1).fit(np.r_[X, X, X], [0, 1, 2] * 2)
    clf.coef_ = np.zeros((3, 1), dtype=np.float32)
    clf.intercept_ = np.array([-100.0, -101.0, -102.0], dtype=np.float32)
    proba = clf.predict_proba(X)
    expected = np.exp([0.0, -1.0, -2.0]) / np.exp([0.0, -1.0, -2.0]).sum()
    assert_allclose(proba, [expected, expected], rtol=1e-5)


def test_probability_dtype_follows_the_model(binary):
    X, y = binary
    clf = SGDLogisticClassifier(max_iter=2, tol=None).fit(X.astype(np.float32), y)
    assert clf.predict_proba(X.astype(np.float32)).dtype == np.float32
    assert clf.predict_log_proba(X.astype(np.float32)).dtype == np.float32


def test_sparsified_model_still_rejects_nan_in_X(binary):
    X, y = binary
    clf = SGDLogisticClassifier(
        penalty="l1", alpha=0.05, max_iter=5, tol=None, random_state=0
    ).fit(X, y)
    zero = np.flatnonzero(clf.coef_[0] == 0)
    assert zero.size  # a column whose weight is 0 ...
    clf.sparsify()
    X_bad = X[:3].copy()
    X_bad[0, zero[0]] = np.nan  # ... multiplies nothing, so only X can tell
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(X_bad)


def test_float32_multinomial_probabilities_at_the_edge_of_its_range():
    # Review of issue 10: softmax in float32 warned of overflow near 3e38.
    X = np.eye(3, dtype=np.float32)
    clf = SGDLogisticClassifier(multi_class="multinomial", max_iter=2, tol=None)
    clf.fit(X, [0, 1, 2])
    clf.coef_ = np.array([[1e38, 0, 0], [-1e38, 0, 0], [0, 0, 0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        proba = clf.predict_proba(np.array([[3.0, 0, 0]], dtype=np.float32))
    assert proba.dtype == np.float32
    assert_array_equal(proba, [[1.0, 0.0, 0.0]])


def test_remembered_valid_parameters_do_not_let_invalid_ones_through(binary):
    """fit remembers parameter sets that passed validation (a grid search
    fits clones of a few sets); a set that differs in one value, or only in
    its type, is validated again."""
    from sklearn.utils._param_validation import InvalidParameterError

    X, y = binary
    SGDLogisticClassifier(alpha=0.1, fit_intercept=True).fit(X, y)
    for bad in (dict(alpha=-0.1), dict(fit_intercept=1), dict(alpha="0.1")):
        clf = SGDLogisticClassifier(**{"alpha": 0.1, "fit_intercept": True, **bad})
        for _ in range(2):
            with pytest.raises(InvalidParameterError):
                clf.fit(X, y)
    clf = SGDLogisticClassifier(alpha=0.1)
    del clf.penalty  # (a subclass or __setstate__ gone wrong)
    with pytest.raises(AttributeError):
        clf.fit(X, y)


def test_loss_log_loss_is_accepted_and_other_losses_point_to_sgdclassifier(binary):
    X, y = binary
    ours = SGDLogisticClassifier(loss="log_loss", random_state=0).fit(X, y)
    default = SGDLogisticClassifier(random_state=0).fit(X, y)
    assert_array_equal(ours.coef_, default.coef_)
    assert ours.get_params()["loss"] == "log_loss"
    for loss in ("hinge", "modified_huber", "log"):
        with pytest.raises(ValueError, match=rf"SGDClassifier\(loss='{loss}'\)"):
            SGDLogisticClassifier(loss=loss).fit(X, y)
    with pytest.raises(ValueError, match="loss='hinge'"):
        SGDLogisticClassifier(loss="hinge").partial_fit(X, y, classes=[0, 1])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(tol=None, max_iter=7),
        dict(shuffle=False),
        dict(learning_rate="adaptive", eta0=0.5, n_iter_no_change=2, tol=1e-1),
        dict(average=True, penalty="elasticnet", learning_rate="adagrad", eta0=0.1),
        dict(multi_class="multinomial", alpha=1e-3),
        dict(class_weight="balanced", n_iter_no_change=2),
    ],
    ids=repr,
)
def test_epochs_in_one_kernel_call_equal_epochs_one_by_one(monkeypatch, params):
    """The kernel runs a fit's epochs and applies the stopping rules without
    coming back to Python (EpochRunner.train); the fit is the one the epoch
    loop gets coming back after every epoch. Three classes, so one-vs-rest
    units stop at different epochs (the adaptive units lower eta at
    different epochs)."""
    X, y = make_classification(
        n_samples=300, n_features=8, n_informative=5, n_classes=3, random_state=1
    )
    batched = SGDLogisticClassifier(random_state=3, **params).fit(X, y)
    epochs = spy_epochs(monkeypatch)
    one_by_one = SGDLogisticClassifier(random_state=3, **params).fit(X, y)
    assert len(epochs) >= one_by_one.n_iter_
    assert_array_equal(batched.coef_, one_by_one.coef_)
    assert_array_equal(batched.intercept_, one_by_one.intercept_)
    assert batched.n_iter_ == one_by_one.n_iter_
    assert batched.t_ == one_by_one.t_
