"""sgdclf: logistic regression by stochastic gradient descent, fast and exact."""

from ._classifier import SGDLogisticClassifier

__all__ = ["SGDLogisticClassifier"]
__version__ = "0.1.0"
