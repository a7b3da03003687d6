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


def load(path):
    """Read a model written by :func:`save`, treating the file as untrusted.

    Before anything in the file is built, every object type its schema names
    must be one a saved model is made of: sgdclf's estimator, numpy arrays,
    scalars and RandomState, a CSR matrix (a sparsified ``coef_``) and plain
    builtins. That is stricter than skops' default trust, which would also
    build any scikit-learn object nested inside (a FunctionTransformer
    holding a function, say). After loading, the whole fitted state is
    checked against itself (parameters; shapes, dtypes and finiteness of
    ``classes_``, ``coef_``, ``intercept_``, ``t_`` and the optimiser's
    arrays). Any failure raises ValueError naming the file.
    """
    path = Path(path)
    schema = _schema(path)
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
    except MemoryError:
        raise
    except Exception as exc:  # a corrupt file can fail anywhere in skops
        raise ValueError(
            f"{path} is not a readable sgdclf model ({type(exc).__name__}: {exc})."
        ) from None
    if type(model) is not SGDLogisticClassifier:
        raise ValueError(f"{path} does not hold an SGDLogisticClassifier.")
    try:
        check_state(model)
    except ValueError as exc:
        raise ValueError(f"{path} holds an inconsistent model: {exc}.") from None
    return model


def _schema(path):
    """The file's schema: the description of the objects it holds."""
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
    except OSError:
        raise  # a missing or unreadable file, not bad content
    except Exception as exc:  # zipfile, zlib and json each have their own
        raise ValueError(f"{path} is not a skops file: {exc}") from None
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
