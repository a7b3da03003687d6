"""Property-based tests of fit / partial_fit / predict* (hypothesis).

Over input kinds (dtypes, memory orders, CSR index types, non-canonical and
non-contiguous CSR, read-only arrays), shapes (1..30 rows, 1..10 features,
2..4 classes, classes with a single example), values (tiny and huge finite
magnitudes, NaN and infinity) and parameter combinations, these must hold:

- fit / partial_fit either succeed or raise ValueError or TypeError (nothing
  else, and no crash); after such an error the estimator is unchanged;
- after success coef_ and intercept_ are finite; decision_function is finite
  or raises ValueError; predict_proba rows are finite, in [0, 1] and sum to 1;
  predict is classes_[argmax(predict_proba)] (up to ties);
- the dense and the CSR form of the same data give the same model.

The examples are bounded and derandomized (the same ones on every run), so CI
is reproducible; HYPOTHESIS_PROFILE=asan runs fewer under AddressSanitizer.
"""

import contextlib
import copy
import os
import subprocess
import sys
import textwrap
import warnings

import hypothesis
import numpy as np
import pytest
import scipy.sparse as sp
from epoch_spy import spy_epochs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from sgdclf import SGDLogisticClassifier, _kernel, _training

settings.register_profile(
    "ci",
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("asan", settings.get_profile("ci"), max_examples=60)
# Bug hunting by hand: HYPOTHESIS_PROFILE=hunt pytest tests/test_properties.py
settings.register_profile(
    "hunt", settings.get_profile("ci"), max_examples=1500, derandomize=False
)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SUM_TOL = {np.dtype(np.float64): 1e-6, np.dtype(np.float32): 1e-4}


def note(message):
    """hypothesis.note, also usable from a plain test."""
    with contextlib.suppress(hypothesis.errors.InvalidArgument):
        hypothesis.note(message)


def event(message):
    with contextlib.suppress(hypothesis.errors.InvalidArgument):
        hypothesis.event(message)


# ---------------------------------------------------------------- strategies

# Finite values from subnormal to near the top of float64, and plain ones.
MAGNITUDES = [0.0, 5e-324, 1e-300, 1e-30, 1e-8, 0.5, 1.0, 3.0, 1e8, 1e30, 1e300]
values = st.one_of(
    st.floats(-10, 10, allow_nan=False, width=64),
    st.builds(
        lambda m, s: s * m, st.sampled_from(MAGNITUDES), st.sampled_from([-1, 1])
    ),
    st.integers(-3, 3).map(float),
)
KINDS = [
    "float64",
    "float32",
    "int64",
    "int32",
    "bool",
    "csr32",
    "csr64",
    "csr-noncanonical",
    "csr-strided-data",
    "csr-float32",
]


@st.composite
def labelled_data(draw, max_rows=30, max_features=10, nonfinite=True, values=values):
    """(X as float64, y): every class present, some maybe only once."""
    n_classes = draw(st.integers(2, 4))
    n_rows = draw(st.integers(n_classes, max_rows))
    n_features = draw(st.integers(1, max_features))
    X = np.array(
        draw(
            st.lists(values, min_size=n_rows * n_features, max_size=n_rows * n_features)
        )
    )
    X = X.reshape(n_rows, n_features)
    if nonfinite and draw(st.booleans()) and draw(st.booleans()):
        bad = draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        X[draw(st.integers(0, n_rows - 1)), draw(st.integers(0, n_features - 1))] = bad
    # Every class at least once, then random labels; a one-example class is common.
    extra = draw(
        st.lists(
            st.integers(0, n_classes - 1),
            min_size=n_rows - n_classes,
            max_size=n_rows - n_classes,
        )
    )
    y = np.array(list(range(n_classes)) + extra)
    y = y[draw(st.permutations(range(n_rows)))]
    label_kind = draw(st.sampled_from(["int", "str", "float"]))
    if label_kind == "str":
        y = np.array(["ant", "bee", "cat", "dog"])[y]
    elif label_kind == "float":
        y = y * 2.0 - 1.0  # -1.0, 1.0, 3.0, 5.0
    return X, y


def as_kind(X, kind, *, order="C", read_only=False):
    """X (float64 ndarray) as the given kind of input, values as close as it allows."""
    with np.errstate(over="ignore", invalid="ignore"):
        if kind in ("float64", "float32"):
            A = np.array(X, dtype=kind, order=order)
        elif kind in ("int64", "int32"):
            limit = 1e9
            A = np.array(
                np.nan_to_num(np.clip(X, -limit, limit)), dtype=kind, order=order
            )
        elif kind == "bool":
            A = np.array(X != 0, order=order)
        elif kind == "csr-float32":
            A = _csr(X.astype(np.float32), "csr32")
        else:
            A = _csr(X, kind)
    if read_only:
        for array in (A.data, A.indices, A.indptr) if sp.issparse(A) else (A,):
            array.setflags(write=False)
    return A


def _csr(X, kind):
    A = sp.csr_matrix(X)
    if kind == "csr64":
        A.indices = A.indices.astype(
            np.int64
        )  # scipy would downcast in the constructor
        A.indptr = A.indptr.astype(np.int64)
    elif kind == "csr-noncanonical":
        # Each row's columns in reverse order, each stored entry followed by an
        # explicit zero in the same column (a duplicate that sums to the entry).
        data, indices, indptr = [], [], [0]
        for i in range(A.shape[0]):
            row = A.getrow(i)
            for j, v in zip(row.indices[::-1], row.data[::-1], strict=True):
                data += [v, 0.0]
                indices += [j, j]
            indptr.append(len(data))
        A = sp.csr_matrix(
            (
                np.array(data, dtype=X.dtype),
                np.array(indices, np.int32),
                np.array(indptr, np.int32),
            ),
            shape=X.shape,
        )
        assert not A.has_canonical_format or A.nnz == 0
    elif kind == "csr-strided-data":
        buffer = np.zeros(2 * A.nnz, dtype=A.dtype)
        buffer[::2] = A.data
        A.data = buffer[::2]  # same values, not contiguous
    return A


PARAMS = dict(
    penalty=st.sampled_from(["l2", "l1", "elasticnet", None]),
    alpha=st.sampled_from([0.0, 1e-6, 1e-4, 1e-2, 1.0]),
    learning_rate=st.sampled_from(
        ["optimal", "constant", "invscaling", "adaptive", "adagrad"]
    ),
    eta0=st.sampled_from([1e-3, 0.01, 0.1, 1.0, 10.0]),
    average=st.sampled_from([False, True, 1, 5]),
    multi_class=st.sampled_from(["ovr", "multinomial"]),
    fit_intercept=st.booleans(),
    max_iter=st.integers(1, 20),
    tol=st.sampled_from([None, 1e-3]),
    shuffle=st.booleans(),
    random_state=st.integers(0, 3),
    n_jobs=st.sampled_from([None, 2]),
)


@st.composite
def parameters(draw, y, early_stopping=True):
    params = {name: draw(strategy) for name, strategy in PARAMS.items()}
    classes = np.unique(y)
    weights = draw(st.sampled_from(["none", "balanced", "dict"]))
    if weights == "balanced":
        params["class_weight"] = "balanced"
    elif weights == "dict":
        params["class_weight"] = {
            c: draw(st.sampled_from([0.1, 1.0, 3.0]))
            for c in classes
            if draw(st.booleans())
        }
    if early_stopping and draw(st.booleans()):
        params["early_stopping"] = True
        params["validation_fraction"] = draw(st.sampled_from([0.1, 0.3, 0.5]))
        params["n_iter_no_change"] = draw(st.integers(1, 3))
    params["warm_start"] = draw(st.booleans())
    return params


# ---------------------------------------------------------------- the properties


def _snapshot(clf):
    return copy.deepcopy(clf.__dict__)


def _assert_same_state(before, clf):
    after = clf.__dict__
    assert before.keys() == after.keys(), (
        f"attributes changed: {set(before) ^ set(after)}"
    )
    for name, value in before.items():
        other = after[name]
        if isinstance(value, np.ndarray):
            assert isinstance(other, np.ndarray) and value.dtype == other.dtype
            assert np.array_equal(value, other, equal_nan=value.dtype.kind in "fc"), (
                name
            )
        elif sp.issparse(value):
            assert (value != other).nnz == 0, name
        else:
            assert type(value) is type(other) and value == other, name


def _call(clf, method, *args, **kwargs):
    """Run a fitting method: the exception if it raised ValueError/TypeError
    (after checking the estimator did not change), else None."""
    before = _snapshot(clf)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            getattr(clf, method)(*args, **kwargs)
    except (ValueError, TypeError) as exc:
        note(f"{method} raised {type(exc).__name__}: {exc}")
        event(f"{method}: {type(exc).__name__}: {str(exc)[:60]}")
        _assert_same_state(before, clf)
        return exc
    event(f"{method}: success")
    return None


def _assert_sound_predictions(clf, X):
    """The fitted model's outputs on X obey the contract."""
    coef = clf.coef_.toarray() if sp.issparse(clf.coef_) else clf.coef_
    assert np.isfinite(coef).all()
    assert np.isfinite(clf.intercept_).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            scores = clf.decision_function(X)
        except ValueError as exc:
            note(f"decision_function raised ValueError: {exc}")
            with pytest.raises(ValueError):
                clf.predict_proba(X)
            with pytest.raises(ValueError):
                clf.predict(X)
            return
        note(f"scores={scores!r}")
        assert np.isfinite(scores).all(), "decision_function returned NaN/inf"
        proba = clf.predict_proba(X)
        predicted = clf.predict(X)
    note(f"proba={proba!r}")
    n_classes = len(clf.classes_)
    assert proba.shape == (X.shape[0], n_classes)
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    tol = SUM_TOL[proba.dtype]
    assert_allclose(
        proba.sum(axis=1),
        1.0,
        rtol=0,
        atol=tol,
        err_msg="predict_proba rows must sum to 1",
    )
    # predict agrees with the most probable class, except where the top two
    # probabilities tie (saturated sigmoids, equal scores).
    top2 = np.sort(proba, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 4 * tol
    expected = clf.classes_[np.argmax(proba, axis=1)]
    assert (predicted[clear] == expected[clear]).all()
    assert np.isin(predicted, clf.classes_).all()


@contextlib.contextmanager
def _with_team(params):
    """Force a multinomial fit with n_jobs=2 onto the team-of-threads path
    (normally only taken on wide data)."""
    with pytest.MonkeyPatch.context() as patch:
        if params.get("multi_class") == "multinomial" and params.get("n_jobs") == 2:
            patch.setattr(_training, "TEAM_MIN_WORK", 0)
        yield


@PROFILE
@given(
    data=st.data(),
    Xy=labelled_data(),
    kind=st.sampled_from(KINDS),
    order=st.sampled_from(["C", "F"]),
    read_only=st.booleans(),
    weighted=st.booleans(),
)
def test_fit_succeeds_or_raises_and_the_model_is_sound(
    data, Xy, kind, order, read_only, weighted
):
    X64, y = Xy
    X = as_kind(X64, kind, order=order, read_only=read_only)
    params = data.draw(parameters(y))
    sample_weight = None
    if weighted:
        sample_weight = np.array(
            data.draw(
                st.lists(
                    st.sampled_from([0.0, 0.5, 1.0, 2.0]),
                    min_size=len(y),
                    max_size=len(y),
                )
            )
        )
    clf = SGDLogisticClassifier(**params)
    with _with_team(params):
        error = _call(clf, "fit", X, y, sample_weight=sample_weight)
        if error is None:
            _assert_sound_predictions(clf, X)
            if params["warm_start"]:
                # A second fit from the first model.
                if _call(clf, "fit", X, y, sample_weight=sample_weight) is None:
                    _assert_sound_predictions(clf, X)


@PROFILE
@given(
    data=st.data(),
    Xy=labelled_data(),
    kind=st.sampled_from(KINDS),
    read_only=st.booleans(),
)
def test_partial_fit_sequences(data, Xy, kind, read_only):
    X64, y = Xy
    params = data.draw(parameters(y, early_stopping=False))
    if params.get("class_weight") == "balanced":
        params["class_weight"] = None
    classes = np.unique(y)
    cuts = sorted(data.draw(st.lists(st.integers(1, len(y)), max_size=3)))
    clf = SGDLogisticClassifier(**params)
    with _with_team(params):
        for chunk in np.split(np.arange(len(y)), cuts):
            if chunk.size == 0:
                continue
            X = as_kind(X64[chunk], kind, read_only=read_only)
            if _call(clf, "partial_fit", X, y[chunk], classes=classes) is None:
                _assert_sound_predictions(clf, X)


# Moderate finite values: here the two forms must agree, not just both be sound.
moderate = st.one_of(
    st.floats(-10, 10, allow_nan=False),
    st.just(0.0),
    st.sampled_from([1e-3, -1e-3, 100.0, -100.0]),
)


@PROFILE
@given(
    data=st.data(),
    Xy=labelled_data(nonfinite=False, values=moderate),
    kind=st.sampled_from(["csr32", "csr64", "csr-noncanonical", "csr-strided-data"]),
    dtype=st.sampled_from(["float64", "float32"]),
)
def test_dense_and_csr_give_the_same_model(data, Xy, kind, dtype):
    X64, y = Xy
    params = data.draw(parameters(y))
    # L1 truncates the coordinates a row stores (all, for a dense row): the
    # two orders differ slightly by design (see test_inputs).
    params["penalty"] = data.draw(st.sampled_from(["l2", None]))
    dense = SGDLogisticClassifier(**params)
    sparse = SGDLogisticClassifier(**params)
    X_dense = X64.astype(dtype)
    X_sparse = as_kind(X_dense, kind)
    dense_error = _call(dense, "fit", X_dense, y)
    sparse_error = _call(sparse, "fit", X_sparse, y)
    assert type(dense_error) is type(sparse_error), (dense_error, sparse_error)
    if dense_error is None:
        rtol = 1e-6 if dtype == "float64" else 1e-2
        # Rounding differs (dense rows use vectorised sums): errors scale with
        # the weights, and float32 with large steps (eta0 ~ 10, or the early
        # "optimal" steps) amplifies them to ~1e-3 of the largest weight.
        scale = max(1.0, np.abs(dense.coef_).max(), np.abs(dense.intercept_).max())
        assert dense.n_iter_ == sparse.n_iter_
        assert_allclose(sparse.coef_, dense.coef_, rtol=rtol, atol=rtol * scale)
        assert_allclose(
            sparse.intercept_, dense.intercept_, rtol=rtol, atol=rtol * scale
        )
        _assert_sound_predictions(sparse, X_sparse)


# ---------------------------------------------------------------- the team path


@pytest.mark.skipif(not _kernel.team_threads_available(), reason="built without OpenMP")
def test_multinomial_team_on_wide_data(monkeypatch):
    """n_jobs=2 on wide data takes the team-of-threads path without any forcing
    (so the AddressSanitizer run covers it), and gives the one-thread model."""
    monkeypatch.setattr(_training, "cpu_count", lambda: 2)  # at least two cores
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 1000))
    y = np.arange(60) % 4
    params = dict(
        multi_class="multinomial",
        random_state=0,
        max_iter=3,
        tol=None,
        average=True,
        learning_rate="adagrad",
        penalty="elasticnet",
    )
    one = SGDLogisticClassifier(n_jobs=1, **params).fit(X, y)
    epochs = spy_epochs(monkeypatch)
    for X_kind in (X, sp.csr_matrix(np.where(np.abs(X) < 1, 0.0, X))):
        epochs.clear()
        team = SGDLogisticClassifier(n_jobs=2, **params).fit(X_kind, y)
        assert epochs and {n_threads for _, n_threads in epochs} == {2}
        _assert_sound_predictions(team, X_kind)
    np.testing.assert_array_equal(
        SGDLogisticClassifier(n_jobs=2, **params).fit(X, y).coef_, one.coef_
    )


# ---------------------------------------------------------------- the known items


def _model(coef, intercept, classes, multi_class="ovr", dtype=np.float64):
    """A fitted estimator with the given weights (as a fit would leave them)."""
    clf = SGDLogisticClassifier(multi_class=multi_class)
    clf.coef_ = np.array(coef, dtype=dtype, ndmin=2)
    clf.intercept_ = np.array(intercept, dtype=dtype, ndmin=1)
    clf.classes_ = np.array(classes)
    clf.n_features_in_ = clf.coef_.shape[1]
    clf.t_ = 1.0
    clf.n_iter_ = 1
    return clf


# Reproducers of issue 10 items (3, 7, 13), also found by the properties above
# (3 only by its reproducer); each failed before those items were fixed.


@pytest.mark.parametrize(
    "dtype, x", [(np.float64, 1e17), (np.float32, 3e7), (np.float32, 1e4)]
)
def test_ovr_predict_proba_sums_to_one_when_every_sigmoid_underflows(dtype, x):
    clf = _model([[-1, 0], [-1, 0], [-2, 0]], [0, 0, 0], [0, 1, 2], dtype=dtype)
    X = np.array([[x, 0.0]], dtype=dtype)
    _assert_sound_predictions(clf, X)
    assert_allclose(
        clf.predict_proba(X), [[0.5, 0.5, 0.0]], atol=SUM_TOL[clf.coef_.dtype]
    )


@pytest.mark.parametrize(
    "coef, multi_class",
    [([[2.0, -2.0]], "ovr"), ([[2.0, -2.0], [1.0, 1.0], [-1.0, 0.5]], "multinomial")],
)
def test_finite_X_never_gives_silent_nan_or_inf_scores(coef, multi_class):
    classes = list(range(max(2, len(coef))))
    clf = _model(coef, [0.0] * len(coef), classes, multi_class=multi_class)
    _assert_sound_predictions(clf, np.array([[1e308, 1e308]]))


def test_float32_partial_fit_scores_do_not_overflow_silently():
    # Found by test_partial_fit_sequences: a float32 model trained on -1e30
    # holds weights ~1e27 (finite in float32) whose float32 scores overflow.
    X = np.zeros((5, 5), dtype=np.float32)
    X[4, 4] = -1e30
    y = np.array([0, 1, 2, 0, 0])
    clf = SGDLogisticClassifier(
        alpha=0.0,
        learning_rate="constant",
        eta0=1e-3,
        fit_intercept=False,
        shuffle=False,
        random_state=0,
    )
    clf.partial_fit(X, y, classes=[0, 1, 2])
    _assert_sound_predictions(clf, X)


def _fit_in_subprocess(tmp_path, code):
    """Run code that fits in a fresh interpreter (a crash must not take pytest)."""
    script = tmp_path / "fit.py"
    script.write_text(textwrap.dedent(code))
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("column", [3, 5_000_000])
def test_csr_column_index_beyond_its_width_is_a_value_error(tmp_path, column):
    # Out-of-bounds writes: a crash, heap corruption found at exit, or (by
    # luck of the memory layout) silence; under ASan always a report.
    result = _fit_in_subprocess(
        tmp_path,
        f"""
        import numpy as np, scipy.sparse as sp
        from sgdclf import SGDLogisticClassifier
        # scipy's constructor accepts an index >= the declared width.
        X = sp.csr_matrix((np.ones(2), np.array([0, {column}]), np.array([0, 1, 2])),
                          shape=(2, 3))
        try:
            SGDLogisticClassifier(max_iter=2, tol=None).fit(X, [0, 1])
        except ValueError as exc:
            print("ValueError:", exc)
        else:
            print("fitted")
    """,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ValueError:"), result.stdout


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_csr_with_non_contiguous_data_fits_or_says_what_to_do(dtype):
    X = sp.csr_matrix(np.array([[1.0, 0, 2], [0, 3, 0], [4, 0, 0]], dtype=dtype))
    strided = X.copy()
    buffer = np.zeros(2 * X.nnz, dtype=dtype)
    buffer[::2] = X.data
    strided.data = buffer[::2]
    params = dict(random_state=0, max_iter=3, tol=None)
    try:
        clf = SGDLogisticClassifier(**params).fit(strided, [0, 1, 1])
    except ValueError as exc:
        assert str(exc) != "ndarray is not C-contiguous", "a bare numpy message"
    else:
        reference = SGDLogisticClassifier(**params).fit(X, [0, 1, 1])
        assert_allclose(clf.coef_, reference.coef_)
