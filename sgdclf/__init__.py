"""sgdclf: logistic regression by stochastic gradient descent, fast and exact."""

from ._classifier import SGDLogisticClassifier
from ._onnx import to_onnx
from ._persist import load, save

__all__ = ["SGDLogisticClassifier", "load", "save", "to_onnx"]
__version__ = "0.1.0"
