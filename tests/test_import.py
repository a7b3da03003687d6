"""What importing sgdclf and asking the command line for help import.

Each check runs in a fresh interpreter (this one has imported everything
already) and asserts on the modules loaded, never on timings: the timings are
in benchmarks/startup.py.
"""

import json
import subprocess
import sys

import pytest

import sgdclf

# Imported only by the features that need them.
OPTIONAL = ("skops", "pandas", "pyarrow", "tqdm", "onnx", "dask", "distributed")
# What the command line's parser must not need.
HEAVY = ("numpy", "scipy", "sklearn", *OPTIONAL)

_LOADED = """\
import json, sys
{statement}
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}})))
"""


def loaded_after(statement, cwd):
    """Top-level names of the modules a fresh interpreter holds after statement."""
    out = subprocess.run(
        [sys.executable, "-c", _LOADED.format(statement=statement)],
        cwd=cwd,  # not the source tree: the installed package
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def run_command(*args, cwd):
    """``python -X importtime -m sgdclf ARGS``: (status, stdout, the program's
    own stderr lines, top-level names of the modules it imported)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "sgdclf", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    imported, errors = set(), []
    for line in done.stderr.splitlines():
        if line.startswith("import time:"):
            imported.add(line.rsplit("|", 1)[1].strip().split(".")[0])
        else:
            errors.append(line)
    return done.returncode, done.stdout, errors, imported


def test_import_sgdclf_loads_no_dependency(tmp_path):
    assert not set(HEAVY) & loaded_after("import sgdclf", tmp_path)


def test_the_estimator_loads_no_more_than_scikit_learn_does(tmp_path):
    # scikit-learn itself imports pandas (and with it pyarrow) when installed.
    ours = loaded_after("from sgdclf import SGDLogisticClassifier", tmp_path)
    theirs = loaded_after("from sklearn.linear_model import SGDClassifier", tmp_path)
    assert "sklearn" in ours
    assert {name for name in OPTIONAL if name in ours} <= theirs


@pytest.mark.parametrize(
    "command",
    [[], ["train"], ["predict"], ["evaluate"], ["export-onnx"]],
    ids=lambda c: " ".join(c) or "sgdclf",
)
def test_help_imports_no_dependency(command, tmp_path):
    status, out, errors, imported = run_command(*command, "--help", cwd=tmp_path)
    assert status == 0, errors
    assert out.startswith(f"usage: sgdclf {' '.join(command)}".rstrip())
    assert not errors
    assert "sgdclf" in imported  # the parse of -X importtime's lines holds
    assert not set(HEAVY) & imported


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "the following arguments are required: command"),
        (["train", "d.svm"], "the following arguments are required: --model"),
        (["predict", "--model"], "argument --model: expected one argument"),
        (["fit"], "invalid choice"),
    ],
)
def test_mistakes_in_the_arguments_are_one_line_without_imports(
    args, message, tmp_path
):
    status, out, errors, imported = run_command(*args, cwd=tmp_path)
    assert status == 2
    assert not out
    assert len(errors) == 1 and message in errors[0], errors
    assert errors[0].startswith("sgdclf")
    assert not set(HEAVY) & imported


def test_a_command_imports_what_it_needs(tmp_path):
    # A failure past the parser (a missing model) still answers on one line.
    status, _, errors, imported = run_command(
        "predict", "--model", "missing.skops", "d.svm", cwd=tmp_path
    )
    assert status == 2
    assert errors == ["sgdclf predict: error: missing.skops: no such file."]
    assert "numpy" in imported


def test_public_names():
    from sgdclf import SGDLogisticClassifier, load, save, to_onnx
    from sgdclf._classifier import SGDLogisticClassifier as defined
    from sgdclf._onnx import to_onnx as onnx_defined
    from sgdclf._persist import load as load_defined
    from sgdclf._persist import save as save_defined
    from sgdclf.dask import DaskSGDLogisticClassifier

    assert SGDLogisticClassifier is defined is sgdclf.SGDLogisticClassifier
    assert (save, load, to_onnx) == (save_defined, load_defined, onnx_defined)
    assert (sgdclf.save, sgdclf.load, sgdclf.to_onnx) == (save, load, to_onnx)
    assert issubclass(DaskSGDLogisticClassifier, SGDLogisticClassifier)
    assert set(sgdclf.__all__) == {
        "SGDLogisticClassifier",
        "load",
        "register_onnx_converter",
        "save",
        "to_onnx",
    }
    assert set(sgdclf.__all__) <= set(dir(sgdclf))
    assert isinstance(sgdclf.__version__, str)
    with pytest.raises(AttributeError, match="no attribute 'fit'"):
        sgdclf.fit  # noqa: B018


def test_public_names_work_when_first_used(tmp_path):
    # In a fresh interpreter, each name is loaded by its first use.
    script = f"""
import sgdclf
from sgdclf import *
import numpy as np
X = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
y = np.array([0, 1, 0, 1])
model = SGDLogisticClassifier(random_state=0).fit(X, y)
save(model, {str(tmp_path / "m.skops")!r})
back = sgdclf.load({str(tmp_path / "m.skops")!r})
assert (back.coef_ == model.coef_).all()
assert sgdclf.to_onnx(model).graph.input
from sgdclf.dask import DaskSGDLogisticClassifier
print("ok")
"""
    loaded = loaded_after(script, tmp_path)
    assert {"skops", "onnx", "dask"} <= loaded
