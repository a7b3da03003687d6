"""scikit-learn's estimator checks on several configurations."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sgdclf import SGDLogisticClassifier

# The same two checks scikit-learn marks as expected failures for SGDClassifier:
# SGD visits a weighted example once, a repeated example several times, so the
# iterates differ (the optimum is the same, the path is not).
SAMPLE_WEIGHT_XFAIL = {
    "check_sample_weight_equivalence_on_dense_data": (
        "sample_weight is not equivalent to removing/repeating samples."
    ),
    "check_sample_weight_equivalence_on_sparse_data": (
        "sample_weight is not equivalent to removing/repeating samples."
    ),
}

ESTIMATORS = [
    SGDLogisticClassifier(),
    SGDLogisticClassifier(penalty="elasticnet", average=True, random_state=0),
    SGDLogisticClassifier(learning_rate="adaptive", eta0=0.1, penalty="l1"),
    SGDLogisticClassifier(early_stopping=True, n_jobs=2, class_weight="balanced"),
    SGDLogisticClassifier(learning_rate="invscaling", eta0=0.5, tol=None, max_iter=20),
]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: SAMPLE_WEIGHT_XFAIL)
def test_sklearn_compatible(estimator, check):
    check(estimator)
