"""Pipelines and grid searches on scikit-learn's bundled data, side by side
with SGDClassifier(loss="log_loss")."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sgdclf import SGDLogisticClassifier

LOADERS = {"digits": load_digits, "breast_cancer": load_breast_cancer}
SEEDS = range(5)


def _split(name):
    X, y = LOADERS[name](return_X_y=True)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def _median_accuracy(make, name):
    X_tr, X_te, y_tr, y_te = _split(name)
    scores = [
        make_pipeline(StandardScaler(), make(seed)).fit(X_tr, y_tr).score(X_te, y_te)
        for seed in SEEDS
    ]
    return float(np.median(scores))


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_pipeline_accuracy_matches_sgdclassifier(name):
    ours = _median_accuracy(lambda s: SGDLogisticClassifier(random_state=s), name)
    theirs = _median_accuracy(
        lambda s: SGDClassifier(loss="log_loss", random_state=s), name
    )
    assert ours >= theirs - 0.01, (ours, theirs)


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_grid_search_in_parallel(name):
    X_tr, X_te, y_tr, y_te = _split(name)
    pipe = make_pipeline(StandardScaler(), SGDLogisticClassifier(random_state=0))
    grid = GridSearchCV(
        pipe,
        {
            "sgdlogisticclassifier__alpha": [1e-4, 1e-3, 1e-2],
            "sgdlogisticclassifier__average": [False, True],
        },
        cv=3,
        n_jobs=2,
        scoring="neg_log_loss",
    ).fit(X_tr, y_tr)
    assert set(grid.best_params_) == {
        "sgdlogisticclassifier__alpha",
        "sgdlogisticclassifier__average",
    }
    assert np.isfinite(grid.cv_results_["mean_test_score"]).all()
    baseline = SGDClassifier(loss="log_loss", random_state=0)
    base_score = (
        make_pipeline(StandardScaler(), baseline).fit(X_tr, y_tr).score(X_te, y_te)
    )
    assert grid.score(X_te, y_te) < 0  # neg log-loss
    assert grid.best_estimator_.score(X_te, y_te) >= base_score - 0.02
