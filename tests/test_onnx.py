"""sgdclf.to_onnx: onnxruntime reproduces predict_proba and predict."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification

import sgdclf
from sgdclf import SGDLogisticClassifier

onnxruntime = pytest.importorskip("onnxruntime")

RTOL = {np.float64: 1e-6, np.float32: 1e-5}


def run(onnx_model, X):
    session = onnxruntime.InferenceSession(
        onnx_model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(["label", "probabilities"], {"X": X})


@pytest.mark.parametrize(
    "n_classes, multi_class",
    [
        (2, "ovr"),
        (3, "ovr"),
        (4, "multinomial"),
    ],
)
@pytest.mark.parametrize("labels", ["int", "str", "bool"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_onnxruntime_matches_predict_proba(n_classes, multi_class, labels, dtype):
    X, y = make_classification(
        400, 7, n_informative=5, n_classes=n_classes, random_state=0
    )
    X = X.astype(dtype)
    if labels == "str":
        y = np.array(["ant", "bee", "cat", "dog"])[y]
    if labels == "bool":
        if n_classes != 2:
            pytest.skip("bool labels have two classes")
        y = y.astype(bool)
    model = SGDLogisticClassifier(multi_class=multi_class, random_state=0).fit(X, y)
    label, proba = run(sgdclf.to_onnx(model), X)
    assert proba.dtype == dtype
    assert_allclose(proba, model.predict_proba(X), rtol=RTOL[dtype])
    assert_array_equal(label, model.predict(X))


def test_extreme_scores_stay_finite():
    X, y = make_classification(
        100, 3, n_informative=3, n_redundant=0, n_classes=3, random_state=0
    )
    model = SGDLogisticClassifier(max_iter=2, tol=None).fit(X, y)
    model.coef_ = np.zeros_like(model.coef_)
    model.intercept_ = np.array([-1000.0, -1001.0, -1003.0])  # every sigmoid is 0
    _, proba = run(sgdclf.to_onnx(model), X[:2])
    assert np.isfinite(proba).all()
    assert_allclose(proba, model.predict_proba(X[:2]), rtol=1e-9)


@pytest.mark.parametrize("dtype, reach", [(np.float64, 700), (np.float32, 80)])
def test_binary_probabilities_are_exact_in_the_tails(dtype, reach):
    # onnxruntime's Sigmoid gave 0 for sigmoid(-700) and 9e-8 for a float32
    # sigmoid(-17) (4e-8); the graph computes softmax([-s/2, s/2]) instead.
    X = np.linspace(-reach, reach, 2001, dtype=dtype)[:, np.newaxis]
    model = SGDLogisticClassifier(max_iter=2, tol=None).fit(X, X[:, 0] > 0)
    model.coef_ = np.ones((1, 1), dtype=dtype)
    model.intercept_ = np.zeros(1, dtype=dtype)
    label, proba = run(sgdclf.to_onnx(model), X)
    assert_allclose(proba, model.predict_proba(X), rtol=RTOL[dtype])
    assert_array_equal(label, model.predict(X))


def test_unfitted_and_wrong_objects_are_rejected():
    with pytest.raises(ValueError, match="fit"):
        sgdclf.to_onnx(SGDLogisticClassifier())
    with pytest.raises(TypeError, match="SGDLogisticClassifier"):
        sgdclf.to_onnx(object())


def test_label_follows_the_scores_when_float32_probabilities_saturate():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 4)).astype(np.float32)
    y = np.argmax(X[:, :3], axis=1)
    model = SGDLogisticClassifier(random_state=0).fit(X, y)
    X_big = X * 20  # margins of ~100: sigmoids saturate to 1 in float32
    label, _ = run(sgdclf.to_onnx(model), X_big)
    assert_array_equal(label, model.predict(X_big))
