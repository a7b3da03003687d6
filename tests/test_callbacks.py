"""scikit-learn's callbacks (set_callbacks, scikit-learn >= 1.9): a task per epoch."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.metrics import get_scorer
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sgdclf import SGDLogisticClassifier

callback = pytest.importorskip("sklearn.callback")


@pytest.fixture(scope="module")
def data():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


class Recorder:
    """Records every hook call (name, task name); may ask to stop after
    ``stop_after`` epochs."""

    def __init__(self, stop_after=None):
        self.calls = []
        self.stop_after = stop_after
        self.models = []

    def setup(self, estimator, context):
        self.calls.append(("setup", None))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", None))

    def on_fit_task_begin(self, estimator, context, *, X=None, y=None):
        self.calls.append(("begin", context.task_name))

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None):
        self.calls.append(("end", context.task_name))
        if context.task_name == "epoch" and fitted_estimator is not None:
            self.models.append(fitted_estimator)
            return self.stop_after is not None and len(self.models) >= self.stop_after
        return False

    def count(self, hook, task=None):
        return sum(
            1 for h, t in self.calls if h == hook and (task is None or t == task)
        )


class PropagatedRecorder(Recorder):
    max_propagation_depth = None


@pytest.mark.parametrize("solver", ["sgd", "saga"])
def test_a_task_per_epoch_with_the_model_so_far(data, solver):
    X, y = data
    recorder = Recorder()
    clf = SGDLogisticClassifier(solver=solver, max_iter=4, tol=None, random_state=0)
    clf.set_callbacks(recorder).fit(X, y)
    assert recorder.count("setup") == recorder.count("teardown") == 1
    assert recorder.count("begin", "fit") == recorder.count("end", "fit") == 1
    assert recorder.count("begin", "epoch") == recorder.count("end", "epoch") == 4
    # Each epoch's model is the model after that epoch: the last is the fit's.
    assert [m.n_iter_ for m in recorder.models] == [1, 2, 3, 4]
    np.testing.assert_array_equal(recorder.models[-1].coef_, clf.coef_)
    np.testing.assert_array_equal(
        recorder.models[-1].predict_proba(X), clf.predict_proba(X)
    )
    # ... and copies: an earlier epoch's model is not the final one.
    assert not np.array_equal(recorder.models[0].coef_, clf.coef_)
    assert not hasattr(clf, "_callback_fit_ctx")


def test_scoring_monitor_records_a_score_per_epoch(data):
    X, y = data
    monitor = callback.ScoringMonitor(scoring="neg_log_loss")
    clf = SGDLogisticClassifier(max_iter=5, tol=None, random_state=0)
    clf.set_callbacks(monitor).fit(X, y)
    rows = monitor.get_logs().data
    epochs = [r for r in rows if r["task_name"] == "epoch"]
    assert len(epochs) == 5
    # The score of the model after the last epoch: the fit's.
    assert epochs[-1]["neg_log_loss"] == get_scorer("neg_log_loss")(clf, X, y)
    assert epochs[0]["neg_log_loss"] != epochs[-1]["neg_log_loss"]


@pytest.mark.parametrize("solver", ["sgd", "saga"])
def test_a_stop_request_ends_the_fit_with_the_model_so_far(data, solver):
    X, y = data
    params = dict(solver=solver, max_iter=50, tol=None, random_state=0)
    stopped = SGDLogisticClassifier(**params).set_callbacks(Recorder(stop_after=3))
    stopped.fit(X, y)  # (no ConvergenceWarning: tol=None)
    assert stopped.n_iter_ == 3
    three = SGDLogisticClassifier(**{**params, "max_iter": 3}).fit(X, y)
    np.testing.assert_array_equal(stopped.coef_, three.coef_)
    np.testing.assert_array_equal(stopped.intercept_, three.intercept_)
    assert stopped.t_ == three.t_


def test_propagated_by_pipeline_and_grid_search():
    X, y = load_iris(return_X_y=True)
    recorder = PropagatedRecorder()
    pipe = make_pipeline(
        StandardScaler(), SGDLogisticClassifier(max_iter=3, tol=None, random_state=0)
    )
    pipe.set_callbacks(recorder).fit(X, y)
    assert recorder.count("begin", "epoch") == recorder.count("end", "epoch") == 3
    assert recorder.count("begin", "fit") >= 2  # the pipeline's and ours

    recorder = PropagatedRecorder()
    search = GridSearchCV(
        SGDLogisticClassifier(max_iter=2, tol=None, random_state=0),
        {"alpha": [1e-4, 1e-3]},
        cv=3,
    )
    search.set_callbacks(recorder).fit(X, y)
    # 2 candidates x 3 folds + the refit, 2 epochs each.
    assert recorder.count("end", "epoch") == (2 * 3 + 1) * 2


def test_no_callbacks_no_tasks(data, monkeypatch):
    X, y = data
    clf = SGDLogisticClassifier(max_iter=2, tol=None)

    def fail(*args, **kwargs):
        raise AssertionError("a callback context was made without callbacks")

    monkeypatch.setattr(SGDLogisticClassifier, "_init_callback_context", fail)
    clf.fit(X, y)


def test_a_search_without_callbacks_makes_no_tasks(data, monkeypatch):
    # GridSearchCV hands its task context to every fit, callbacks or not.
    X, y = data
    made = []
    real = SGDLogisticClassifier._init_callback_context

    def spy(self, *args, **kwargs):
        made.append(self)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(SGDLogisticClassifier, "_init_callback_context", spy)
    grid = {"alpha": [1e-4, 1e-3]}
    base = SGDLogisticClassifier(max_iter=2, tol=None, random_state=0)
    GridSearchCV(base, grid, cv=2).fit(X, y)
    assert made == []

    # A callback of the search that is not propagated still sees the fits'
    # tasks in its task tree.
    recorder = Recorder()
    GridSearchCV(base, grid, cv=2).set_callbacks(recorder).fit(X, y)
    assert len(made) == 2 * 2 + 1
    assert recorder.count("end", "epoch") == 0  # (our tasks, not its hooks)


def test_progress_bar_needs_rich_as_scikit_learn_says(data):
    X, y = data
    try:
        import rich  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="rich"):
            callback.ProgressBar()
        return
    clf = SGDLogisticClassifier(max_iter=3, tol=None, random_state=0)
    clf.set_callbacks(callback.ProgressBar()).fit(X, y)
    assert clf.n_iter_ == 3
