"""Multinomial (softmax) SGD and one-pass one-vs-rest."""

import numpy as np
import pytest
import scipy.sparse as sp
from epoch_spy import spy_epochs
from numpy.testing import assert_allclose, assert_array_equal
from reference_sgd import reference_linear_models
from scipy.special import softmax
from sklearn.datasets import load_digits, make_classification
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedShuffleSplit, train_test_split
from sklearn.preprocessing import StandardScaler

from sgdclf import SGDLogisticClassifier, _kernel


@pytest.fixture(scope="module")
def multi():
    X, y = make_classification(600, 12, n_informative=8, n_classes=4, random_state=3)
    return (X - X.mean(0)) / X.std(0), y


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te


# ---------------------------------------------------------------- softmax pieces


@pytest.mark.parametrize("seed", range(5))
def test_softmax_gradient_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    scores = rng.normal(scale=3, size=5)
    y = int(rng.integers(5))
    grad = _kernel.py_softmax_gradient(scores, y)
    h = 1e-6
    numeric = np.empty(5)
    for k in range(5):
        up, down = scores.copy(), scores.copy()
        up[k] += h
        down[k] -= h
        numeric[k] = (
            _kernel.py_softmax_loss(up, y) - _kernel.py_softmax_loss(down, y)
        ) / (2 * h)
    assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)
    assert abs(grad.sum()) < 1e-12


@pytest.mark.parametrize("scale", [1e3, 1e6, 1e300])
def test_softmax_pieces_finite_at_extreme_scores(scale):
    scores = np.array([scale, -scale, 0.0, scale / 2])
    for y in range(4):
        loss = _kernel.py_softmax_loss(scores, y)
        grad = _kernel.py_softmax_gradient(scores, y)
        assert np.isfinite(loss) and np.isfinite(grad).all()
    assert _kernel.py_softmax_loss(scores, 0) == 0.0
    assert _kernel.py_softmax_loss(scores, 3) == pytest.approx(scale / 2)


# ---------------------------------------------------------------- the update


@pytest.mark.parametrize("penalty", [None, "l2", "l1", "elasticnet"])
@pytest.mark.parametrize("average", [False, 7])
@pytest.mark.parametrize("sparse", [False, True])
def test_multinomial_equals_numpy_reference(multi, penalty, average, sparse):
    X, y = multi
    X, y = X[:40], y[:40]  # a few examples, every step checked by the end result
    if sparse and penalty in ("l1", "elasticnet"):
        pytest.skip("sparse L1 truncates stored coordinates only: see test_inputs")
    weight = np.random.default_rng(0).uniform(0.5, 2, size=len(y))
    params = dict(
        penalty=penalty,
        alpha=1e-3,
        learning_rate="constant",
        eta0=0.05,
        average=average,
    )
    clf = SGDLogisticClassifier(
        multi_class="multinomial", shuffle=False, tol=None, max_iter=2, **params
    )
    clf.fit(sp.csr_matrix(X) if sparse else X, y, sample_weight=weight)
    W, b, avg_W, avg_b, t = reference_linear_models(
        X,
        np.searchsorted(clf.classes_, y),
        4,
        weight,
        multinomial=True,
        epochs=2,
        **params,
    )
    if average:
        W, b = avg_W, avg_b
    assert_allclose(clf.coef_, W, rtol=1e-10, atol=1e-13)
    assert_allclose(clf.intercept_, b, rtol=1e-10, atol=1e-13)
    assert clf.t_ == t


@pytest.mark.parametrize("learning_rate", ["optimal", "invscaling"])
def test_multinomial_schedules_equal_reference(multi, learning_rate):
    X, y = multi
    params = dict(alpha=1e-2, learning_rate=learning_rate, eta0=0.1)
    clf = SGDLogisticClassifier(
        multi_class="multinomial", shuffle=False, tol=None, max_iter=1, **params
    ).fit(X, y)
    W, b, *_ = reference_linear_models(X, y, 4, multinomial=True, **params)
    assert_allclose(clf.coef_, W, rtol=1e-9, atol=1e-12)
    assert_allclose(clf.intercept_, b, rtol=1e-9, atol=1e-12)


def test_two_classes_multinomial_is_binary_logistic_regression(multi):
    X, y = multi
    y = y % 2
    params = dict(random_state=0, max_iter=5, tol=None)
    mn = SGDLogisticClassifier(multi_class="multinomial", **params).fit(X, y)
    ovr = SGDLogisticClassifier(multi_class="ovr", **params).fit(X, y)
    assert mn.coef_.shape == (1, X.shape[1])
    assert_array_equal(mn.coef_, ovr.coef_)
    assert_array_equal(mn.predict_proba(X), ovr.predict_proba(X))


def test_probabilities_are_the_softmax(multi):
    X, y = multi
    clf = SGDLogisticClassifier(multi_class="multinomial", random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert_allclose(proba, softmax(clf.decision_function(X), axis=1), rtol=1e-12)
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-12)
    assert_array_equal(clf.classes_[proba.argmax(1)], clf.predict(X))


def test_extreme_scores_give_finite_log_proba(multi):
    X, y = multi
    clf = SGDLogisticClassifier(multi_class="multinomial", random_state=0).fit(X, y)
    clf.coef_ = clf.coef_ * 1e200
    log_proba = clf.predict_log_proba(X)
    assert np.isfinite(log_proba).all()
    assert_allclose(np.exp(log_proba).sum(axis=1), 1.0)


def test_digits_multinomial_beats_ovr(digits):
    X_tr, X_te, y_tr, y_te = digits
    scores = {}
    for multi_class in ("ovr", "multinomial"):
        clf = SGDLogisticClassifier(
            multi_class=multi_class, average=True, random_state=0
        ).fit(X_tr, y_tr)
        scores[multi_class] = (
            log_loss(y_te, clf.predict_proba(X_te)),
            clf.score(X_te, y_te),
        )
    # Measured: multinomial log-loss ~0.6 vs ovr ~1.2, accuracy ~0.96.
    assert scores["multinomial"][0] <= scores["ovr"][0]
    assert scores["multinomial"][1] >= 0.94


# ---------------------------------------------------------------- every option


@pytest.mark.parametrize("penalty", ["l2", "l1", "elasticnet"])
@pytest.mark.parametrize("average", [False, True])
def test_multinomial_partial_fit_twice_equals_fit_two_epochs(multi, penalty, average):
    X, y = multi
    params = dict(
        multi_class="multinomial",
        penalty=penalty,
        average=average,
        shuffle=False,
        alpha=1e-3,
    )
    fitted = SGDLogisticClassifier(max_iter=2, tol=None, **params).fit(X, y)
    partial = SGDLogisticClassifier(**params)
    partial.partial_fit(X, y, classes=np.unique(y)).partial_fit(X, y)
    assert_allclose(partial.coef_, fitted.coef_, rtol=1e-12)
    assert_allclose(partial.intercept_, fitted.intercept_, rtol=1e-12)


def test_multinomial_warm_start_and_coef_init(multi):
    X, y = multi
    params = dict(multi_class="multinomial", max_iter=3, tol=None, shuffle=False)
    first = SGDLogisticClassifier(**params).fit(X, y)
    warm = SGDLogisticClassifier(warm_start=True, **params).fit(X, y).fit(X, y)
    init = SGDLogisticClassifier(**params).fit(
        X, y, coef_init=first.coef_, intercept_init=first.intercept_
    )
    # A warm second fit is a fit that starts from the first fit's weights.
    assert_allclose(warm.coef_, init.coef_, rtol=1e-12)
    assert_allclose(warm.intercept_, init.intercept_, rtol=1e-12)
    assert not np.allclose(init.coef_, first.coef_)


def test_multinomial_class_weight_equals_sample_weight(multi):
    X, y = multi
    class_weight = {0: 2.0, 1: 0.5, 2: 1.0, 3: 3.0}
    params = dict(multi_class="multinomial", random_state=0, max_iter=3, tol=None)
    a = SGDLogisticClassifier(class_weight=class_weight, **params).fit(X, y)
    b = SGDLogisticClassifier(**params).fit(
        X, y, sample_weight=np.vectorize(class_weight.get)(y)
    )
    assert_allclose(a.coef_, b.coef_, rtol=1e-12)


def test_multinomial_tol_and_early_stopping_stop_all_classes_together(multi):
    X, y = multi
    clf = SGDLogisticClassifier(
        multi_class="multinomial", random_state=0, max_iter=1000
    ).fit(X, y)
    assert clf.n_iter_ < 1000
    assert clf.t_ == 1 + clf.n_iter_ * len(y)
    es = SGDLogisticClassifier(
        multi_class="multinomial",
        early_stopping=True,
        n_iter_no_change=3,
        random_state=0,
        max_iter=1000,
    ).fit(X, y)
    assert es.n_iter_ < 1000
    assert es.score(X, y) > 0.45  # 4 classes; the full fit reaches ~0.65


def test_multinomial_early_stopping_scores_argmax_accuracy(multi, monkeypatch):
    from sgdclf import _classifier

    X, y = multi
    seen = []
    original = _classifier._ValidationScore.__call__

    def spy(self, unit):
        value = original(self, unit)
        seen.append((len(unit), value))
        return value

    monkeypatch.setattr(_classifier._ValidationScore, "__call__", spy)
    # 4 epochs: too few to stop (that takes n_iter_no_change=5).
    clf = SGDLogisticClassifier(
        multi_class="multinomial", early_stopping=True, random_state=0, max_iter=4
    ).fit(X, y)
    # One score per epoch for the unit of all 4 models: the last is the
    # accuracy of the final model's argmax on the held-out rows.
    assert [n for n, _ in seen] == [4] * 4
    split = StratifiedShuffleSplit(test_size=clf.validation_fraction, random_state=0)
    _, held_out = next(split.split(X, y))
    assert seen[-1][1] == np.mean(clf.predict(X[held_out]) == y[held_out])


def test_multinomial_float32_and_sparse(multi):
    X, y = multi
    params = dict(
        multi_class="multinomial",
        random_state=0,
        max_iter=5,
        tol=None,
        learning_rate="constant",
        eta0=0.05,
        alpha=1e-3,
    )
    dense = SGDLogisticClassifier(**params).fit(X, y)
    sparse = SGDLogisticClassifier(**params).fit(sp.csr_matrix(X), y)
    f32 = SGDLogisticClassifier(**params).fit(X.astype(np.float32), y)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10)
    assert f32.coef_.dtype == np.float32
    assert_allclose(f32.coef_, dense.coef_, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("schedule", ["optimal", "adaptive"])
def test_multinomial_schedules_run(multi, schedule):
    X, y = multi
    clf = SGDLogisticClassifier(
        multi_class="multinomial", learning_rate=schedule, eta0=0.1, random_state=0
    ).fit(X, y)
    assert clf.score(X, y) > 0.6


def test_unknown_multi_class_is_rejected(multi):
    X, y = multi
    with pytest.raises(ValueError, match="multi_class"):
        SGDLogisticClassifier(multi_class="softmax").fit(X, y)


# ---------------------------------------------------------------- one pass, threads


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("average", [False, True])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"penalty": "elasticnet", "dtype": np.float32},
        # Rows longer than SGDCLF_INLINE_MAX (32): the instruction-set clones
        # of the dots (one call for all models) and of the axpy.
        {"repeat": 3},
        {"repeat": 3, "dtype": np.float32, "penalty": "l1"},
        # Decay 1/2 a step: the lazy scale is folded into the weights every
        # ~30 steps (WSCALE_MIN).
        {"alpha": 0.5, "learning_rate": "constant", "eta0": 1.0},
    ],
)
def test_ovr_one_pass_equals_separate_binary_fits(multi, shuffle, average, options):
    # The binary fits run the kernel's one-model loop on dense rows
    # (run_dense_epoch_one_model), one-vs-rest its loop over models
    # (run_epoch): the two must step each model alike, to the bit.
    X, y = multi
    options = dict(options)
    X = np.tile(X, options.pop("repeat", 1)).astype(options.pop("dtype", np.float64))
    params = dict(random_state=0, shuffle=shuffle, average=average, max_iter=20)
    params.update(options)
    ovr = SGDLogisticClassifier(**params).fit(X, y)
    for k, label in enumerate(ovr.classes_):
        # Same seed, same permutations: model k sees the examples in the same
        # order as a binary fit of "label vs rest" (each stops on its own tol).
        single = SGDLogisticClassifier(**params).fit(X, y == label)
        assert_array_equal(ovr.coef_[k], single.coef_[0])
        assert ovr.intercept_[k] == single.intercept_[0]


@pytest.mark.parametrize("multi_class", ["ovr", "multinomial"])
@pytest.mark.parametrize("learning_rate", ["optimal", "adagrad"])
def test_n_jobs_never_changes_results(multi, multi_class, learning_rate):
    X, y = multi
    params = dict(
        multi_class=multi_class,
        learning_rate=learning_rate,
        random_state=0,
        average=True,
    )
    one = SGDLogisticClassifier(n_jobs=1, **params).fit(X, y)
    two = SGDLogisticClassifier(n_jobs=2, **params).fit(X, y)
    assert_array_equal(one.coef_, two.coef_)
    assert_array_equal(one.intercept_, two.intercept_)
    assert one.n_iter_ == two.n_iter_


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("learning_rate", ["optimal", "adagrad"])
@pytest.mark.parametrize("penalty", ["l2", "elasticnet"])
@pytest.mark.skipif(
    not _kernel.team_threads_available(), reason="built without OpenMP (one thread)"
)
@pytest.mark.parametrize("n_jobs", [2, 3])
def test_multinomial_team_of_threads_gives_identical_results(
    multi, monkeypatch, sparse, learning_rate, penalty, n_jobs
):
    # Force the per-example team on this small problem (normally it is only
    # used when an example carries enough work to pay for the synchronisation).
    from sgdclf import _training

    monkeypatch.setattr(_training, "TEAM_MIN_WORK", 0)
    # Three threads on a 2-core machine are slow (they take turns) but must
    # still be exact: lift the cap of one thread per core.
    monkeypatch.setattr(_training, "cpu_count", lambda: 8)
    X, y = multi
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) < 0.5, 0.0, X))
    params = dict(
        multi_class="multinomial",
        learning_rate=learning_rate,
        eta0=0.3,
        alpha=1e-2,
        penalty=penalty,
        average=100,
        random_state=0,
        max_iter=30,
        tol=1e-2,
    )
    one = SGDLogisticClassifier(n_jobs=1, **params).fit(X, y)
    epochs = spy_epochs(monkeypatch)
    team = SGDLogisticClassifier(n_jobs=n_jobs, **params).fit(X, y)
    assert {n_threads for _, n_threads in epochs} == {n_jobs}
    assert_array_equal(one.coef_, team.coef_)
    assert_array_equal(one.intercept_, team.intercept_)
    assert one.n_iter_ == team.n_iter_ < 30  # the tol rule saw the same objective


@pytest.mark.skipif(
    not _kernel.team_threads_available(), reason="built without OpenMP (one thread)"
)
def test_team_is_used_only_for_enough_work_per_example():
    from sgdclf._training import Data, _team_pays_off

    def data(X):
        return Data(X=X, y_code=None, sample_weight=None, train_rows=None)

    assert not _team_pays_off(data(np.zeros((5, 50))), 10)
    assert _team_pays_off(data(np.zeros((5, 300))), 10)
    sparse_rows = sp.random(100, 10_000, density=0.01, format="csr", random_state=0)
    assert not _team_pays_off(data(sparse_rows), 5)  # 5 x 100 nnz x 4 < 2500
    assert _team_pays_off(data(sparse_rows), 10)
