"""ONNX export of pipelines: sgdclf.to_onnx and skl2onnx's registry."""

import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import sgdclf
from sgdclf import SGDLogisticClassifier

onnxruntime = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")

RTOL = {np.float64: 1e-6, np.float32: 1e-5}
CASES = [(2, "ovr"), (3, "ovr"), (4, "multinomial")]


def session(onnx_model):
    return onnxruntime.InferenceSession(
        onnx_model.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def outputs(onnx_model, feed):
    """{output name: value} for ``feed`` ({input name: array})."""
    run = session(onnx_model)
    return dict(
        zip([o.name for o in run.get_outputs()], run.run(None, feed), strict=True)
    )


def data(n_classes, dtype, labels="int"):
    X, y = make_classification(
        400, 7, n_informative=5, n_classes=n_classes, random_state=0
    )
    X = (X * [1, 10, 100, 0.1, 1, 5, 50] + 3).astype(dtype)  # scaling matters
    if labels == "str":
        y = np.array(["ant", "bee", "cat", "dog"])[y]
    return X, y


@pytest.mark.parametrize("n_classes, multi_class", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_quick_start_pipeline_matches_predict_proba(n_classes, multi_class, dtype):
    X, y = data(n_classes, dtype)
    pipe = make_pipeline(
        StandardScaler(), SGDLogisticClassifier(multi_class=multi_class, random_state=0)
    ).fit(X, y)
    onnx_model = sgdclf.to_onnx(pipe)
    [input_] = session(onnx_model).get_inputs()
    assert input_.name == "X"
    assert input_.type == ("tensor(double)" if dtype == np.float64 else "tensor(float)")
    assert input_.shape[1] == 7
    got = outputs(onnx_model, {"X": X})
    assert got["probabilities"].dtype == dtype
    assert_allclose(got["probabilities"], pipe.predict_proba(X), rtol=RTOL[dtype])
    assert_array_equal(got["label"], pipe.predict(X))


@pytest.mark.parametrize("n_classes, multi_class", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_skl2onnx_converts_a_pipeline_through_the_registered_converter(
    n_classes, multi_class, dtype
):
    X, y = data(n_classes, dtype, labels="str")
    pipe = make_pipeline(
        StandardScaler(), SGDLogisticClassifier(multi_class=multi_class, random_state=0)
    ).fit(X, y)
    sgdclf.register_onnx_converter()
    sgdclf.register_onnx_converter()  # again: changes nothing
    onnx_model = skl2onnx.to_onnx(
        pipe, X[:1], options={SGDLogisticClassifier: {"zipmap": False}}
    )
    got = outputs(onnx_model, {"X": X})
    assert_allclose(got["probabilities"], pipe.predict_proba(X), rtol=RTOL[dtype])
    assert_array_equal(got["label"], pipe.predict(X))
    if dtype == np.float32:  # ZipMap, skl2onnx's default, takes float32 only
        got = outputs(skl2onnx.to_onnx(pipe, X[:1]), {"X": X})
        rows = got["output_probability"]
        assert [sorted(row) for row in rows[:1]] == [sorted(pipe.classes_)]
        assert_allclose(
            [[row[c] for c in pipe.classes_] for row in rows],
            pipe.predict_proba(X),
            rtol=RTOL[dtype],
        )
        assert_array_equal(got["output_label"], pipe.predict(X))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_bare_model_through_skl2onnx_equals_sgdclf_to_onnx(dtype):
    X, y = data(3, dtype)
    model = SGDLogisticClassifier(random_state=0).fit(X / 100, y)
    sgdclf.register_onnx_converter()
    ours = outputs(sgdclf.to_onnx(model), {"X": X / 100})
    theirs = outputs(
        skl2onnx.to_onnx(
            model, X[:1], options={SGDLogisticClassifier: {"zipmap": False}}
        ),
        {"X": X / 100},
    )
    assert_array_equal(theirs["probabilities"], ours["probabilities"])
    assert_array_equal(theirs["label"], ours["label"])


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame(
        {
            "age": rng.normal(40, 12, n),
            "income": rng.lognormal(10, 1, n),
            "city": rng.choice(["Lyon", "Oslo", "Pune", "Lima"], n),
        }
    )
    score = (df["age"] - 40) / 12 + (df["city"] == "Oslo") * 1.5
    y = np.where(score + rng.normal(0, 0.5, n) > 0.3, "yes", "no")
    return df, y


def feed_of(df):
    """onnxruntime's feed for a DataFrame: one [n, 1] array per column."""
    return {
        name: df[[name]]
        .to_numpy()
        .astype(object if column.dtype.kind in "OT" else None)
        for name, column in df.items()
    }


@pytest.mark.parametrize("multi_class", ["ovr", "multinomial"])
def test_a_column_transformer_pipeline_on_a_dataframe(frame, multi_class):
    df, y = frame
    columns = ColumnTransformer(
        [
            ("city", OneHotEncoder(handle_unknown="ignore"), ["city"]),
            ("numbers", StandardScaler(), ["age", "income"]),
        ]
    )
    pipe = make_pipeline(
        columns, SGDLogisticClassifier(multi_class=multi_class, random_state=0)
    ).fit(df, y)
    onnx_model = sgdclf.to_onnx(pipe, df.head())
    inputs = {i.name: i.type for i in session(onnx_model).get_inputs()}
    assert inputs == {
        "age": "tensor(double)",
        "income": "tensor(double)",
        "city": "tensor(string)",
    }
    unseen = df.head(5).assign(city="Rome")
    for rows in (df, unseen):
        got = outputs(onnx_model, feed_of(rows))
        assert_allclose(got["probabilities"], pipe.predict_proba(rows), rtol=1e-6)
        assert_array_equal(got["label"], pipe.predict(rows))
    with pytest.raises(ValueError, match="pass X=a few rows"):
        sgdclf.to_onnx(pipe)
    with pytest.raises(ValueError, match="dtype"):
        sgdclf.to_onnx(pipe, df.head(), dtype=np.float32)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_hot_and_imputed_columns_of_an_array(dtype):
    # An array input: columns chosen by position; categories are numbers.
    X, y = data(3, dtype)
    X[:, 0] = np.round(np.abs(X[:, 0]))
    numbers = [StandardScaler()]
    if dtype == np.float32:  # onnxruntime's Imputer runs on float32 only
        X[::9, 3] = np.nan
        numbers.insert(0, SimpleImputer())
    columns = ColumnTransformer(
        [
            ("code", OneHotEncoder(handle_unknown="ignore"), [0]),
            ("numbers", make_pipeline(*numbers), [1, 2, 3]),
        ],
        remainder="drop",
    )
    pipe = make_pipeline(columns, SGDLogisticClassifier(random_state=0)).fit(X, y)
    onnx_model = sgdclf.to_onnx(pipe, X[:2])
    got = outputs(onnx_model, {"X": X})
    assert got["probabilities"].dtype == dtype
    assert_allclose(got["probabilities"], pipe.predict_proba(X), rtol=RTOL[dtype])
    assert_array_equal(got["label"], pipe.predict(X))


def test_the_input_type_follows_the_sample_or_the_dtype_parameter():
    X, y = data(2, np.float64)
    pipe = make_pipeline(StandardScaler(), SGDLogisticClassifier(random_state=0))
    pipe.fit(X, y)

    def input_type(*args, **kwargs):
        return session(sgdclf.to_onnx(pipe, *args, **kwargs)).get_inputs()[0].type

    assert input_type() == "tensor(double)"  # the weights' dtype
    assert input_type(X[:1].astype(np.float32)) == "tensor(float)"
    assert input_type(dtype=np.float32) == "tensor(float)"
    assert input_type(X[:1].astype(np.int64)) == "tensor(double)"
    float32 = outputs(sgdclf.to_onnx(pipe, dtype="float32"), {"X": X.astype("f4")})
    assert_allclose(
        float32["probabilities"], pipe.predict_proba(X.astype("f4")), rtol=1e-5
    )
    with pytest.raises(ValueError, match="float32 or float64"):
        sgdclf.to_onnx(pipe, dtype=np.int32)
    with pytest.raises(ValueError, match=r"shape \(n_samples, 7\)"):
        sgdclf.to_onnx(pipe, X[:1, :3])


def test_what_is_not_a_pipeline_ending_in_sgdclf_is_refused():
    from sklearn.linear_model import LogisticRegression

    X, y = data(2, np.float64)
    other = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    with pytest.raises(TypeError, match="register_onnx_converter"):
        sgdclf.to_onnx(other)
    with pytest.raises(ValueError, match="fit"):
        sgdclf.to_onnx(make_pipeline(StandardScaler(), SGDLogisticClassifier()))


@pytest.mark.parametrize("labels", ["bool", "float"])
def test_skl2onnx_labels_of_bool_and_float_classes_are_int64(labels):
    # skl2onnx's convention (scikit-learn's classifiers take integral floats
    # only); sgdclf.to_onnx keeps bool and double labels.
    X, y = data(2, np.float32)
    y = y == 1 if labels == "bool" else y * 2.0
    pipe = make_pipeline(StandardScaler(), SGDLogisticClassifier(random_state=0))
    pipe.fit(X, y)
    sgdclf.register_onnx_converter()
    options = {SGDLogisticClassifier: {"zipmap": False}}
    got = outputs(skl2onnx.to_onnx(pipe, X[:1], options=options), {"X": X})
    assert got["label"].dtype == np.int64
    assert_array_equal(got["label"], pipe.predict(X))
    ours = outputs(sgdclf.to_onnx(pipe[-1]), {"X": pipe[0].transform(X)})
    assert ours["label"].dtype == (bool if labels == "bool" else np.float64)
    assert_array_equal(ours["label"], pipe.predict(X))


def test_skl2onnx_options_and_integer_inputs():
    X, y = make_classification(400, 7, n_informative=5, n_classes=3, random_state=0)
    X = np.round(X * 3).astype(np.int64)  # skl2onnx casts it: float32 from here
    y = np.array(["ant", "bee", "cat"])[y]
    model = SGDLogisticClassifier(random_state=0).fit(X, y)
    sgdclf.register_onnx_converter()

    def convert(**options):
        onnx_model = skl2onnx.to_onnx(
            model, X[:1], options={SGDLogisticClassifier: options}
        )
        return outputs(onnx_model, {"X": X})

    got = convert(zipmap=False)
    assert got["probabilities"].dtype == np.float32
    # A float32 computation of a float64 model (its weights rounded to
    # float32): relative errors grow with the scores, here up to ~40, and
    # probabilities below float32's range are 0.
    assert_allclose(got["probabilities"], model.predict_proba(X), 1e-4, 1e-30)
    assert_array_equal(got["label"], model.predict(X))
    nocl = convert(zipmap=False, nocl=True)
    assert_array_equal(model.classes_[nocl["label"]], model.predict(X))
    assert_array_equal(
        convert(zipmap=False, output_class_labels=True)["class_labels"],
        model.classes_,
    )
    columns = convert(zipmap="columns")
    assert_allclose(
        np.column_stack([columns[f"s{c}"] for c in model.classes_]),
        model.predict_proba(X),
        1e-4,
        1e-30,
    )


def test_a_bare_model_is_exported_without_skl2onnx(tmp_path):
    script = """
import sys
import numpy as np
import sgdclf
X = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
model = sgdclf.SGDLogisticClassifier().fit(X, [0, 1, 0, 1])
sgdclf.to_onnx(model)
print("skl2onnx" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["False"]


def test_the_readme_examples_run_after_the_quick_start(tmp_path, monkeypatch):
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    save = next(b for b in blocks if "sgdclf.save(pipe" in b)
    export = next(b for b in blocks if "sgdclf.to_onnx(pipe)" in b)
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for name, block in [("quick start", blocks[0]), ("save", save), ("onnx", export)]:
        exec(compile(block, f"README {name}", "exec"), namespace)
    assert (tmp_path / "pipe.skops").exists()
    pipe, X_test = namespace["pipe"], namespace["X_test"]
    # (atol: onnxruntime's softmax may leave a subnormal where ours gives 0)
    assert_allclose(
        namespace["proba"], pipe.predict_proba(X_test), rtol=1e-6, atol=1e-30
    )
    assert_array_equal(namespace["label"], pipe.predict(X_test))
