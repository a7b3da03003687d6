"""sgdclf.save / sgdclf.load of pipelines and other scikit-learn composites."""

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_array_equal
from sklearn.compose import ColumnTransformer, make_column_selector
from sklearn.datasets import load_digits, make_classification
from sklearn.feature_selection import VarianceThreshold
from sklearn.impute import MissingIndicator, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline, make_union
from sklearn.preprocessing import (
    Binarizer,
    FunctionTransformer,
    KBinsDiscretizer,
    LabelBinarizer,
    MaxAbsScaler,
    MinMaxScaler,
    Normalizer,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    RobustScaler,
    StandardScaler,
)
from skops import io as skops_io

import sgdclf
from sgdclf import SGDLogisticClassifier
from sgdclf._persist import estimator_types


def round_trip(model, tmp_path, name="model.skops"):
    path = tmp_path / name
    sgdclf.save(model, path)
    return sgdclf.load(path)


def test_the_readme_quick_start_pipeline_round_trips(tmp_path):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    pipe = make_pipeline(StandardScaler(), SGDLogisticClassifier(random_state=0))
    pipe.fit(X_train, y_train)
    loaded = round_trip(pipe, tmp_path)
    assert type(loaded) is Pipeline
    assert [type(step) for _, step in loaded.steps] == [
        StandardScaler,
        SGDLogisticClassifier,
    ]
    assert_array_equal(loaded.predict_proba(X_test), pipe.predict_proba(X_test))
    assert_array_equal(loaded.predict(X_test), pipe.predict(X_test))
    assert loaded.score(X_test, y_test) == pipe.score(X_test, y_test)
    assert loaded[-1].get_params() == pipe[-1].get_params()
    # Training goes on as with the original.
    X_more = loaded[0].transform(X_test)
    assert_array_equal(
        loaded[-1].partial_fit(X_more, y_test).coef_,
        pipe[-1].partial_fit(X_more, y_test).coef_,
    )


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    n = 300
    df = pd.DataFrame(
        {
            "age": rng.normal(40, 12, n),
            "income": rng.lognormal(10, 1, n),
            "city": rng.choice(["Lyon", "Oslo", "Pune", "Lima"], n),
            "plan": rng.choice(["free", "pro"], n),
        }
    )
    df.loc[rng.random(n) < 0.1, "age"] = np.nan
    score = (df["age"].fillna(40) - 40) / 12 + (df["city"] == "Oslo") * 1.5
    y = np.where(score + rng.normal(0, 0.5, n) > 0.3, "yes", "no")
    return df, y


def test_a_column_transformer_pipeline_on_a_dataframe_round_trips(tmp_path, frame):
    df, y = frame
    columns = ColumnTransformer(
        [
            ("categories", OneHotEncoder(handle_unknown="ignore"), ["city", "plan"]),
            ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), ["age"]),
        ],
        remainder="passthrough",  # income, through a fitted FunctionTransformer
    )
    pipe = make_pipeline(
        columns, SGDLogisticClassifier(multi_class="multinomial", random_state=0)
    ).fit(df, y)
    loaded = round_trip(pipe, tmp_path)
    assert_array_equal(loaded.predict_proba(df), pipe.predict_proba(df))
    assert_array_equal(loaded.feature_names_in_, pipe.feature_names_in_)
    assert_array_equal(
        loaded[:-1].get_feature_names_out(), pipe[:-1].get_feature_names_out()
    )
    unseen = df.head(3).assign(city="Rome", age=np.nan)
    assert_array_equal(loaded.predict_proba(unseen), pipe.predict_proba(unseen))


def test_columns_chosen_by_dtype_round_trip(tmp_path, frame):
    df, y = frame
    columns = ColumnTransformer(
        [
            ("categories", OneHotEncoder(), make_column_selector(dtype_include=object)),
            (
                "numbers",
                make_pipeline(SimpleImputer(strategy="median"), RobustScaler()),
                make_column_selector(dtype_include=np.number),
            ),
        ]
    )
    pipe = make_pipeline(columns, SGDLogisticClassifier(random_state=0))
    df = df.astype({"city": object, "plan": object})
    pipe.fit(df, y)
    loaded = round_trip(pipe, tmp_path)
    assert_array_equal(loaded.predict_proba(df), pipe.predict_proba(df))


def _digits_like():
    X, y = make_classification(
        200, 6, n_informative=4, n_classes=3, random_state=0, shift=2.0
    )
    return X, y


@pytest.mark.parametrize(
    "steps",
    [
        [StandardScaler()],
        [MinMaxScaler()],
        [MaxAbsScaler()],
        [RobustScaler()],
        [Normalizer()],
        [Binarizer(threshold=2.0), VarianceThreshold()],
        [KBinsDiscretizer(n_bins=4, strategy="uniform")],
        [OrdinalEncoder(), StandardScaler()],
        [OneHotEncoder(handle_unknown="ignore", max_categories=5)],
        [
            make_union(
                make_pipeline(SimpleImputer(), StandardScaler()),
                MissingIndicator(features="all"),
            )
        ],
        [SimpleImputer(strategy="constant", fill_value=0.0), FunctionTransformer()],
    ],
    ids=lambda steps: "+".join(type(s).__name__ for s in steps),
)
def test_every_transformer_on_the_allow_list_round_trips(tmp_path, steps):
    X, y = _digits_like()
    X[::7, 2] = np.nan if isinstance(steps[0], (SimpleImputer, FeatureUnion)) else 0
    if isinstance(steps[0], OrdinalEncoder | OneHotEncoder):
        X = np.round(X)
    pipe = make_pipeline(*steps, SGDLogisticClassifier(random_state=0)).fit(X, y)
    loaded = round_trip(pipe, tmp_path)
    assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


def test_the_allow_list_is_what_the_round_trips_cover():
    # A type added to the allow-list gets a round trip above (or here).
    covered = {
        SGDLogisticClassifier,
        Pipeline,
        FeatureUnion,
        ColumnTransformer,
        make_column_selector,
        OneVsRestClassifier,
        StandardScaler,
        MinMaxScaler,
        MaxAbsScaler,
        RobustScaler,
        Normalizer,
        Binarizer,
        OneHotEncoder,
        OrdinalEncoder,
        KBinsDiscretizer,
        FunctionTransformer,
        SimpleImputer,
        MissingIndicator,
        VarianceThreshold,
        LabelBinarizer,  # in OneVsRestClassifier
    }
    assert set(estimator_types()) == covered


def test_one_vs_rest_around_sgdclf_round_trips(tmp_path):
    X, y = _digits_like()
    ovr = OneVsRestClassifier(SGDLogisticClassifier(random_state=0)).fit(X, y)
    pipe = make_pipeline(StandardScaler(), ovr).fit(X, y)
    loaded = round_trip(pipe, tmp_path)
    assert_array_equal(loaded.predict_proba(X), pipe.predict_proba(X))


# ------------------------------------------------- anything else is refused


def _dumped(tmp_path, model, name="crafted.skops"):
    """``model`` written by skops itself, as anyone can (save refuses it)."""
    path = tmp_path / name
    skops_io.dump(model, path)
    return path


@pytest.fixture
def nothing_is_built(monkeypatch):
    """Fail the test if skops is asked to build (or even audit) anything."""

    def refuse(*args, **kwargs):
        raise AssertionError("skops was called on a file load should refuse")

    monkeypatch.setattr(skops_io, "load", refuse)
    monkeypatch.setattr(skops_io, "get_untrusted_types", refuse)


@pytest.mark.parametrize(
    "step, named, save_says",
    [
        (PolynomialFeatures(), "PolynomialFeatures", "PolynomialFeatures"),
        (
            FunctionTransformer(np.log1p),
            r"numpy\.(core\._multiarray_umath\.)?log1p \(FunctionNode\)",  # numpy < 2
            r"FunctionTransformer at steps\[1\]\[1\] holds func",
        ),
        (
            FunctionTransformer(feature_names_out=np.char.upper),
            r"numpy\..*upper \(FunctionNode\)",
            "holds feature_names_out",
        ),
    ],
    ids=["PolynomialFeatures", "a function", "a feature-names function"],
)
def test_a_type_off_the_allow_list_inside_a_pipeline_is_refused(
    tmp_path, step, named, save_says, nothing_is_built
):
    X, y = _digits_like()
    pipe = make_pipeline(MaxAbsScaler(), step, SGDLogisticClassifier())
    pipe.fit(np.abs(X), y)
    path = _dumped(tmp_path, pipe)
    with pytest.raises(ValueError, match=rf"{path} holds types .*{named}"):
        sgdclf.load(path)
    with pytest.raises(TypeError, match=save_says):
        sgdclf.save(pipe, tmp_path / "saved.skops")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crafted.skops"]


def _rewrite_schema(path, change):
    """Rewrite the schema of the file at ``path`` with ``change(schema)``."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    schema = json.loads(members["schema.json"])
    change(schema)
    members["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)


def _first_step(schema):
    """The node of a pipeline's first step (steps[0][1])."""
    return schema["content"]["content"]["steps"]["content"][0]["content"][1]


@pytest.mark.parametrize(
    "node, named",
    [
        # A function, where a step was.
        (
            {"__class__": "system", "__module__": "os", "__loader__": "FunctionNode"},
            r"os\.system \(FunctionNode\)",
        ),
        # An allowed name built as something else: a bound method, a class
        # called with arguments, a type (not an instance).
        (
            {
                "__class__": "StandardScaler",
                "__module__": "sklearn.preprocessing._data",
                "__loader__": "MethodNode",
                "content": {"func": "fit", "obj": None},
            },
            r"StandardScaler \(MethodNode\)",
        ),
        (
            {
                "__class__": "StandardScaler",
                "__module__": "sklearn.preprocessing._data",
                "__loader__": "ConstructorFromReduceNode",
                "content": None,
            },
            r"StandardScaler \(ConstructorFromReduceNode\)",
        ),
        (
            {
                "__class__": "StandardScaler",
                "__module__": "sklearn.preprocessing._data",
                "__loader__": "TypeNode",
            },
            r"StandardScaler \(TypeNode\)",
        ),
        (
            {"__class__": "getoutput", "__module__": "subprocess"},
            r"subprocess\.getoutput \(None\)",
        ),
    ],
    ids=["function", "method", "constructor call", "class", "no loader"],
)
def test_a_crafted_node_inside_a_pipeline_is_refused_before_anything_is_built(
    tmp_path, node, named, nothing_is_built
):
    X, y = _digits_like()
    pipe = make_pipeline(StandardScaler(), SGDLogisticClassifier()).fit(X, y)
    path = _dumped(tmp_path, pipe)

    def replace_first_step(schema):
        _first_step(schema).clear()
        _first_step(schema).update(node)

    _rewrite_schema(path, replace_first_step)
    with pytest.raises(ValueError, match=rf"{path} holds types .*{named}"):
        sgdclf.load(path)


def test_a_file_without_sgdclf_is_refused(tmp_path, nothing_is_built):
    X, y = _digits_like()
    path = _dumped(
        tmp_path, make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    )
    with pytest.raises(ValueError, match=rf"{path} holds types .*LogisticRegression"):
        sgdclf.load(path)
    scaler = _dumped(tmp_path, make_pipeline(StandardScaler()).fit(X), "s.skops")
    with pytest.raises(ValueError, match=rf"{scaler} holds no SGDLogisticClassifier"):
        sgdclf.load(scaler)
    with pytest.raises(TypeError, match="holds no SGDLogisticClassifier"):
        sgdclf.save(make_pipeline(StandardScaler()).fit(X), tmp_path / "x.skops")


def test_a_function_transformer_holding_a_class_is_refused_after_building(
    tmp_path,
):
    # str is on the allow-list (as a dict key type), so the schema passes;
    # the built FunctionTransformer would call it: refused before returning.
    X, y = _digits_like()
    pipe = make_pipeline(FunctionTransformer(), SGDLogisticClassifier()).fit(X, y)
    pipe[0].func = str
    path = _dumped(tmp_path, pipe)
    with pytest.raises(ValueError, match=rf"{path} .*steps\[0\]\[1\] holds func"):
        sgdclf.load(path)
    with pytest.raises(TypeError, match="holds func"):
        sgdclf.save(pipe, tmp_path / "x.skops")


def test_a_pipeline_with_a_cache_directory_is_refused(tmp_path):
    X, y = _digits_like()
    pipe = make_pipeline(StandardScaler(), SGDLogisticClassifier()).fit(X, y)
    pipe.memory = str(tmp_path / "cache")
    with pytest.raises(TypeError, match="memory=.*set memory=None"):
        sgdclf.save(pipe, tmp_path / "x.skops")
    path = _dumped(tmp_path, pipe)
    with pytest.raises(ValueError, match=rf"{path} .*Pipeline at the top caches"):
        sgdclf.load(path)


# ------------------------------------------ every sgdclf model inside is checked


@pytest.mark.parametrize(
    "change, field",
    [
        (dict(coef_=np.zeros((3, 5))), "coef_"),
        (dict(intercept_=np.array([0.0, np.nan, 0.0])), "intercept_"),
        (dict(classes_=np.array([2, 1, 0])), "classes_"),
        (dict(t_=-1.0), "t_"),
        (dict(penalty="evil"), "penalty"),
    ],
)
def test_a_bad_sgdclf_state_inside_a_pipeline_is_refused(tmp_path, change, field):
    X, y = _digits_like()
    pipe = make_pipeline(StandardScaler(), SGDLogisticClassifier(max_iter=3, tol=None))
    pipe.fit(X, y)
    for name, value in change.items():
        setattr(pipe[-1], name, value)
    path = _dumped(tmp_path, pipe)
    with pytest.raises(
        ValueError,
        match=rf"{path} holds an inconsistent model at steps\[1\]\[1\]: "
        rf".*{field}",
    ):
        sgdclf.load(path)


def test_each_one_vs_rest_model_is_checked_and_bounded(tmp_path):
    X, y = _digits_like()
    ovr = OneVsRestClassifier(SGDLogisticClassifier(max_iter=3, tol=None)).fit(X, y)
    path = tmp_path / "ovr.skops"
    sgdclf.save(ovr, path)
    assert sgdclf.load(path, max_weights=6).n_features_in_ == 6
    with pytest.raises(
        ValueError, match=r"declares 6 weights per array at estimators_\[0\]"
    ):
        sgdclf.load(path, max_weights=5)
    ovr.estimators_[2].coef_ = np.zeros((2, 6))  # a binary model with 2 rows
    path = _dumped(tmp_path, ovr)
    with pytest.raises(
        ValueError, match=r"inconsistent model at estimators_\[2\]: coef_"
    ):
        sgdclf.load(path)
