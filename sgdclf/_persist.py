"""Saving and loading fitted models in the skops format.

A skops file describes the objects it holds instead of running code when
loaded (unlike pickle). ``load`` goes further than skops' own trust rules: it
refuses a file naming any type that is not on sgdclf's allow-list (the model,
the scikit-learn composites and transformers of ``estimator_types``, numpy
arrays, scalars and builtins), each only as skops builds that kind of object
(``allowed_nodes``), and any model whose state does not hold together (see
``load``).
"""

import functools
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ._classifier import SGDLogisticClassifier, check_state


def _name(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


MODEL_TYPE = _name(SGDLogisticClassifier)
# Plain values: what skops writes as JSON, and numpy's scalar types (arrays,
# array elements, dtype parameters such as OneHotEncoder(dtype=np.float64)).
_BUILTINS = tuple(
    f"builtins.{name}"
    for name in ("str", "int", "float", "bool", "NoneType", "dict", "list", "tuple")
)
_NUMPY_SCALARS = tuple(
    f"numpy.{name}"
    for name in (
        "bool_",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "str_",
        "bytes_",
    )
)


@functools.cache
def estimator_types():
    """Class -> name of every estimator a saved file may hold: the model, the
    scikit-learn composites that can hold it, and transformers whose fitted
    state is arrays and numbers (no function, no file, no compiled routine
    that trusts its state). FunctionTransformer is there as the identity
    ColumnTransformer(remainder="passthrough") fits; load refuses one that
    holds a function."""
    from sklearn.compose import ColumnTransformer, make_column_selector
    from sklearn.feature_selection import VarianceThreshold
    from sklearn.impute import MissingIndicator, SimpleImputer
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import (
        Binarizer,
        FunctionTransformer,
        KBinsDiscretizer,
        LabelBinarizer,
        MaxAbsScaler,
        MinMaxScaler,
        Normalizer,
        OneHotEncoder,
        OrdinalEncoder,
        RobustScaler,
        StandardScaler,
    )

    classes = (
        SGDLogisticClassifier,
        Pipeline,
        FeatureUnion,
        ColumnTransformer,
        make_column_selector,
        OneVsRestClassifier,
        LabelBinarizer,  # OneVsRestClassifier's label_binarizer_
        StandardScaler,
        MinMaxScaler,
        MaxAbsScaler,
        RobustScaler,
        Normalizer,
        Binarizer,
        OneHotEncoder,
        OrdinalEncoder,
        KBinsDiscretizer,
        FunctionTransformer,
        SimpleImputer,
        MissingIndicator,
        VarianceThreshold,
    )
    return {cls: _name(cls) for cls in classes}


@functools.cache
def allowed_nodes():
    """skops loader -> the type names a node built by it may name. A loader
    decides what is built: an ObjectNode an instance, a TypeNode a class, a
    FunctionNode or MethodNode a callable (none is allowed)."""
    scalars = frozenset(_NUMPY_SCALARS)
    allowed = {
        "ObjectNode": frozenset(estimator_types().values()),
        "DictNode": frozenset({"builtins.dict"}),
        "ListNode": frozenset({"builtins.list"}),
        "TupleNode": frozenset({"builtins.tuple"}),
        "JsonNode": frozenset(_BUILTINS),
        "NdArrayNode": scalars | {"numpy.ndarray"},
        "DTypeNode": frozenset({"numpy.dtype"}),
        # Classes as values: dict key types, dtype parameters, the dtypes
        # make_column_selector selects.
        "TypeNode": scalars
        | {f"builtins.{name}" for name in ("str", "int", "float", "bool", "object")}
        | {"numpy.number", "numpy.integer", "numpy.floating"},
        "SliceNode": frozenset({"builtins.slice"}),  # ColumnTransformer
        "RandomStateNode": frozenset({"numpy.random.mtrand.RandomState"}),
        "SparseMatrixNode": frozenset({"scipy.sparse._csr.csr_matrix"}),  # sparsify
    }
    # A reference to an object built earlier in the file.
    allowed["CachedNode"] = frozenset().union(*allowed.values())
    return allowed


def save(model, path):
    """Write a fitted model to ``path`` (skops format).

    ``model`` is an SGDLogisticClassifier, or a scikit-learn Pipeline,
    ColumnTransformer, FeatureUnion or OneVsRestClassifier holding one, made
    of the types :func:`load` accepts (``estimator_types``). Anything else
    raises TypeError, so that every file ``save`` writes loads. The file
    appears complete or not at all: it is written next to ``path`` under a
    temporary name, then renamed.
    """
    if type(model) not in estimator_types():
        raise TypeError(
            "save expects an SGDLogisticClassifier (exactly that type) or a "
            "scikit-learn Pipeline, ColumnTransformer, FeatureUnion or "
            "OneVsRestClassifier holding one (what load accepts), got "
            f"{type(model).__name__}."
        )
    try:
        _check_parts(model)
    except ValueError as exc:
        raise TypeError(f"save cannot write this model: {exc}.") from None
    from skops import io as skops_io  # slow to import: only when used

    def write(f):
        skops_io.dump(model, f)
        f.seek(0)
        with zipfile.ZipFile(f) as archive:
            schema = json.loads(archive.read("schema.json"))
        unexpected = _unexpected(schema)
        if unexpected:
            raise TypeError(
                f"save cannot write this model: it holds {unexpected}, which "
                "load refuses."
            )

    write_atomically(Path(path), write, "w+b")


def write_atomically(path, write, mode):
    """Call write(file) on a temporary file next to ``path``, then rename it
    over ``path``: the file is complete or untouched, never partial. It gets
    the mode a plain open() would give (mkstemp's is 0600)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


# A model of at most this many weights per array (n_classes x n_features)
# loads without asking, as the command line trains one without asking: 512 MiB
# per float64 array. The file's declared sizes are checked against it before
# anything is decompressed, so a small file cannot ask for more.
MAX_WEIGHTS = 2**26
# Bytes a file may decompress to per weight: five float64 arrays and room for
# feature names; plus this much for the rest (the schema, the parameters).
_BYTES_PER_WEIGHT = 64
_OTHER_BYTES = 2**20


def load(path, *, max_weights=MAX_WEIGHTS):
    """Read a model written by :func:`save`, treating the file as untrusted.

    Before anything in the file is built, every object its schema describes
    must be of a type on sgdclf's allow-list, built the way skops builds that
    type: sgdclf's estimator; scikit-learn's Pipeline, ColumnTransformer
    (with make_column_selector), FeatureUnion and OneVsRestClassifier;
    the transformers StandardScaler, MinMaxScaler, MaxAbsScaler,
    RobustScaler, Normalizer, Binarizer, OneHotEncoder, OrdinalEncoder,
    KBinsDiscretizer, SimpleImputer, MissingIndicator, VarianceThreshold and
    FunctionTransformer as the identity (ColumnTransformer's passthrough);
    numpy arrays, scalars, dtypes and RandomState; a CSR matrix (a
    sparsified ``coef_``); plain builtins. No function, method or other class
    is built: that is stricter than skops' default trust, which would build a
    FunctionTransformer holding any numpy function, say. The file must hold
    at least one SGDLogisticClassifier. After loading, the whole fitted state
    of every SGDLogisticClassifier in it is checked against itself
    (parameters; shapes, dtypes and finiteness of ``classes_``, ``coef_``,
    ``intercept_``, ``t_`` and the optimiser's arrays); a FunctionTransformer
    must hold no function and a Pipeline no cache directory (``memory``). A
    file whose arrays would hold more than ``max_weights`` weights each
    (n_classes x n_features per SGDLogisticClassifier), or whose members
    would decompress beyond what such arrays need, is refused before it is
    read: raise ``max_weights`` for a model you trust that is larger. Any
    failure raises ValueError naming the file.
    """
    path = Path(path)
    schema = _schema(path, max_bytes=_BYTES_PER_WEIGHT * max_weights + _OTHER_BYTES)
    top = f"{schema.get('__module__')}.{schema.get('__class__')}"
    if top not in allowed_nodes()["ObjectNode"] or schema.get("__loader__") != (
        "ObjectNode"
    ):
        raise ValueError(f"{path} holds a {top}, not a model saved with sgdclf.save.")
    unexpected = _unexpected(schema)
    if unexpected:
        raise ValueError(
            f"{path} holds types sgdclf does not load: {unexpected}. "
            "Only models saved with sgdclf.save are accepted."
        )
    if ("ObjectNode", MODEL_TYPE) not in _nodes(schema):
        raise ValueError(
            f"{path} holds no SGDLogisticClassifier: not a model saved with "
            "sgdclf.save."
        )
    from skops import io as skops_io

    trusted = sorted(frozenset().union(*allowed_nodes().values()))

    def unreadable(exc):  # a corrupt file can fail anywhere in skops
        return ValueError(
            f"{path} is not a readable sgdclf model ({type(exc).__name__}: {exc})."
        )

    try:
        # skops' own view of the file, as a second opinion: it must name
        # nothing outside the allow-list either.
        untrusted = sorted(set(skops_io.get_untrusted_types(file=path)) - {*trusted})
    except Exception as exc:
        raise unreadable(exc) from None
    if untrusted:
        raise ValueError(
            f"{path} holds types sgdclf does not load: {', '.join(untrusted)}. "
            "Only models saved with sgdclf.save are accepted."
        )
    try:
        model = skops_io.load(path, trusted=trusted)
    except Exception as exc:
        raise unreadable(exc) from None
    if type(model) not in estimator_types():
        raise ValueError(f"{path} does not hold a model saved with sgdclf.save.")
    try:
        classifiers = _check_parts(model)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path} holds a model sgdclf does not load: {exc}.") from None
    for where, classifier in classifiers:
        at = f" at {where}" if where else ""
        try:
            check_state(classifier)
            n_weights = (
                classifier.coef_.shape[0] * classifier.coef_.shape[1]
                if ("coef_" in vars(classifier))
                else 0
            )
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValueError(
                f"{path} holds an inconsistent model{at}: {exc}."
            ) from None
        if n_weights > max_weights:
            raise ValueError(
                f"{path} declares {n_weights:,} weights per array{at}, more than "
                f"max_weights={max_weights:,}; pass a larger max_weights if you "
                "trust the file."
            )
    return model


def _check_parts(model):
    """The (where, model) pairs of the SGDLogisticClassifiers in ``model``;
    ValueError when there is none, or when a FunctionTransformer holds a
    function or a Pipeline a cache directory (they would run code or touch
    files when the model is used or refitted)."""
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    classifiers = []
    for where, part in _parts(model):
        kind = type(part)
        if kind is SGDLogisticClassifier:
            classifiers.append((where, part))
        elif kind is FunctionTransformer:
            held = [
                name
                for name in ("func", "inverse_func", "feature_names_out")
                if not _identity_part(name, getattr(part, name, None))
            ]
            if held:
                raise ValueError(
                    f"the FunctionTransformer at {where or 'the top'} holds "
                    f"{' and '.join(held)}; only the identity (func=None) is "
                    "accepted"
                )
        elif kind is Pipeline and getattr(part, "memory", None) is not None:
            raise ValueError(
                f"the Pipeline at {where or 'the top'} caches in memory="
                f"{part.memory!r:.60}; set memory=None"
            )
    if not classifiers:
        raise ValueError("it holds no SGDLogisticClassifier")
    return classifiers


def _identity_part(name, value):
    """Whether a FunctionTransformer's ``name`` has a value that runs no
    function: None, or feature_names_out="one-to-one"."""
    if value is None:
        return True
    return (
        name == "feature_names_out"
        and isinstance(value, str)
        and (value == "one-to-one")
    )


def _parts(model):
    """(where, object) for every object reachable from ``model`` through the
    containers a loaded file can hold (estimators' attributes, lists, tuples,
    dicts, object arrays), each once; ``where`` is the path from ``model``,
    as in ``steps[1][1]``."""
    estimators = estimator_types()
    seen = set()
    stack = [("", model)]
    while stack:
        where, part = stack.pop()
        if id(part) in seen:
            continue
        seen.add(id(part))
        yield where, part
        if type(part) in estimators:
            items = [(f".{k}" if where else k, v) for k, v in vars(part).items()]
        elif isinstance(part, dict):
            items = [(f"[{k!r}]", v) for k, v in part.items()]
        elif isinstance(part, (list, tuple)):
            items = [(f"[{i}]", v) for i, v in enumerate(part)]
        elif isinstance(part, np.ndarray) and part.dtype == object:
            items = [(f"[{i}]", v) for i, v in enumerate(part.ravel())]
        else:
            continue
        stack.extend((f"{where}{name}", value) for name, value in reversed(items))


def _schema(path, max_bytes):
    """The file's schema: the description of the objects it holds; refused
    when the members would decompress to more than ``max_bytes`` in all
    (zipfile stops a member at its declared size)."""
    try:
        with zipfile.ZipFile(path) as archive:
            declared = sum(info.file_size for info in archive.infolist())
            if declared <= max_bytes:
                schema = json.loads(archive.read("schema.json"))
    except OSError:
        raise  # a missing or unreadable file, not bad content
    except Exception as exc:  # zipfile, zlib and json each have their own
        raise ValueError(f"{path} is not a skops file: {exc}") from None
    if declared > max_bytes:
        raise ValueError(
            f"{path} would decompress to {declared:,} bytes, more than a model "
            "of max_weights weights needs; pass a larger max_weights if you "
            "trust the file."
        )
    if not isinstance(schema, dict):
        raise ValueError(f"{path} is not a skops file: its schema is not an object.")
    return schema


def _nodes(schema):
    """Every (skops loader, "module.class") pair the schema names, at any
    depth."""
    found = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node or "__loader__" in node:
                loader = node.get("__loader__")
                found.add(
                    (f"{loader}", f"{node.get('__module__')}.{node.get('__class__')}")
                )
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _unexpected(schema):
    """The schema's objects that are not on the allow-list, as a phrase
    naming their types ("" when there is none)."""
    allowed = allowed_nodes()
    names = sorted(
        name if loader == "ObjectNode" else f"{name} ({loader})"
        for loader, name in _nodes(schema)
        if name not in allowed.get(loader, ())
    )
    return ", ".join(names)
