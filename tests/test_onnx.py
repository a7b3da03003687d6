"""sgdclf.to_onnx: onnxruntime reproduces predict_proba and predict."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification

import sgdclf
from sgdclf import SGDLogisticClassifier

onnxruntime = pytest.importorskip("onnxruntime")


def run(onnx_model, X):
    session = onnxruntime.InferenceSession(onnx_model.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    return session.run(["label", "probabilities"], {"X": X})


@pytest.mark.parametrize("n_classes, multi_class", [
    (2, "ovr"), (3, "ovr"), (4, "multinomial"),
])
@pytest.mark.parametrize("labels", ["int", "str"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_onnxruntime_matches_predict_proba(n_classes, multi_class, labels, dtype):
    X, y = make_classification(400, 7, n_informative=5, n_classes=n_classes,
                               random_state=0)
    X = X.astype(dtype)
    if labels == "str":
        y = np.array(["ant", "bee", "cat", "dog"])[y]
    model = SGDLogisticClassifier(multi_class=multi_class, random_state=0).fit(X, y)
    label, proba = run(sgdclf.to_onnx(model), X)
    assert proba.dtype == dtype
    assert_allclose(proba, model.predict_proba(X), rtol=1e-5, atol=1e-6)
    assert_array_equal(label, model.predict(X))


def test_extreme_scores_stay_finite():
    X, y = make_classification(100, 3, n_informative=3, n_redundant=0, n_classes=3,
                               random_state=0)
    model = SGDLogisticClassifier(max_iter=2, tol=None).fit(X, y)
    model.coef_ = np.zeros_like(model.coef_)
    model.intercept_ = np.array([-1000.0, -1001.0, -1003.0])  # every sigmoid is 0
    _, proba = run(sgdclf.to_onnx(model), X[:2])
    assert np.isfinite(proba).all()
    assert_allclose(proba, model.predict_proba(X[:2]), rtol=1e-9)


def test_unfitted_and_wrong_objects_are_rejected():
    with pytest.raises(ValueError, match="fit"):
        sgdclf.to_onnx(SGDLogisticClassifier())
    with pytest.raises(TypeError, match="SGDLogisticClassifier"):
        sgdclf.to_onnx(object())
