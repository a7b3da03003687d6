"""sgdclf: logistic regression by stochastic gradient descent, fast and exact."""

from ._classifier import SGDLogisticClassifier
from ._persist import load, save

__all__ = ["SGDLogisticClassifier", "load", "save"]
__version__ = "0.1.0"
