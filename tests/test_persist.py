"""sgdclf.save / sgdclf.load (skops)."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from skops import io as skops_io
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

import sgdclf
from sgdclf import SGDLogisticClassifier


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(300, 8, n_informative=5, n_classes=3, random_state=0)
    return X, np.array(["a", "b", "c"])[y]


@pytest.mark.parametrize("params", [
    dict(),
    dict(multi_class="multinomial", average=True),
    dict(learning_rate="adagrad", penalty="l1", eta0=0.1),
])
def test_round_trip_gives_the_same_model(tmp_path, data, params):
    X, y = data
    model = SGDLogisticClassifier(random_state=0, max_iter=5, tol=None, **params)
    model.fit(X, y)
    path = tmp_path / "model.skops"
    sgdclf.save(model, path)
    loaded = sgdclf.load(path)
    assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert_array_equal(loaded.classes_, model.classes_)
    assert loaded.get_params() == model.get_params()
    # Training continues where it stopped, as with the original.
    assert_array_equal(loaded.partial_fit(X, y).coef_, model.partial_fit(X, y).coef_)


def test_load_refuses_other_types(tmp_path, data):
    X, y = data
    path = tmp_path / "other.skops"
    skops_io.dump(LogisticRegression().fit(X, y), path)
    with pytest.raises(ValueError, match="LogisticRegression"):
        sgdclf.load(path)
    text = tmp_path / "model.txt"
    text.write_text("not a model")
    with pytest.raises(ValueError, match="not a skops file"):
        sgdclf.load(text)


def test_save_refuses_other_objects_and_leaves_no_file(tmp_path, data, monkeypatch):
    with pytest.raises(TypeError, match="SGDLogisticClassifier"):
        sgdclf.save(LogisticRegression(), tmp_path / "x.skops")
    X, y = data
    model = SGDLogisticClassifier(max_iter=2, tol=None).fit(X, y)

    def broken_dump(obj, file):
        file.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(skops_io, "dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        sgdclf.save(model, tmp_path / "model.skops")
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary


def test_sparsified_model_round_trips_and_subclasses_are_refused(tmp_path, data):
    X, y = data
    model = SGDLogisticClassifier(penalty="l1", alpha=0.01, max_iter=5, tol=None,
                                  random_state=0).fit(X, y).sparsify()
    sgdclf.save(model, tmp_path / "sparse.skops")
    loaded = sgdclf.load(tmp_path / "sparse.skops")
    assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))

    class Custom(SGDLogisticClassifier):
        pass

    with pytest.raises(TypeError, match="exactly"):
        sgdclf.save(Custom().fit(X, y), tmp_path / "custom.skops")
