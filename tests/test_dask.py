"""DaskSGDLogisticClassifier on a distributed LocalCluster with 2 worker processes."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

import sgdclf
from sgdclf import SGDLogisticClassifier
from sgdclf._training import held_out_mask

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
from sgdclf.dask import DaskSGDLogisticClassifier  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(8000, 20, n_informative=10, n_classes=3, random_state=0)
    X = (X - X.mean(0)) / X.std(0)
    return train_test_split(X, y, test_size=0.25, random_state=0)


def blocks(client, X, y, rows=1500):
    Xd = da.from_array(X, chunks=(rows, X.shape[1]))
    yd = da.from_array(y, chunks=rows)
    return client.persist(Xd), client.persist(yd)


@pytest.mark.parametrize("multi_class", ["ovr", "multinomial"])
def test_fits_on_both_workers_and_matches_in_memory_accuracy(client, data, multi_class):
    X_tr, X_te, y_tr, y_te = data
    Xd, yd = blocks(client, X_tr, y_tr)
    params = dict(multi_class=multi_class, average=True, random_state=0, max_iter=20)
    with distributed.get_task_stream(client) as stream:
        model = DaskSGDLogisticClassifier(**params).fit(Xd, yd)
    workers = {
        task["worker"] for task in stream.data if "_local_epoch" in str(task["key"])
    }
    assert len(workers) == 2
    local = SGDLogisticClassifier(**params).fit(X_tr, y_tr)
    assert model.score(X_te, y_te) >= local.score(X_te, y_te) - 0.01


def test_deterministic_for_a_seed_and_block_layout(client, data):
    X_tr, _, y_tr, _ = data
    Xd, yd = blocks(client, X_tr, y_tr)
    a = DaskSGDLogisticClassifier(random_state=3, max_iter=5, tol=None).fit(Xd, yd)
    b = DaskSGDLogisticClassifier(random_state=3, max_iter=5, tol=None).fit(Xd, yd)
    assert_array_equal(a.coef_, b.coef_)
    assert a.n_iter_ == 5


def test_predictions_are_lazy_for_dask_and_arrays_for_numpy(client, data):
    X_tr, X_te, y_tr, y_te = data
    Xd, yd = blocks(client, X_tr, y_tr)
    model = DaskSGDLogisticClassifier(random_state=0, max_iter=5).fit(Xd, yd)
    Xt = da.from_array(X_te, chunks=(500, X_te.shape[1]))
    methods = ("predict", "predict_proba", "predict_log_proba", "decision_function")
    for method in methods:
        lazy = getattr(model, method)(Xt)
        assert isinstance(lazy, da.Array)
        assert_array_equal(lazy.compute(), getattr(model, method)(X_te))
        assert isinstance(getattr(model, method)(X_te), np.ndarray)


def test_to_local_is_a_plain_model(client, data, tmp_path):
    X_tr, X_te, y_tr, _ = data
    Xd, yd = blocks(client, X_tr, y_tr)
    model = DaskSGDLogisticClassifier(random_state=0, max_iter=5).fit(Xd, yd)
    local = model.to_local()
    assert type(local) is SGDLogisticClassifier
    assert_array_equal(local.predict_proba(X_te), model.predict_proba(X_te))
    assert_array_equal(pickle.loads(pickle.dumps(local)).coef_, local.coef_)
    sgdclf.save(local, tmp_path / "m.skops")
    assert_array_equal(sgdclf.load(tmp_path / "m.skops").coef_, local.coef_)


def test_bad_inputs(client, data):
    X_tr, _, y_tr, _ = data
    Xd = da.from_array(X_tr, chunks=(1500, 10))  # chunked along the columns too
    yd = da.from_array(y_tr, chunks=1500)
    with pytest.raises(ValueError, match="chunked by rows only"):
        DaskSGDLogisticClassifier().fit(Xd, yd)
    X_bad = X_tr.copy()
    X_bad[4000, 3] = np.nan
    Xd, yd = blocks(client, X_bad, y_tr)
    with pytest.raises(ValueError, match=r"block 2 \(rows 3000-4499 of X\).*NaN"):
        DaskSGDLogisticClassifier(max_iter=2).fit(Xd, yd)
    with pytest.raises(TypeError, match="dask array"):
        DaskSGDLogisticClassifier().fit(X_tr, y_tr)
    Xd, yd = blocks(client, X_tr, y_tr)
    with pytest.raises(ValueError, match="solver='sgd' only"):
        DaskSGDLogisticClassifier(solver="saga").fit(Xd, yd)


def test_sgdlogisticclassifier_inside_dask_ml_incremental(client, data):
    incremental = pytest.importorskip("dask_ml.wrappers").Incremental
    X_tr, X_te, y_tr, y_te = data
    Xd, yd = blocks(client, X_tr, y_tr)
    wrapped = incremental(SGDLogisticClassifier(random_state=0), scoring="accuracy")
    wrapped.fit(Xd, yd, classes=np.unique(y_tr))
    assert wrapped.score(da.from_array(X_te), da.from_array(y_te)) > 0.5


def test_early_stopping_on_held_out_rows(client, data):
    X_tr, X_te, y_tr, y_te = data
    Xd, yd = blocks(client, X_tr, y_tr)
    model = DaskSGDLogisticClassifier(
        early_stopping=True, n_iter_no_change=2, random_state=0, max_iter=200
    ).fit(Xd, yd)
    assert 2 < model.n_iter_ < 200
    assert model.score(X_te, y_te) > 0.6


def test_binary_dataframe_input(client):
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    X, y = make_classification(3000, 6, random_state=1)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    Xd = dd.from_pandas(frame, npartitions=3)
    yd = dd.from_pandas(pd.Series(y), npartitions=3)
    model = DaskSGDLogisticClassifier(random_state=0, max_iter=10).fit(Xd, yd)
    assert model.coef_.shape == (1, 6)
    assert model.score(X, y) > 0.8
    assert isinstance(model.predict(Xd), da.Array)


def test_unknown_chunk_sizes_are_reported(client, data):
    X_tr, _, y_tr, _ = data
    Xd = da.from_array(X_tr, chunks=(1500, X_tr.shape[1]))
    Xd = Xd[Xd[:, 0] > -100]  # a boolean mask leaves the row counts unknown
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        DaskSGDLogisticClassifier().fit(Xd, da.from_array(y_tr, chunks=1500))


# ---------------------------------------------------------------- review fixes


def small(client, rows=500, n=2000, dtype=np.float64, chunks=None):
    X, y = make_classification(n, 5, n_informative=3, n_redundant=0, random_state=2)
    X = X.astype(dtype)
    Xd = da.from_array(X, chunks=(chunks or rows, 5))
    yd = da.from_array(y, chunks=(chunks or rows,))
    return X, y, Xd, yd


def test_round_objective_is_unweighted_like_the_in_memory_one():
    # Round 1 scores the zero model (uniform: log K per row); later rounds
    # score the mixed model. Both must ignore sample weights (as the
    # in-memory objective does), or weights above 1 make round 1 look best
    # and tol stops after n_iter_no_change rounds.
    from sklearn.metrics import log_loss

    from sgdclf.dask import _local_epoch

    X, y = make_classification(400, 5, random_state=2)
    weights = np.full(len(y), 10.0)
    params = SGDLogisticClassifier(random_state=0).get_params()
    first = _local_epoch(params, None, X, y, weights, np.unique(y), 0, (0, 0), 0.0)
    assert first["loss"] == pytest.approx(len(y) * np.log(2))
    second = _local_epoch(
        params, first["state"], X, y, weights, np.unique(y), 1, (0, 0), 0.0
    )
    model = SGDLogisticClassifier().fit(X, y)
    model.__dict__.update(first["state"])
    unweighted = log_loss(y, model.predict_proba(X), normalize=False)
    assert second["loss"] == pytest.approx(unweighted)


def test_warm_start_and_coef_init_start_from_the_given_model(client):
    X, y, Xd, yd = small(client)
    params = dict(random_state=0, max_iter=3, tol=None)
    first = DaskSGDLogisticClassifier(**params).fit(Xd, yd)
    fresh = DaskSGDLogisticClassifier(**params).fit(Xd, yd)
    warm = DaskSGDLogisticClassifier(warm_start=True, **params).fit(Xd, yd).fit(Xd, yd)
    init = DaskSGDLogisticClassifier(**params).fit(
        Xd, yd, coef_init=first.coef_, intercept_init=first.intercept_
    )
    assert_array_equal(first.coef_, fresh.coef_)
    assert not np.array_equal(warm.coef_, fresh.coef_)
    assert_array_equal(warm.coef_, init.coef_)


def test_integer_average_with_uneven_blocks_picks_one_of_the_models(client):
    X, y = make_classification(2000, 5, random_state=2)
    Xd = da.from_array(X, chunks=((100, 1900), (5,)))
    yd = da.from_array(y, chunks=((100, 1900),))
    model = DaskSGDLogisticClassifier(
        average=500, max_iter=1, tol=None, random_state=0
    ).fit(Xd, yd)
    assert np.array_equal(model.coef_, model._average_coef)


def test_empty_blocks_and_tiny_blocks_with_early_stopping(client):
    X, y = make_classification(2000, 5, random_state=2)
    Xd = da.from_array(X, chunks=((1000, 0, 1000), (5,)))
    yd = da.from_array(y, chunks=((1000, 0, 1000),))
    model = DaskSGDLogisticClassifier(random_state=0, max_iter=3).fit(Xd, yd)
    assert model.predict(Xd).compute().shape == (2000,)
    Xt = da.from_array(X[:40], chunks=(2, 5))
    yt = da.from_array(y[:40], chunks=2)
    DaskSGDLogisticClassifier(
        early_stopping=True, validation_fraction=0.5, random_state=0, max_iter=5
    ).fit(Xt, yt)


def test_float32_dtypes_agree_lazy_and_computed(client):
    X, y, Xd, yd = small(client, dtype=np.float32)
    model = DaskSGDLogisticClassifier(random_state=0, max_iter=3).fit(Xd, yd)
    for method in ("predict_proba", "predict_log_proba", "decision_function"):
        lazy = getattr(model, method)(Xd)
        assert lazy.dtype == lazy.compute().dtype == np.float32


def test_dataframe_with_series_sample_weight_and_independent_to_local(client):
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    X, y = make_classification(1500, 4, random_state=3)
    Xd = dd.from_pandas(pd.DataFrame(X, columns=list("abcd")), npartitions=3)
    yd = dd.from_pandas(pd.Series(y), npartitions=3)
    wd = dd.from_pandas(pd.Series(np.ones(len(y))), npartitions=3)
    model = DaskSGDLogisticClassifier(random_state=0, max_iter=3).fit(
        Xd, yd, sample_weight=wd
    )
    assert list(model.feature_names_in_) == list("abcd")
    before = model.coef_.copy()
    local = model.to_local()
    local.coef_ *= 0
    assert_array_equal(model.coef_, before)


# ---------------------------------------------------------------- hardening (issue 10)


@pytest.mark.parametrize("kind", ["int", "bool"])
@pytest.mark.parametrize("start", ["coef_init", "intercept_init", "warm_start"])
def test_integer_and_bool_X_train_in_float64_from_any_start(client, kind, start):
    # In memory, check_array turns int/bool X into float64 and the starting
    # weights take that dtype; the Dask fit cast them to X's dtype instead
    # (UFuncTypeError for int, TypeError for bool; 0.5 would have become 0).
    X, y = make_classification(1200, 5, n_informative=3, n_redundant=0, random_state=4)
    X = np.rint(3 * X).astype(np.int64) if kind == "int" else X > 0
    init = (
        dict(coef_init=np.full((1, 5), 0.5))
        if start == "coef_init"
        else (
            dict(intercept_init=np.array([0.25])) if start == "intercept_init" else {}
        )
    )
    params = dict(
        random_state=0, max_iter=3, tol=None, warm_start=start == "warm_start"
    )

    def fit(X):
        Xd = da.from_array(X, chunks=(400, 5))
        yd = da.from_array(y, chunks=400)
        model = DaskSGDLogisticClassifier(**params).fit(Xd, yd, **init)
        return model.fit(Xd, yd) if start == "warm_start" else model

    model, reference = fit(X), fit(X.astype(np.float64))
    assert model.coef_.dtype == model.intercept_.dtype == np.float64
    assert_array_equal(model.coef_, reference.coef_)
    assert_array_equal(model.intercept_, reference.intercept_)


def test_warm_start_with_only_coef_init_keeps_the_previous_intercept(client):
    # In memory, coef_init and intercept_init each default to the previous
    # fit's under warm_start; the Dask fit reset the intercept to zero.
    X, y, Xd, yd = small(client)
    params = dict(random_state=0, max_iter=3, tol=None)
    warm = DaskSGDLogisticClassifier(warm_start=True, **params).fit(Xd, yd)
    previous = warm.intercept_.copy()
    coef = np.full((1, 5), 0.1)
    warm.fit(Xd, yd, coef_init=coef)
    cold = DaskSGDLogisticClassifier(**params).fit(
        Xd, yd, coef_init=coef, intercept_init=previous
    )
    assert_array_equal(warm.coef_, cold.coef_)
    assert_array_equal(warm.intercept_, cold.intercept_)


def test_a_block_of_zero_weights_takes_the_penalty_steps_only(client):
    # In memory, zero-weight rows are accepted: they steer nothing but take
    # the penalty's steps. The Dask fit failed ("Sample weights must contain
    # at least one non-zero number"); now such a block trains as those rows
    # do, so what its rows hold does not matter, and it is mixed by rows like
    # any block (see _mix for why not by total weight).
    X, y = make_classification(2000, 5, n_informative=3, n_redundant=0, random_state=5)
    weights = np.ones(len(y))
    weights[1500:] = 0  # the last of four blocks
    other_X, other_y = X.copy(), y.copy()
    rng = np.random.default_rng(0)
    other_X[1500:] = 100 * rng.normal(size=(500, 5))
    other_y[1500:] = rng.permutation(other_y[1500:])
    params = dict(random_state=0, max_iter=3, tol=None, average=True)

    def fit(X, y, weights):
        model = DaskSGDLogisticClassifier(**params)
        return model.fit(
            da.from_array(X, chunks=(500, 5)),
            da.from_array(y, chunks=500),
            sample_weight=da.from_array(weights, chunks=500),
        )

    a, b = fit(X, y, weights), fit(other_X, other_y, weights)
    assert_allclose(a.coef_, b.coef_, rtol=1e-12)
    assert_allclose(a.intercept_, b.intercept_, rtol=1e-12, atol=1e-300)
    assert a.t_ == b.t_ == 1 + 3 * 500
    local = SGDLogisticClassifier(**params).fit(X, y, sample_weight=weights)
    assert a.score(X[:1500], y[:1500]) > local.score(X[:1500], y[:1500]) - 0.05
    with pytest.raises(ValueError, match="at least one non-zero"):
        fit(X, y, np.zeros(len(y)))


def test_zero_weights_count_nothing_in_the_early_stopping_score():
    # In memory the held-out accuracy is weighted by sample_weight.
    from sgdclf.dask import _local_epoch

    X, y = make_classification(400, 5, random_state=2)
    params = SGDLogisticClassifier(random_state=0).get_params()
    first = _local_epoch(params, None, X, y, None, np.unique(y), 0, (0, 0), 0.2)
    weights = np.zeros(len(y))
    weights[:10] = 1.0
    second = _local_epoch(
        params, first["state"], X, y, weights, np.unique(y), 1, (0, 0), 0.2
    )
    held = np.flatnonzero(held_out_mask(np.arange(400), 0.2))
    assert second["validation_weight"] == np.sum(held < 10)
    assert second["mass"] == 10 - np.sum(held < 10)


def test_nan_in_held_out_rows_names_the_block_and_row(client):
    X, y = make_classification(1000, 5, random_state=0)
    row = 250 + np.flatnonzero(held_out_mask(np.arange(250, 500), 0.1))[0]
    X[row, 2] = np.nan
    Xd, yd = da.from_array(X, chunks=(250, 5)), da.from_array(y, chunks=250)
    model = DaskSGDLogisticClassifier(
        early_stopping=True, validation_fraction=0.1, random_state=0, max_iter=3
    )
    with pytest.raises(
        ValueError,
        match=(
            rf"block 1 \(rows 250-499 of X\).*NaN or infinity in row {row}, one of "
            r"the rows held out for early stopping.*impute.*disable early_stopping"
        ),
    ):
        model.fit(Xd, yd)


def test_labels_are_checked_as_in_memory_before_any_round(client):
    # A NaN label in block 0 was reported from another block, as "Input
    # contains NaN" (while checking classes there); continuous labels too.
    X, y, Xd, _ = small(client)
    labels = y.astype(float)
    labels[3] = np.nan
    for bad, message in [
        (labels, "^Input y contains NaN"),
        (X[:, 0], "^Unknown label type: continuous"),
    ]:
        with pytest.raises(ValueError, match=message):
            SGDLogisticClassifier().fit(X, bad)
        with pytest.raises(ValueError, match=message):
            DaskSGDLogisticClassifier().fit(Xd, da.from_array(bad, chunks=500))


def test_column_y_and_scalar_sample_weight_are_accepted_as_in_memory(client):
    from sklearn.exceptions import DataConversionWarning

    X, y, Xd, yd = small(client)
    params = dict(random_state=0, max_iter=2, tol=None)
    flat = DaskSGDLogisticClassifier(**params).fit(Xd, yd)
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        column = DaskSGDLogisticClassifier(**params).fit(Xd, yd[:, None])
    assert_array_equal(column.coef_, flat.coef_)
    ones = DaskSGDLogisticClassifier(**params).fit(Xd, yd, sample_weight=1.0)
    assert_array_equal(ones.coef_, flat.coef_)
    with pytest.raises(ValueError, match=r"sample_weight must be 1-D with 2000 rows"):
        DaskSGDLogisticClassifier(**params).fit(Xd, yd, sample_weight=np.ones(1999))


def test_nan_while_training_names_its_row_in_X(client):
    # Training reports the row among the rows it was given; with rows held
    # out for early stopping that was not the row of X.
    X, y = make_classification(1000, 5, random_state=0)
    train = np.flatnonzero(~held_out_mask(np.arange(250, 500), 0.3))
    row = 250 + train[100]
    X[row, 1] = np.inf
    Xd, yd = da.from_array(X, chunks=(250, 5)), da.from_array(y, chunks=250)
    model = DaskSGDLogisticClassifier(
        early_stopping=True, validation_fraction=0.3, random_state=0, max_iter=2
    )
    with pytest.raises(ValueError, match=rf"block 1 \(rows 250-499 of X\).*row {row};"):
        model.fit(Xd, yd)


def test_callbacks_see_a_task_per_round_and_can_stop_it(client, data):
    pytest.importorskip("sklearn.callback")
    X_tr, _, y_tr, _ = data
    Xd, yd = blocks(client, X_tr, y_tr)

    class StopAfterTwo:
        def __init__(self):
            self.rounds = []

        def setup(self, estimator, context):
            pass

        def teardown(self, estimator, context):
            pass

        def on_fit_task_begin(self, estimator, context):
            pass

        def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
            if context.task_name == "round":
                self.rounds.append(fitted_estimator.n_iter_)
                return len(self.rounds) == 2
            return False

    recorder = StopAfterTwo()
    model = DaskSGDLogisticClassifier(max_iter=10, tol=None, random_state=0)
    model.set_callbacks(recorder).fit(Xd, yd)
    assert recorder.rounds == [1, 2] and model.n_iter_ == 2
    two = DaskSGDLogisticClassifier(max_iter=2, tol=None, random_state=0).fit(Xd, yd)
    assert_array_equal(model.coef_, two.coef_)
