"""sgdclf: logistic regression by stochastic gradient descent, fast and exact."""

import importlib
from typing import TYPE_CHECKING

__all__ = [
    "SGDLogisticClassifier",
    "load",
    "register_onnx_converter",
    "save",
    "to_onnx",
]
__version__ = "0.1.0"

# The public names are imported when first used (PEP 562): `import sgdclf`
# loads nothing else, the estimator loads scikit-learn, save and load load
# skops, to_onnx onnx (and skl2onnx for a pipeline), register_onnx_converter
# skl2onnx. The command line lives in this package too, and parses
# its arguments (and answers --help) before any of them is imported.
_HOME = {
    "SGDLogisticClassifier": "_classifier",
    "load": "_persist",
    "save": "_persist",
    "to_onnx": "_onnx",
    "register_onnx_converter": "_onnx",
}

if TYPE_CHECKING:
    from ._classifier import SGDLogisticClassifier
    from ._onnx import register_onnx_converter, to_onnx
    from ._persist import load, save


def __getattr__(name):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value  # later look-ups do not come here
    return value


def __dir__():
    return sorted([*__all__, "__version__"])
