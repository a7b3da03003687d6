"""Predictions on a plain float ndarray skip scikit-learn's validation.

The fast path must give exactly what the validating path gives, and every
input it does not handle (or that makes a score non-finite) must reach the
validating path and its errors and warnings.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError

from sgdclf import SGDLogisticClassifier

METHODS = ("decision_function", "predict", "predict_proba", "predict_log_proba")


@pytest.fixture(scope="module", params=[2, 3])
def fitted(request):
    X, y = make_classification(
        200, 6, n_informative=4, n_classes=request.param, random_state=0
    )
    models = {
        multi: SGDLogisticClassifier(
            multi_class=multi, max_iter=5, tol=None, random_state=0
        ).fit(X, y)
        for multi in ("ovr", "multinomial")
    }
    return X, models


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("order", ["C", "F"])
def test_fast_path_equals_the_validating_path(fitted, method, dtype, order):
    X, models = fitted
    for model in models.values():
        for rows in (X[:1], X[:7], X):
            A = np.array(rows, dtype=dtype, order=order)
            assert model._plain_scores(A) is not None  # the fast path is taken
            fast = getattr(model, method)(A)
            slow = getattr(model, method)(sp.csr_matrix(A))  # validated
            assert fast.dtype == slow.dtype
            np.testing.assert_allclose(
                fast, slow, rtol=1e-12 if dtype == np.float64 else 1e-5, atol=1e-12
            )
            if method == "predict":
                assert_array_equal(fast, slow)


@pytest.mark.parametrize("method", METHODS)
def test_inputs_the_fast_path_does_not_take_still_raise(fitted, method):
    X, models = fitted
    model = models["ovr"]
    call = getattr(model, method)
    with pytest.raises(ValueError, match="features"):
        call(X[:1, :-1])  # wrong width
    with pytest.raises(ValueError, match="2D array"):
        call(X[0])  # 1-D
    with pytest.raises(ValueError, match="NaN"):
        call(np.where(np.eye(1, X.shape[1]) > 0, np.nan, X[:1]))
    with pytest.raises(ValueError, match="0 sample"):
        call(X[:0])
    with pytest.raises(ValueError, match="overflow"):
        call(np.full((1, X.shape[1]), 1e308))
    with pytest.raises(NotFittedError):
        getattr(SGDLogisticClassifier(), method)(X[:1])


def test_feature_names_are_still_checked():
    X, y = make_classification(100, 4, random_state=0)
    frame = pd.DataFrame(X, columns=list("abcd"))
    model = SGDLogisticClassifier(max_iter=3, tol=None).fit(frame, y)
    with pytest.warns(UserWarning, match="feature names"):
        model.predict(X[:1])  # fitted with names, called without
    with pytest.raises(ValueError, match="feature names"):
        model.predict(frame[list("dcba")])
    plain = SGDLogisticClassifier(max_iter=3, tol=None).fit(X, y)
    with pytest.warns(UserWarning, match="feature names"):
        plain.predict(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain.predict(X[:1])  # no warning on the fast path


def test_score_is_accuracy_score_and_skips_its_checks_on_plain_input(
    fitted, monkeypatch
):
    import sklearn.metrics

    X, models = fitted
    for model in models.values():
        _check_score(model, X, monkeypatch, sklearn.metrics)


def _check_score(model, X, monkeypatch, metrics):
    y = model.predict(X)
    y[::3] = model.classes_[0]  # some wrong
    expected = metrics.accuracy_score(y, model.predict(X))
    weights = np.linspace(0.5, 2.0, len(y))
    weighted = metrics.accuracy_score(y, model.predict(X), sample_weight=weights)
    calls = []
    original = metrics.accuracy_score

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(metrics, "accuracy_score", counting)
    got = model.score(X, y)
    assert got == expected and type(got) is float
    assert calls == []  # the plain path
    # Everything else through accuracy_score, with the same result.
    assert model.score(X.tolist(), y) == expected
    assert model.score(X, y.tolist()) == expected
    assert model.score(X, y, sample_weight=weights) == weighted
    assert model.score(sp.csr_matrix(X), y) == expected
    assert len(calls) == 4
    with pytest.raises(ValueError):
        model.score(X, y[:-1])
    with pytest.raises(ValueError, match="continuous"):
        model.score(X, y + 0.5)
    monkeypatch.undo()
