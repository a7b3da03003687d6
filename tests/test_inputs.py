"""What X and y may be, and the errors for what they may not be."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification

from sgdclf import SGDLogisticClassifier


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(500, 30, n_informative=8, n_classes=3, random_state=0)
    X = (X - X.mean(0)) / X.std(0)
    X[np.abs(X) < 0.7] = 0.0  # about half the entries are zero
    return X, y


def _fit(X, y, **kw):
    # A constant modest step: comparisons between input formats then measure
    # the formats, not rounding amplified by large early "optimal" steps.
    params = dict(
        random_state=0,
        tol=None,
        max_iter=5,
        alpha=1e-3,
        learning_rate="constant",
        eta0=0.01,
    )
    params.update(kw)
    return SGDLogisticClassifier(**params).fit(X, y)


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("penalty", ["l2", None])
@pytest.mark.parametrize("average", [False, True])
def test_dense_and_sparse_give_the_same_model(data, fmt, penalty, average):
    """No intercept decay on sparse input: the same data gives the same model."""
    X, y = data
    dense = _fit(X, y, penalty=penalty, average=average)
    sparse = _fit(sp.csr_matrix(X).asformat(fmt), y, penalty=penalty, average=average)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9, atol=1e-12)
    assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("penalty", ["l1", "elasticnet"])
def test_dense_and_sparse_l1_agree_closely(data, penalty):
    """The L1 truncation is applied to the coordinates a row touches: all of
    them for a dense row, the stored ones for a sparse row (the untouched ones
    catch up later). Where a weight is clipped at zero in between, the two
    orders differ slightly; on data without zeros they are identical."""
    X, y = data
    dense = _fit(X, y, penalty=penalty)
    sparse = _fit(sp.csr_matrix(X), y, penalty=penalty)
    scale = np.abs(dense.coef_).max()
    assert_allclose(sparse.coef_, dense.coef_, rtol=0, atol=1e-2 * scale)
    X_full = X + 5.0 * (X == 0)  # no zeros: every row touches every coordinate
    assert_allclose(
        _fit(sp.csr_matrix(X_full), y, penalty=penalty).coef_,
        _fit(X_full, y, penalty=penalty).coef_,
        rtol=1e-9,
        atol=1e-12,
    )


def test_sparse_objective_includes_whole_penalty(data):
    """tol stops sparse and dense fits after the same number of epochs."""
    X, y = data
    params = dict(random_state=0, learning_rate="constant", eta0=0.01, alpha=1e-3)
    dense = SGDLogisticClassifier(**params).fit(X, y)
    sparse = SGDLogisticClassifier(**params).fit(sp.csr_matrix(X), y)
    assert 1 < dense.n_iter_ < 1000
    assert dense.n_iter_ == sparse.n_iter_
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-8, atol=1e-10)


def test_int64_index_csr(data):
    X, y = data
    A = sp.csr_matrix(X)
    A64 = A.copy()
    A64.indices = A.indices.astype(np.int64)  # scipy would downcast in the constructor
    A64.indptr = A.indptr.astype(np.int64)
    assert A64.indices.dtype == np.int64
    assert_allclose(_fit(A64, y).coef_, _fit(A, y).coef_)
    # Mixed index dtypes are unified on a copy; the caller's matrix is untouched.
    mixed = A.copy()
    mixed.indptr = A.indptr.astype(np.int64)
    assert_allclose(_fit(mixed, y).coef_, _fit(A, y).coef_)
    assert mixed.indices.dtype == np.int32 and mixed.indptr.dtype == np.int64


def test_float32_trains_float32_and_agrees_with_float64(data):
    X, y = data
    m64 = _fit(X, y)
    m32 = _fit(X.astype(np.float32), y)
    assert m32.coef_.dtype == np.float32
    assert m32.intercept_.dtype == np.float32
    assert m64.coef_.dtype == np.float64
    assert_allclose(
        m32.coef_, m64.coef_, rtol=1e-3, atol=1e-3 * np.abs(m64.coef_).max()
    )
    assert m32.predict_proba(X.astype(np.float32)).dtype == np.float32
    s32 = _fit(sp.csr_matrix(X.astype(np.float32)), y)
    assert s32.coef_.dtype == np.float32


def test_other_dtypes_become_float64(data):
    X, y = data
    Xi = np.round(X * 10).astype(np.int32)
    model = _fit(Xi, y)
    assert model.coef_.dtype == np.float64
    assert_allclose(model.coef_, _fit(Xi.astype(np.float64), y).coef_)


def test_fortran_order_lists_and_dataframes(data):
    X, y = data
    ref = _fit(X, y)
    assert_allclose(_fit(np.asfortranarray(X), y).coef_, ref.coef_)
    assert_allclose(_fit(X.tolist(), y.tolist()).coef_, ref.coef_)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    model = _fit(df, pd.Series(y))
    assert_allclose(model.coef_, ref.coef_)
    assert_array_equal(model.feature_names_in_, df.columns)
    assert model.n_features_in_ == X.shape[1]


def test_c_contiguous_input_is_not_copied(data, monkeypatch):
    """The kernel receives the caller's buffer (dense and CSR)."""
    from sgdclf import _kernel, _training

    X, y = data
    seen = {}

    def spy(**kw):
        seen["csr" if "data" in kw else "dense"] = kw.get("data", kw.get("X"))
        return real(**kw)

    real = _kernel.EpochRunner
    monkeypatch.setattr(_training._kernel, "EpochRunner", spy)
    _fit(X, y, max_iter=1)
    assert np.shares_memory(seen["dense"], X)
    A = sp.csr_matrix(X)
    _fit(A, y, max_iter=1)
    assert np.shares_memory(seen["csr"], A.data)


def test_read_only_memmap(tmp_path, data):
    X, y = data
    path = tmp_path / "X.npy"
    np.save(path, X)
    Xm = np.load(path, mmap_mode="r")
    assert not Xm.flags.writeable
    assert_allclose(_fit(Xm, y).coef_, _fit(X, y).coef_)
    A = sp.csr_matrix(X)
    for arr in (A.data, A.indices, A.indptr):
        arr.flags.writeable = False
    assert_allclose(_fit(A, y).coef_, _fit(X, y).coef_)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "eel"]),
        np.array([-3, 10, 7]),
        np.array([10**12, -(10**12), 3], dtype=np.int64),
    ],
)
def test_any_label_type(data, labels):
    X, y = data
    y_mapped = labels[y]
    model = _fit(X, y_mapped)
    assert_array_equal(model.classes_, np.sort(labels))
    assert set(model.predict(X)) <= set(labels)
    assert model.score(X, y_mapped) > 0.6


def test_boolean_labels(data):
    X, y = data
    yb = y == 1
    model = _fit(X, yb)
    assert_array_equal(model.classes_, [False, True])
    assert model.predict(X).dtype == bool


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("bad, word", [(np.nan, "NaN"), (np.inf, "infinity")])
@pytest.mark.parametrize("sparse", [False, True])
def test_nan_inf_in_X(data, bad, word, sparse):
    X, y = data
    X = X.copy()
    X[3, 4] = bad
    if sparse:
        X = sp.csr_matrix(X)
    with pytest.raises(ValueError, match=word):
        SGDLogisticClassifier().fit(X, y)
    fitted = _fit(data[0], y)
    with pytest.raises(ValueError, match=word):
        fitted.predict(X)


@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(n_jobs=2),  # one-vs-rest threads
        dict(multi_class="multinomial", learning_rate="adagrad"),
        dict(multi_class="multinomial", n_jobs=2, team=True),  # a team of threads
        dict(early_stopping=True),
    ],
)
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_X_found_during_training_names_the_row(
    data, params, sparse, bad, monkeypatch
):
    # X is not scanned up front: the kernel stops at the first row whose margin
    # is not finite. The error must say so, whatever the row, the thread
    # layout or a zero weight vector (0 * inf is NaN), and leave no model.
    from sgdclf import _training

    params = dict(params)
    if params.pop("team", False):
        monkeypatch.setattr(_training, "TEAM_MIN_WORK", 0)
    X, y = data
    for row in (0, 321, len(y) - 1):
        X_bad = X.copy()
        X_bad[row, 7] = bad
        if sparse:
            X_bad = sp.csr_matrix(X_bad)
        clf = SGDLogisticClassifier(random_state=0, **params)
        with pytest.raises(ValueError, match="NaN or infinity"):
            clf.fit(X_bad, y)
        assert not hasattr(clf, "coef_")
    fitted = SGDLogisticClassifier(random_state=0, **params).fit(X, y)
    before = fitted.coef_.copy()
    if not params.get("early_stopping"):
        with pytest.raises(ValueError, match="NaN or infinity"):
            fitted.partial_fit(X_bad, y)
        assert np.array_equal(fitted.coef_, before)


def test_overflowing_scores_of_finite_X_raise_instead_of_nan_or_inf(data):
    # Issue 10 item 7: finite X whose scores overflow gave NaN or +-inf.
    X, y = data
    clf = _fit(X, y)
    clf.coef_ = np.abs(clf.coef_) + 1.0
    huge = np.full((2, X.shape[1]), 1e308)  # finite, but 30 x 1e308 is not
    for method in (
        "decision_function",
        "predict",
        "predict_proba",
        "predict_log_proba",
    ):
        with pytest.raises(ValueError, match="overflow.*Scale the features"):
            getattr(clf, method)(huge)
    with pytest.raises(ValueError, match="NaN"):
        clf.decision_function(np.where(np.eye(2, X.shape[1]) > 0, np.nan, 1.0))


def test_scores_that_cancel_to_nan_raise():
    # coef [2, -2], x = [1e308, 1e308]: inf - inf is NaN (was returned as is).
    clf = SGDLogisticClassifier(max_iter=2, tol=None).fit([[0, 1], [1, 0]], [0, 1])
    clf.coef_ = np.array([[2.0, -2.0]])
    with pytest.raises(ValueError, match="row 0 of X overflow"):
        clf.decision_function(np.array([[1e308, 1e308]]))
    multi = SGDLogisticClassifier(max_iter=2, tol=None, multi_class="multinomial")
    multi.fit(np.eye(3), [0, 1, 2])
    multi.coef_ = np.array([[2.0, -2, 0], [0, 0, 0], [1, 1, 0]])
    with pytest.raises(ValueError, match="overflow"):
        multi.predict_proba(np.array([[1e308, 1e308, 0]]))
    with pytest.raises(ValueError, match="overflow"):
        multi.predict(np.array([[1e308, 1e308, 0]]))


@pytest.mark.parametrize("method", ["fit", "predict"])
@pytest.mark.parametrize(
    "indices, indptr, what",
    [
        ([0, 7], [0, 1, 2], "column index 7"),  # beyond the declared width
        ([0, -1], [0, 1, 2], "column index -1"),
        ([0, 1], [0, 1, 5], "row pointers"),  # beyond the stored values
        ([0, 1], [0, 2, 1], "row pointers"),  # decreasing
        ([0, 1], [1, 1, 2], "row pointers"),  # not from 0
    ],
)
def test_malformed_csr_is_refused_not_read_out_of_bounds(method, indices, indptr, what):
    # Issue 10 item 13: scipy's constructor accepts a column index beyond the
    # width (fit segfaulted); the arrays can also be changed after it.
    X = sp.csr_matrix(
        (np.array([1.0, 2.0]), np.array([0, 1]), np.array([0, 1, 2])), shape=(2, 3)
    )
    X.indices[:] = indices
    X.indptr[:] = indptr
    clf = SGDLogisticClassifier(max_iter=2, tol=None)
    if method == "predict":
        clf.fit(np.eye(3)[:2], [0, 1])
    before = dict(vars(clf))
    with pytest.raises(ValueError, match=f"malformed CSR.*{what}"):
        if method == "fit":
            clf.fit(X, [0, 1])
        else:
            clf.predict(X)
    assert vars(clf).keys() == before.keys()


def test_csr_with_strided_data_is_used_not_refused():
    # Issue 10 item 13: a non-contiguous data array gave a bare
    # "ndarray is not C-contiguous".
    dense = np.random.default_rng(0).normal(size=(20, 4))
    y = np.arange(20) % 2
    X = sp.csr_matrix(dense)
    X.data = np.repeat(X.data, 2)[::2]
    assert not X.data.flags.c_contiguous
    params = dict(max_iter=3, tol=None, random_state=0)
    got = SGDLogisticClassifier(**params).fit(X, y).coef_
    assert_allclose(
        got, SGDLogisticClassifier(**params).fit(dense, y).coef_, rtol=1e-12
    )


@pytest.mark.parametrize("n_classes", [2, 3])
def test_csr_storing_no_values_fits_like_zeros(n_classes):
    # The kernel gets no indices pointer for such a matrix and reads its rows
    # as rows of length 0; the fuzzed command line found that the one-model
    # loop for dense rows read n_features values of them instead.
    y = np.arange(30) % n_classes
    X = sp.csr_matrix((30, 5))
    assert X.nnz == 0
    params = dict(max_iter=3, tol=None, random_state=0)
    got = SGDLogisticClassifier(**params).fit(X, y)
    zeros = SGDLogisticClassifier(**params).fit(np.zeros((30, 5)), y)
    assert_array_equal(got.coef_, 0.0)
    assert_array_equal(got.intercept_, zeros.intercept_)


def test_one_class(data):
    X, _ = data
    with pytest.raises(ValueError, match="at least 2 classes"):
        SGDLogisticClassifier().fit(X, np.zeros(len(X)))


def test_empty_X():
    with pytest.raises(ValueError, match="0 sample"):
        SGDLogisticClassifier().fit(np.zeros((0, 3)), [])


def test_mismatched_lengths(data):
    X, y = data
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SGDLogisticClassifier().fit(X, y[:-1])
    with pytest.raises(ValueError, match="sample_weight"):
        SGDLogisticClassifier().fit(X, y, sample_weight=np.ones(len(y) - 1))


def test_wrong_number_of_features(data):
    X, y = data
    model = _fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :-1])
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :-1], y)


def test_continuous_targets_rejected(data):
    X, _ = data
    with pytest.raises(ValueError, match="continuous"):
        SGDLogisticClassifier().fit(X, np.linspace(0, 1, len(X)))


def test_partial_fit_classes(data):
    X, y = data
    with pytest.raises(ValueError, match="classes must be passed"):
        SGDLogisticClassifier().partial_fit(X, y)
    with pytest.raises(ValueError, match=r"labels \[2\] that are not in classes"):
        SGDLogisticClassifier().partial_fit(X, y, classes=[0, 1])
    model = SGDLogisticClassifier().partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="not the same"):
        model.partial_fit(X, y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError, match="not in classes"):
        model.partial_fit(X, y + 5)
    # The failed calls left the model as it was.
    assert model.t_ == 1 + len(y)


@pytest.mark.parametrize(
    "params, match",
    [
        (dict(penalty="l3"), "penalty"),
        (dict(learning_rate="fast"), "learning_rate"),
        (dict(alpha=-1.0), "alpha"),
        (dict(l1_ratio=1.5), "l1_ratio"),
        (dict(eta0=0.0), "eta0"),
        (dict(max_iter=0), "max_iter"),
        (dict(average=-2), "average"),
        (dict(class_weight="uniform"), "class_weight"),
        (dict(validation_fraction=1.0), "validation_fraction"),
        (dict(power_t=-0.5), "power_t"),
        (dict(alpha=0.0), "alpha must be > 0"),
    ],
)
def test_bad_parameters(data, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        SGDLogisticClassifier(**params).fit(X, y)


def test_partial_fit_refuses_early_stopping_and_balanced(data):
    X, y = data
    with pytest.raises(ValueError, match="early_stopping"):
        SGDLogisticClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="balanced"):
        SGDLogisticClassifier(class_weight="balanced").partial_fit(
            X, y, classes=[0, 1, 2]
        )


def test_early_stopping_too_few_samples():
    X = np.arange(8.0).reshape(4, 2)
    with pytest.raises(ValueError, match="early stopping"):
        SGDLogisticClassifier(early_stopping=True).fit(X, [0, 1, 0, 1])


def test_coef_init_with_nan(data):
    X, y = data
    bad = np.zeros((3, X.shape[1]))
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="coef_init contains NaN"):
        SGDLogisticClassifier().fit(X, y, coef_init=bad)


def test_plain_arrays_skip_validation_but_fit_the_same(data, monkeypatch):
    # A C-contiguous float X and an integer y take the lean path: the same
    # model as through scikit-learn's validation (a list takes that path).
    X, y = data
    params = dict(max_iter=3, tol=None, random_state=0)
    lean = SGDLogisticClassifier(**params).fit(X, y)
    validated = SGDLogisticClassifier(**params).fit(X.tolist(), y.tolist())
    assert_array_equal(lean.coef_, validated.coef_)
    assert lean.n_features_in_ == X.shape[1]
    # A refit on a plain array forgets the feature names of a DataFrame fit.
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    model = SGDLogisticClassifier(**params).fit(frame, y)
    assert hasattr(model, "feature_names_in_")
    model.fit(X, y)
    assert not hasattr(model, "feature_names_in_")
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :-1], y)


def test_parameters_are_validated_once_per_fit(data, monkeypatch):
    X, y = data
    calls = []
    original = SGDLogisticClassifier._validate_params

    def counting(self):
        calls.append(1)
        return original(self)

    monkeypatch.setattr(SGDLogisticClassifier, "_validate_params", counting)
    SGDLogisticClassifier(max_iter=2, tol=None).fit(X, y)
    assert len(calls) == 1
    with pytest.raises(ValueError, match="alpha"):
        SGDLogisticClassifier(alpha=-1.0).fit(X, y)


def test_integer_seeds_are_checked_once_and_give_distinct_shuffles(data, monkeypatch):
    import sklearn.base

    from sgdclf._classifier import _seed_of

    X, y = data
    checks = []
    original = sklearn.base.BaseEstimator._validate_params

    def counting(self):
        checks.append(1)
        return original(self)

    monkeypatch.setattr(sklearn.base.BaseEstimator, "_validate_params", counting)
    fits = [
        SGDLogisticClassifier(max_iter=3, tol=None, alpha=0.123, random_state=seed)
        .fit(X, y)
        .coef_
        for seed in range(5)
    ]
    # The constraints were read once: every integer seed in range passes alike.
    assert len(checks) == 1
    for bad in (-1, 2**32):
        with pytest.raises(ValueError, match="random_state"):
            SGDLogisticClassifier(alpha=0.123, random_state=bad).fit(X, y)
    # Each seed its own shuffles; the same seed the same model.
    assert all(not np.array_equal(fits[0], f) for f in fits[1:])
    again = SGDLogisticClassifier(max_iter=3, tol=None, alpha=0.123, random_state=3)
    assert_array_equal(again.fit(X, y).coef_, fits[3])
    seeds = {_seed_of(k) for k in range(100_000)}
    assert len(seeds) > 99_990 and all(0 <= s < 2**31 for s in seeds)


@pytest.mark.parametrize(
    "y",
    [
        np.array([2, 0, 1, 1, 0, 2]),  # 0 .. K-1: their own codes
        np.array([5, -3, 5, 7, -3], dtype=np.int32),
        np.array([1, 3, 3, 1], dtype=np.uint8),
        np.array([True, False, True]),
        np.array([True, True]),
        np.array([0, 2, 2]),  # starts at 0, not 0 .. K-1
        np.array([1, 2, 0, 3, 3], dtype=np.int64)[::2],  # a strided view
        np.array([7, 0, 10**12, 7]),  # too wide a span for the kernel's table
        np.array([2**63 - 1, -(2**63), 0]),  # max - min overflows int64
        np.array([2**64 - 1, 1, 1], dtype=np.uint64),  # beyond int64
        np.array([-1, 1, 1, -1, 1], dtype=np.int8),
        np.array([0.5, -1.0, 0.5]),
        np.array(["b", "a", "b"]),
    ],
    ids=repr,
)
def test_label_codes_are_the_index_into_the_sorted_distinct_labels(y):
    from sgdclf._classifier import _labels

    classes, codes = _labels(y)
    np.testing.assert_array_equal(classes, np.unique(y))
    assert classes.dtype == y.dtype and codes.dtype == np.int32
    np.testing.assert_array_equal(classes[codes], y)


def test_kernel_label_codes_refuses_a_wide_span_and_empty_labels():
    from sgdclf import _kernel

    y = np.array([3, 0, 3, 5])
    classes, codes = _kernel.label_codes(y, max_span=6)  # 5 - 0 < 6: a table
    np.testing.assert_array_equal(classes, [0, 3, 5])
    np.testing.assert_array_equal(codes, [1, 0, 1, 2])
    assert _kernel.label_codes(y, max_span=5) is None  # 5 - 0 >= 5
    assert _kernel.label_codes(y[:0], max_span=10) is None
