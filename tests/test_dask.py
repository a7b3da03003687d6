"""DaskSGDLogisticClassifier on a distributed LocalCluster with 2 worker processes."""

import pickle

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

import sgdclf
from sgdclf import SGDLogisticClassifier

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
from sgdclf.dask import DaskSGDLogisticClassifier  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                       processes=True, dashboard_address=None)
    with distributed.Client(cluster) as client:
        yield client
    cluster.close()


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(8000, 20, n_informative=10, n_classes=3,
                               random_state=0)
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
    workers = {task["worker"] for task in stream.data
               if "_local_epoch" in str(task["key"])}
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
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
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
    with pytest.raises(ValueError, match=r"block of rows 3000-4499.*NaN"):
        DaskSGDLogisticClassifier(max_iter=2).fit(Xd, yd)
    with pytest.raises(TypeError, match="dask array"):
        DaskSGDLogisticClassifier().fit(X_tr, y_tr)


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
    model = DaskSGDLogisticClassifier(early_stopping=True, n_iter_no_change=2,
                                      random_state=0, max_iter=200).fit(Xd, yd)
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
