"""Saving and loading fitted models in the skops format.

A skops file describes the objects it holds instead of running code when
loaded (unlike pickle). skops still makes the caller name every non-standard
type to trust; ``load`` trusts exactly sgdclf's own estimator types and
refuses files that contain anything else.
"""

import json
import os
import tempfile
import zipfile
from pathlib import Path

from skops import io as skops_io

from ._classifier import SGDLogisticClassifier

# Types a file written by ``save`` may contain beyond skops' default trust
# (numpy arrays and scalars, builtins).
MODEL_TYPE = f"{SGDLogisticClassifier.__module__}.{SGDLogisticClassifier.__qualname__}"
TRUSTED_TYPES = frozenset({
    MODEL_TYPE,
    # coef_ after sparsify(): a plain data container.
    "scipy.sparse._csr.csr_matrix",
})


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
    """Read a model written by :func:`save`.

    Only sgdclf's estimator types (and what skops trusts by default: numpy
    arrays, builtins) are accepted; a file containing any other type raises
    ValueError naming those types, without running any of its content.
    """
    path = Path(path)
    top = _top_level_type(path)
    if top != MODEL_TYPE:
        raise ValueError(f"{path} holds a {top}, not a model saved with sgdclf.save.")
    untrusted = set(skops_io.get_untrusted_types(file=path))
    unexpected = sorted(untrusted - TRUSTED_TYPES)
    if unexpected:
        raise ValueError(
            f"{path} holds types sgdclf does not load: {', '.join(unexpected)}. "
            "Only models saved with sgdclf.save are accepted."
        )
    model = skops_io.load(path, trusted=sorted(untrusted))
    if not isinstance(model, SGDLogisticClassifier):
        raise ValueError(f"{path} does not hold an SGDLogisticClassifier.")
    return model


def _top_level_type(path):
    """The type of the object a skops file holds, read from its schema
    (skops trusts scikit-learn's own types by default, so the untrusted-type
    check alone would let any scikit-learn estimator through)."""
    try:
        with zipfile.ZipFile(path) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a skops file: {exc}") from None
    return f"{schema.get('__module__')}.{schema.get('__class__')}"
