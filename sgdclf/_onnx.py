"""Export a fitted SGDLogisticClassifier to ONNX (optional: pip install "sgdclf[onnx]").

The graph is written directly with onnx.helper rather than through
skl2onnx's generic linear-classifier converter, whose binary probabilities
are wrong for classifiers other than LogisticRegression. It computes what
predict_proba computes:

    scores = X @ coef_.T + intercept_
    binary       [sigmoid(-s), sigmoid(s)]
    one-vs-rest  softmax(log sigmoid(scores)) = sigmoids normalised to sum 1,
                 stable when every sigmoid underflows (log sigmoid computed as
                 min(s, 0) - log(1 + exp(-|s|)))
    multinomial  softmax(scores)

Outputs: "label" (the classes_ entry predict gives: the largest score, or for
two classes whether the score is positive) and "probabilities" (n_samples x
n_classes, in the order of classes_).
"""

import numpy as np
import scipy.sparse as sp

from ._classifier import SGDLogisticClassifier


def to_onnx(model, *, dtype=None, opset=17):
    """ONNX model (an ``onnx.ModelProto``) computing ``model``'s predictions.

    Parameters
    ----------
    model : fitted SGDLogisticClassifier
    dtype : numpy float dtype, default: the model's (float32 or float64)
        Element type of the input X and of the computation.
    opset : int, default=17
        ONNX operator set version.
    """
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as exc:
        raise ImportError(
            'to_onnx needs the onnx package: pip install "sgdclf[onnx]"'
        ) from exc
    if not isinstance(model, SGDLogisticClassifier):
        raise TypeError(
            f"to_onnx expects an SGDLogisticClassifier, got {type(model).__name__}."
        )
    if not hasattr(model, "coef_"):
        raise ValueError("to_onnx needs a fitted model: call fit first.")
    coef = model.coef_.toarray() if sp.issparse(model.coef_) else model.coef_
    dtype = np.dtype(dtype or coef.dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}.")
    element = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
    n_features = coef.shape[1]
    classes = model.classes_
    if classes.dtype.kind == "b":
        class_values, label_type = classes.astype(bool), TensorProto.BOOL
    elif classes.dtype.kind in "iu":
        class_values, label_type = classes.astype(np.int64), TensorProto.INT64
    elif classes.dtype.kind == "f":
        class_values, label_type = classes.astype(np.float64), TensorProto.DOUBLE
    else:
        class_values = np.array([str(c) for c in classes], dtype=object)
        label_type = TensorProto.STRING

    def const(name, value):
        return numpy_helper.from_array(np.asarray(value), name=name)

    initializers = [
        const("weights", np.ascontiguousarray(coef.T, dtype=dtype)),
        const("intercept", np.asarray(model.intercept_, dtype=dtype)),
        const("classes", class_values),
    ]
    nodes = [
        helper.make_node("MatMul", ["X", "weights"], ["product"]),
        helper.make_node("Add", ["product", "intercept"], ["scores"]),
    ]
    if coef.shape[0] == 1:
        nodes += [
            helper.make_node("Neg", ["scores"], ["negated"]),
            helper.make_node("Sigmoid", ["negated"], ["p_negative"]),
            helper.make_node("Sigmoid", ["scores"], ["p_positive"]),
            helper.make_node(
                "Concat", ["p_negative", "p_positive"], ["probabilities"], axis=1
            ),
        ]
    elif model.multi_class == "multinomial":
        nodes.append(helper.make_node("Softmax", ["scores"], ["probabilities"], axis=1))
    else:
        # log sigmoid(s) = min(s, 0) - log(1 + exp(-|s|)) (onnxruntime has no
        # double Softplus); a softmax of these normalises the sigmoids.
        initializers += [
            const("zero", np.zeros((), dtype=dtype)),
            const("one", np.ones((), dtype=dtype)),
        ]
        nodes += [
            helper.make_node("Abs", ["scores"], ["magnitude"]),
            helper.make_node("Neg", ["magnitude"], ["minus_magnitude"]),
            helper.make_node("Exp", ["minus_magnitude"], ["tail"]),
            helper.make_node("Add", ["tail", "one"], ["one_plus_tail"]),
            helper.make_node("Log", ["one_plus_tail"], ["log_one_plus_tail"]),
            helper.make_node("Min", ["scores", "zero"], ["clipped"]),
            helper.make_node("Sub", ["clipped", "log_one_plus_tail"], ["log_sigmoid"]),
            helper.make_node("Softmax", ["log_sigmoid"], ["probabilities"], axis=1),
        ]
    # The label comes from the scores, as predict's does (saturated float32
    # probabilities can tie where the scores do not).
    if coef.shape[0] == 1:
        initializers.append(const("zero_score", np.zeros((), dtype=dtype)))
        nodes += [
            helper.make_node("Greater", ["scores", "zero_score"], ["positive"]),
            helper.make_node(
                "Cast", ["positive"], ["positive_index"], to=TensorProto.INT64
            ),
            helper.make_node("Squeeze", ["positive_index", "squeeze_axis"], ["index"]),
        ]
        initializers.append(const("squeeze_axis", np.array([1], dtype=np.int64)))
    else:
        nodes.append(
            helper.make_node("ArgMax", ["scores"], ["index"], axis=1, keepdims=0)
        )
    nodes.append(helper.make_node("Gather", ["classes", "index"], ["label"], axis=0))
    graph = helper.make_graph(
        nodes,
        "sgdclf",
        inputs=[helper.make_tensor_value_info("X", element, [None, n_features])],
        outputs=[
            helper.make_tensor_value_info("label", label_type, [None]),
            helper.make_tensor_value_info(
                "probabilities", element, [None, len(classes)]
            ),
        ],
        initializer=initializers,
    )
    onnx_model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="sgdclf",
    )
    onnx.checker.check_model(onnx_model)
    return onnx_model
