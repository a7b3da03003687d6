"""Saving and loading fitted models in the skops format.

A skops file describes the objects it holds instead of running code when
loaded (unlike pickle). ``load`` goes further than skops' own trust rules: it
refuses a file naming any type a saved model is not made of, and any model
whose state does not hold together (see ``load``).
"""

import json
import os
import tempfile
import zipfile
from pathlib import Path

from ._classifier import SGDLogisticClassifier, check_state

MODEL_TYPE = f"{SGDLogisticClassifier.__module__}.{SGDLogisticClassifier.__qualname__}"
# Every type a file written by ``save`` can name: the model, its parameters'
# and attributes' types, and the types skops records for dict keys.
ALLOWED_TYPES = frozenset(
    {
        MODEL_TYPE,
        "scipy.sparse._csr.csr_matrix",  # coef_ after sparsify()
        "numpy.random.mtrand.RandomState",  # a random_state parameter
        "numpy.ndarray",
        "numpy.dtype",
        *(
            f"builtins.{name}"
            for name in (
                "dict",
                "list",
                "tuple",
                "str",
                "int",
                "float",
                "bool",
                "NoneType",
            )
        ),
        *(
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
        ),
    }
)


def save(model, path):
    """Write a fitted SGDLogisticClassifier to ``path`` (skops format).

    The file appears complete or not at all: it is written next to ``path``
    under a temporary name, then renamed.
    """
    if type(model) is not SGDLogisticClassifier:
        raise TypeError(
            f"save expects an SGDLogisticClassifier, got {type(model).__name__} "
            "(load accepts exactly that type)."
        )
    from skops import io as skops_io  # slow to import: only when used

    write_atomically(Path(path), lambda f: skops_io.dump(model, f), "wb")


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

    Before anything in the file is built, every object type its schema names
    must be one a saved model is made of: sgdclf's estimator, numpy arrays,
    scalars and RandomState, a CSR matrix (a sparsified ``coef_``) and plain
    builtins. That is stricter than skops' default trust, which would also
    build any scikit-learn object nested inside (a FunctionTransformer
    holding a function, say). After loading, the whole fitted state is
    checked against itself (parameters; shapes, dtypes and finiteness of
    ``classes_``, ``coef_``, ``intercept_``, ``t_`` and the optimiser's
    arrays). A file whose arrays would hold more than ``max_weights`` weights
    each (n_classes x n_features), or whose members would decompress beyond
    what such arrays need, is refused before it is read: raise ``max_weights``
    for a model you trust that is larger. Any failure raises ValueError naming
    the file.
    """
    path = Path(path)
    schema = _schema(path, max_bytes=_BYTES_PER_WEIGHT * max_weights + _OTHER_BYTES)
    top = f"{schema.get('__module__')}.{schema.get('__class__')}"
    if top != MODEL_TYPE:
        raise ValueError(f"{path} holds a {top}, not a model saved with sgdclf.save.")
    unexpected = sorted(_types(schema) - ALLOWED_TYPES)
    if unexpected:
        raise ValueError(
            f"{path} holds types sgdclf does not load: {', '.join(unexpected)}. "
            "Only models saved with sgdclf.save are accepted."
        )
    from skops import io as skops_io

    try:
        untrusted = skops_io.get_untrusted_types(file=path)
        model = skops_io.load(path, trusted=untrusted)
    except Exception as exc:  # a corrupt file can fail anywhere in skops
        raise ValueError(
            f"{path} is not a readable sgdclf model ({type(exc).__name__}: {exc})."
        ) from None
    if type(model) is not SGDLogisticClassifier:
        raise ValueError(f"{path} does not hold an SGDLogisticClassifier.")
    try:
        check_state(model)
        n_weights = (
            model.coef_.shape[0] * model.coef_.shape[1]
            if ("coef_" in vars(model))
            else 0
        )
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"{path} holds an inconsistent model: {exc}.") from None
    if n_weights > max_weights:
        raise ValueError(
            f"{path} declares {n_weights:,} weights per array, more than "
            f"max_weights={max_weights:,}; pass a larger max_weights if you "
            "trust the file."
        )
    return model


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


def _types(schema):
    """Every "module.class" the schema names, at any depth."""
    found = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node:
                found.add(f"{node.get('__module__')}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found
