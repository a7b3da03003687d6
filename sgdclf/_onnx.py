"""Export to ONNX (optional: pip install "sgdclf[onnx]").

A bare SGDLogisticClassifier is written directly with onnx.helper; a pipeline
goes through skl2onnx, whose converter registry gets sgdclf's converter
(``register_onnx_converter``). Both emit the same nodes for the classifier
(``_classifier_nodes``), not skl2onnx's generic linear-classifier converter,
whose binary probabilities are wrong for classifiers other than
LogisticRegression. They compute what predict_proba computes:

    scores = X @ coef_.T + intercept_
    binary       [sigmoid(-s), sigmoid(s)], as softmax([-s/2, s/2])
    one-vs-rest  softmax(log sigmoid(scores)) = sigmoids normalised to sum 1,
                 stable when every sigmoid underflows (log sigmoid computed as
                 min(s, 0) - log(1 + exp(-|s|)))
    multinomial  softmax(scores)

in the element type of the classifier's input (float32 or float64). Outputs:
"label" (the classes_ entry predict gives: the largest score, or for two
classes whether the score is positive) and "probabilities" (n_samples x
n_classes, in the order of classes_).
"""

import numpy as np
import scipy.sparse as sp

from ._classifier import SGDLogisticClassifier

# The name of the single input of a graph whose input is one array.
INPUT_NAME = "X"
# skl2onnx's name for the converter (the library name, then the model's).
_ALIAS = "SgdclfSGDLogisticClassifier"
_OPSET = 17


def to_onnx(model, X=None, *, dtype=None, opset=None):
    """ONNX model (an ``onnx.ModelProto``) computing ``model``'s predictions.

    Parameters
    ----------
    model : fitted SGDLogisticClassifier, or a fitted scikit-learn Pipeline
        whose last step is one (its other steps converted by skl2onnx:
        StandardScaler, OneHotEncoder, ColumnTransformer, SimpleImputer...)
    X : array-like or pandas DataFrame, optional
        A few rows like those ``predict`` takes; they set the inputs. An array
        gives one input named ``"X"``, of shape [None, n_features] and of X's
        dtype when it is float32 or float64. A DataFrame (pipelines only)
        gives one input per column, named after it, of shape [None, 1] and of
        the column's type (float, int64 or string), as skl2onnx guesses them.
        Without X: one input ``"X"`` of shape [None, n_features_in_].
    dtype : float32 or float64, optional
        Element type of the input ``"X"`` and of the computation. Default:
        X's dtype when it is float32 or float64, else the dtype of the
        classifier's weights (float32 when it was trained on float32 data,
        else float64).
    opset : int, optional
        ONNX operator set version; default 17.

    Returns
    -------
    onnx.ModelProto
        Outputs ``"label"`` (n_samples,) and ``"probabilities"`` (n_samples x
        n_classes, in the order of ``classes_``, of the computation's type).
        With onnxruntime::

            session = onnxruntime.InferenceSession(onnx_model.SerializeToString())
            label, proba = session.run(None, {"X": X_test})
    """
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(
            'to_onnx needs the onnx package: pip install "sgdclf[onnx]"'
        ) from exc
    classifier = _final_classifier(model)
    if not hasattr(classifier, "coef_"):
        raise ValueError("to_onnx needs a fitted model: call fit first.")
    opset = _OPSET if opset is None else opset
    if model is not classifier and hasattr(X, "columns") and hasattr(X, "dtypes"):
        if dtype is not None:
            raise ValueError(
                "dtype applies to the input X; a DataFrame's columns keep their "
                "types (convert them before calling to_onnx)."
            )
        onnx_model = _pipeline_graph(model, X, None, opset)
    else:
        dtype = _input_dtype(model, classifier, X, dtype)
        if model is classifier:
            onnx_model = _model_graph(classifier, dtype, opset)
        else:
            onnx_model = _pipeline_graph(model, None, dtype, opset)
    onnx.checker.check_model(onnx_model)
    return onnx_model


def _final_classifier(model):
    """The SGDLogisticClassifier that makes ``model``'s predictions."""
    final = model
    while hasattr(final, "steps") and isinstance(final.steps, list) and final.steps:
        final = final.steps[-1][1]
    if not isinstance(final, SGDLogisticClassifier):
        raise TypeError(
            "to_onnx expects an SGDLogisticClassifier or a Pipeline ending in "
            f"one, got {type(model).__name__}. For other models, call "
            "sgdclf.register_onnx_converter() and then skl2onnx.to_onnx."
        )
    return final


def _input_dtype(model, classifier, X, dtype):
    """The element type of the input "X" (see to_onnx)."""
    if X is not None:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != model.n_features_in_:
            raise ValueError(
                f"X must have shape (n_samples, {model.n_features_in_}) as the "
                f"model was fitted, got {X.shape}."
            )
        if dtype is None and X.dtype in (np.float32, np.float64):
            dtype = X.dtype
    dtype = np.dtype(classifier.coef_.dtype if dtype is None else dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}.")
    return dtype


def _model_graph(model, dtype, opset):
    from onnx import TensorProto, helper

    element = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
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
    graph = _Graph()
    _classifier_nodes(
        model, graph, INPUT_NAME, "label", "probabilities", dtype, class_values
    )
    onnx_graph = helper.make_graph(
        graph.nodes,
        "sgdclf",
        inputs=[
            helper.make_tensor_value_info(
                INPUT_NAME, element, [None, model.coef_.shape[1]]
            )
        ],
        outputs=[
            helper.make_tensor_value_info("label", label_type, [None]),
            helper.make_tensor_value_info(
                "probabilities", element, [None, len(classes)]
            ),
        ],
        initializer=graph.initializers,
    )
    return helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="sgdclf",
    )


def _pipeline_graph(model, frame, dtype, opset):
    try:
        import skl2onnx
        from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    except ImportError as exc:
        raise ImportError(
            'to_onnx needs skl2onnx to export a pipeline: pip install "sgdclf[onnx]"'
        ) from exc
    register_onnx_converter()
    if frame is not None:
        initial_types = None  # skl2onnx guesses one input per column
    else:
        tensor = DoubleTensorType if dtype == np.float64 else FloatTensorType
        initial_types = [(INPUT_NAME, tensor([None, model.n_features_in_]))]
    try:
        return skl2onnx.to_onnx(
            model,
            frame,
            initial_types=initial_types,
            target_opset=opset,
            options={SGDLogisticClassifier: {"zipmap": False}},
        )
    except RuntimeError as exc:
        if frame is None and "column name" in str(exc):
            raise ValueError(
                "the pipeline selects DataFrame columns by name: pass X=a few "
                "rows of such a DataFrame (the ONNX model then has one input "
                "per column)."
            ) from exc
        raise


class _Graph:
    """Nodes and initializers of a graph written with onnx.helper."""

    def __init__(self):
        self.nodes, self.initializers = [], []

    def const(self, name, value):
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.asarray(value), name=name))
        return name

    def node(self, op_type, inputs, seed=None, *, output=None, **attrs):
        """Add a node; its output is named ``output``, else ``seed``."""
        from onnx import helper

        output = output or seed
        self.nodes.append(helper.make_node(op_type, inputs, [output], **attrs))
        return output


class _Skl2onnxGraph:
    """The same interface, adding to skl2onnx's container with names unique
    in its scope (a pipeline's graph has other steps' nodes too)."""

    def __init__(self, scope, container):
        self.scope, self.container = scope, container

    def const(self, name, value):
        from onnx import numpy_helper

        unique = self.scope.get_unique_variable_name(name)
        value = np.asarray(value)
        if value.dtype == object:  # strings: the container copies raw data only
            from onnx import TensorProto

            strings = [str(v).encode() for v in value.ravel()]
            self.container.add_initializer(
                unique, TensorProto.STRING, list(value.shape), strings
            )
        else:
            tensor = numpy_helper.from_array(value, unique)
            self.container.add_initializer(unique, None, None, tensor)
        return unique

    def node(self, op_type, inputs, seed=None, *, output=None, **attrs):
        output = output or self.scope.get_unique_variable_name(seed)
        self.container.add_node(
            op_type,
            inputs,
            [output],
            name=self.scope.get_unique_operator_name(f"Sgdclf{op_type}"),
            **attrs,
        )
        return output


def _classifier_nodes(model, graph, X, label, probabilities, dtype, class_values):
    """Add the nodes computing ``model``'s label and probabilities from the
    input named ``X`` to ``graph``, in ``dtype``; the label is the entry of
    ``class_values`` (an array of the label output's type) that predict
    gives. ``label`` and ``probabilities`` are the outputs' names."""
    from onnx import TensorProto

    coef = model.coef_.toarray() if sp.issparse(model.coef_) else model.coef_
    weights = graph.const("weights", np.ascontiguousarray(coef.T, dtype=dtype))
    intercept = graph.const("intercept", np.asarray(model.intercept_, dtype=dtype))
    product = graph.node("MatMul", [X, weights], "product")
    scores = graph.node("Add", [product, intercept], "scores")
    if coef.shape[0] == 1:
        # [sigmoid(-s), sigmoid(s)] = softmax([-s/2, s/2]): onnxruntime's
        # Softmax is exact to rounding in the tails, its Sigmoid is not (it
        # gives 9e-8 for sigmoid(-17) in float32, 0 for sigmoid(-700)).
        half = graph.const("half", np.asarray(0.5, dtype=dtype))
        half_score = graph.node("Mul", [scores, half], "half_score")
        minus_half_score = graph.node("Neg", [half_score], "minus_half_score")
        both = graph.node("Concat", [minus_half_score, half_score], "both", axis=1)
        graph.node("Softmax", [both], output=probabilities, axis=1)
    elif model.multi_class == "multinomial":
        graph.node("Softmax", [scores], output=probabilities, axis=1)
    else:
        # log sigmoid(s) = min(s, 0) - log(1 + exp(-|s|)) (onnxruntime has no
        # double Softplus); a softmax of these normalises the sigmoids.
        zero = graph.const("zero", np.zeros((), dtype=dtype))
        one = graph.const("one", np.ones((), dtype=dtype))
        magnitude = graph.node("Abs", [scores], "magnitude")
        minus_magnitude = graph.node("Neg", [magnitude], "minus_magnitude")
        tail = graph.node("Exp", [minus_magnitude], "tail")
        one_plus_tail = graph.node("Add", [tail, one], "one_plus_tail")
        log_one_plus_tail = graph.node("Log", [one_plus_tail], "log_one_plus_tail")
        clipped = graph.node("Min", [scores, zero], "clipped")
        log_sigmoid = graph.node("Sub", [clipped, log_one_plus_tail], "log_sigmoid")
        graph.node("Softmax", [log_sigmoid], output=probabilities, axis=1)
    # The label comes from the scores, as predict's does (saturated float32
    # probabilities can tie where the scores do not).
    if coef.shape[0] == 1:
        zero_score = graph.const("zero_score", np.zeros((), dtype=dtype))
        positive = graph.node("Greater", [scores, zero_score], "positive")
        positive_index = graph.node(
            "Cast", [positive], "positive_index", to=TensorProto.INT64
        )
        flat = graph.const("flat", np.array([-1], dtype=np.int64))
        index = graph.node("Reshape", [positive_index, flat], "index")
    else:
        index = graph.node("ArgMax", [scores], "index", axis=1, keepdims=0)
    classes = graph.const("classes", class_values)
    graph.node("Gather", [classes, index], output=label, axis=0)


def register_onnx_converter():
    """Register sgdclf's ONNX converter with skl2onnx's converter registry.

    Afterwards ``skl2onnx.to_onnx`` converts an SGDLogisticClassifier wherever
    it sits in a scikit-learn pipeline or composite, with the same nodes as
    :func:`to_onnx`. It accepts skl2onnx's classifier options: ``zipmap``
    (default True: probabilities as a list of dicts named
    ``output_probability``; pass ``options={SGDLogisticClassifier:
    {"zipmap": False}}`` for the tensor ``probabilities``), ``nocl`` and
    ``output_class_labels``. skl2onnx's labels are int64 for integer and bool
    classes, strings otherwise. Calling it again changes nothing.
    """
    from skl2onnx import update_registered_converter

    update_registered_converter(
        SGDLogisticClassifier,
        _ALIAS,
        _shapes,
        _convert,
        options={
            "zipmap": [True, False, "columns"],
            "nocl": [True, False],
            "output_class_labels": [False, True],
        },
    )


def _shapes(operator):
    """skl2onnx shape calculator: a label and probabilities per row, the
    probabilities of the input's type (float32 for integer inputs)."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
    )

    calculate_linear_classifier_output_shapes(operator)
    probabilities = operator.outputs[1]
    double = isinstance(operator.inputs[0].type, DoubleTensorType)
    tensor = DoubleTensorType if double else FloatTensorType
    probabilities.set_type(tensor(probabilities.type.shape))


def _convert(scope, operator, container):
    """skl2onnx converter: ``operator.raw_operator`` is the fitted model."""
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType
    from skl2onnx.common.utils_classifier import get_label_classes

    model = operator.raw_operator
    X = operator.inputs[0]
    if isinstance(X.type, DoubleTensorType):
        dtype, name = np.float64, X.full_name
    else:
        # The input of a step whose output is float32 (OneHotEncoder's, say)
        # or integer: the model computes in float32 unless given float64.
        dtype, name = np.float32, X.full_name
        if not isinstance(X.type, FloatTensorType):
            from onnx import TensorProto

            cast = scope.get_unique_variable_name("cast_input")
            container.add_node(
                "Cast",
                [name],
                [cast],
                name=scope.get_unique_operator_name("SgdclfCast"),
                to=TensorProto.FLOAT,
            )
            name = cast
    classes = np.asarray(get_label_classes(scope, model))
    if classes.dtype.kind in "biuf":  # floats: scikit-learn's classifiers
        class_values = classes.astype(np.int64)  # take integral ones only
    else:
        class_values = np.array([str(c) for c in classes], dtype=object)
    _classifier_nodes(
        model,
        _Skl2onnxGraph(scope, container),
        name,
        operator.outputs[0].full_name,
        operator.outputs[1].full_name,
        dtype,
        class_values,
    )
