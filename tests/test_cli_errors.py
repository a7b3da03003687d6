"""The command line's failures: one line ``sgdclf CMD: error: ...``, exit
status 2, no traceback, nothing written, no existing file replaced."""

import bz2
import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pandas as pd
import pytest

from sgdclf import SGDLogisticClassifier, _stream
from sgdclf._cli import main

SVM = "".join(f"{i % 2} 1:{i / 10:.1f} 2:{(i * 7 % 5) / 5:.1f}\n" for i in range(40))
PANDAS_VERSION = tuple(int(v) for v in pd.__version__.split(".")[:2])
CSV = "a,b,label\n" + "".join(f"{i / 10:.1f},{i % 3},{i % 2}\n" for i in range(40))


def run(*args):
    return main([str(a) for a in args])


def error_line(capsys, command="train"):
    """The one line a failure prints."""
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"sgdclf {command}: error: "), err
    assert "Traceback" not in err
    return lines[0]


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def model(tmp_path):
    """A trained model file, and the data it was trained on."""
    (tmp_path / "d.svm").write_text(SVM)
    assert (
        run("train", tmp_path / "d.svm", "--model", tmp_path / "m.skops", "--quiet")
        == 0
    )
    return tmp_path / "m.skops"


# ---------------------------------------------------------------- item 2: outputs


@pytest.mark.parametrize(
    "case",
    [
        "train-model-is-data",
        "predict-output-is-data",
        "predict-output-is-model",
        "predict-output-symlink",
        "predict-output-hard-link",
        "predict-output-dot-path",
        "onnx-output-is-model",
    ],
)
def test_an_output_that_is_an_input_is_refused(model, capsys, monkeypatch, case):
    folder = model.parent
    data = folder / "d.svm"
    os.symlink(data, folder / "link.svm")
    os.link(data, folder / "hard.svm")
    before = snapshot(folder)
    monkeypatch.chdir(folder)
    args, command = {
        "train-model-is-data": (["train", data, "--model", data], "train"),
        "predict-output-is-data": (
            ["predict", "--model", model, data, "--output", data],
            "predict",
        ),
        "predict-output-is-model": (
            ["predict", "--model", model, data, "--output", model],
            "predict",
        ),
        "predict-output-symlink": (
            ["predict", "--model", model, data, "--output", "link.svm"],
            "predict",
        ),
        "predict-output-hard-link": (
            ["predict", "--model", model, "d.svm", "--output", "hard.svm"],
            "predict",
        ),
        "predict-output-dot-path": (
            ["predict", "--model", model, "d.svm", "--output", "./sub/../d.svm"],
            "predict",
        ),
        "onnx-output-is-model": (
            ["export-onnx", "--model", "m.skops", "--output", model],
            "export-onnx",
        ),
    }[case]
    (folder / "sub").mkdir()
    assert run(*args) == 2
    line = error_line(capsys, command)
    assert "is also an input" in line and "choose another name" in line
    assert snapshot(folder) == before
    assert (folder / "link.svm").is_symlink()


# ---------------------------------------------------------------- item 10: output paths


def test_model_naming_a_directory_fails_before_reading_the_data(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    data = tmp_path / "d.svm"
    data.write_text(SVM + "1 1:oops\n")  # training would stop here first
    assert run("train", data, "--model", tmp_path / "out", "--quiet") == 2
    line = error_line(capsys)
    assert "--model" in line and "is a directory" in line and "model.skops" in line
    assert ".tmp" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.svm", "out"]
    assert not list((tmp_path / "out").iterdir())


def test_predict_output_naming_a_directory_or_device_is_refused(model, capsys):
    data = model.parent / "d.svm"
    assert run("predict", "--model", model, data, "--output", model.parent) == 2
    assert "is a directory" in error_line(capsys, "predict")
    assert run("predict", "--model", model, data, "--output", os.devnull) == 2
    assert "not a regular file" in error_line(capsys, "predict")
    assert (
        run(
            "predict",
            "--model",
            model,
            data,
            "--output",
            model.parent / "no" / "out.txt",
        )
        == 2
    )
    assert "not a writable directory" in error_line(capsys, "predict")


def test_missing_inputs_are_named_before_any_work(model, capsys):
    assert run("train", model.parent / "none.svm", "--model", model, "--quiet") == 2
    assert "none.svm: no such file" in error_line(capsys)
    assert (
        run("predict", "--model", model.parent / "none.skops", model.parent / "d.svm")
        == 2
    )
    assert "none.skops: no such file" in error_line(capsys, "predict")
    assert run("evaluate", "--model", model, model.parent) == 2
    assert "is a directory" in error_line(capsys, "evaluate")


# ---------------------------------------------------------------- item 5: damaged input


def _compressed(tmp_path, name):
    raw = SVM.encode() * 50
    packed = {"gz": gzip.compress, "bz2": bz2.compress}[name.split(".")[-1]](raw)
    if name.startswith("truncated"):
        packed = packed[: len(packed) // 2]
    else:  # damage the deflate stream in the middle
        middle = len(packed) // 2
        packed = packed[:middle] + bytes(64) + packed[middle + 64 :]
    path = tmp_path / name
    path.write_bytes(packed)
    return path


@pytest.mark.parametrize(
    "name",
    [
        "truncated.svm.gz",
        "truncated.svm.bz2",
        "corrupt.svm.gz",
        "corrupt.svm.bz2",
        "truncated.csv.gz",
    ],
)
def test_damaged_compressed_files(tmp_path, capsys, name):
    path = _compressed(tmp_path, name)
    if name.endswith(".csv.gz"):
        rows = CSV.split("\n", 1)[1]
        packed = gzip.compress((CSV + rows * 20).encode())
        path.write_bytes(packed[: len(packed) // 2])
    existing = tmp_path / "m.skops"
    existing.write_bytes(b"an old model")
    assert run("train", path, "--model", existing, "--quiet") == 2
    line = error_line(capsys)
    assert f"{path}, line " in line and "compressed data" in line
    assert existing.read_bytes() == b"an old model"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "m.skops"])


def test_not_a_gzip_file(tmp_path, capsys):
    path = tmp_path / "d.svm.gz"
    path.write_text(SVM)
    assert run("train", path, "--model", tmp_path / "m.skops", "--quiet") == 2
    assert f"{path}, line 1: the compressed data is damaged" in error_line(capsys)


def test_feature_index_beyond_int32(tmp_path, capsys, model):
    path = tmp_path / "big.svm"
    path.write_text("1 1:1\n0 1:2 2147483648:1\n")
    assert run("train", path, "--model", tmp_path / "m2.skops", "--quiet") == 2
    assert f"{path}, line 2: a feature index is too large" in error_line(capsys)
    assert run("predict", "--model", model, path) == 2
    assert f"{path}, line 2: a feature index is too large" in error_line(
        capsys, "predict"
    )


BOUNDED_MEMORY = textwrap.dedent("""
    import resource, sys
    from sgdclf._cli import main

    limit = 4 * 2**30  # a regression fails with MemoryError, not the machine
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.skipif(sys.platform != "linux", reason="uses RLIMIT_AS")
def test_a_huge_scanned_index_is_refused_and_says_how_to_set_n_features(tmp_path):
    path = tmp_path / "big.svm"
    path.write_text("1 1:1\n\n0 1:2 2147483647:1\n")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            BOUNDED_MEMORY,
            "train",
            str(path),
            "--model",
            str(tmp_path / "m.skops"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith(
        f"sgdclf train: error: {path}, line 3: feature index "
        "2147483647 makes a model of 2,147,483,647 features"
    )
    assert "--n-features 2147483647" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.svm"]


def test_the_weight_bound_counts_one_vs_rest_models(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(_stream, "MAX_SCANNED_WEIGHTS", 100)
    path = tmp_path / "d.svm"
    path.write_text("0 1:1\n1 60:1\n")  # 60 features, binary: one model, fits
    assert run("train", path, "--model", tmp_path / "a.skops", "--quiet") == 0
    path.write_text("0 1:1\n1 60:1\n2 3:1\n")  # three classes: 180 weights
    assert run("train", path, "--model", tmp_path / "b.skops", "--quiet") == 2
    assert "line 2: feature index 60" in error_line(capsys)
    # Given explicitly, the number of features is trusted.
    assert (
        run(
            "train",
            path,
            "--model",
            tmp_path / "b.skops",
            "--quiet",
            "--n-features",
            60,
        )
        == 0
    )


# ---------------------------------------------------------------- item 9: file and line


@pytest.mark.parametrize(
    "content, message",
    [
        ("a,b,label\n1,2,0\n3,inf,1\n", "line 3: column 'b' holds inf, not a finite"),
        (
            "a,b,label\n1,2,0\n3,4,1\n3,1e309,0\n",
            # pandas < 3 reads the overflowing 1e309 as text, not as inf.
            "line 4: column 'b' holds "
            + ("inf" if PANDAS_VERSION >= (3,) else "'1e309', not a number"),
        ),
        ("a,b,label\n1,2,0\n3,-inf,1\n", "line 3: column 'b' holds -inf"),
        ("a,b,label\n1,2,1.5\n3,4,inf\n", "line 3: the label is inf"),
    ],
)
def test_non_finite_csv_values_name_file_and_line(tmp_path, capsys, content, message):
    path = tmp_path / "d.csv"
    path.write_text(content)
    assert (
        run(
            "train", path, "--model", tmp_path / "m.skops", "--chunk-rows", 1, "--quiet"
        )
        == 2
    )
    line = error_line(capsys)
    assert f"{path}, {message}" in line
    assert "Input X" not in line


@pytest.mark.parametrize("bad", ["1 1:nan 2:1", "1 2:1e309", "0 1:-inf", "nan 1:1"])
def test_non_finite_svmlight_values_name_the_line_in_the_file(
    tmp_path, capsys, model, bad
):
    path = tmp_path / "d2.svm"
    path.write_text("1 1:1\n# a comment\n0 2:1\n1 1:3\n" + bad + "\n0 1:1\n")
    assert (
        run(
            "train",
            path,
            "--model",
            tmp_path / "m2.skops",
            "--chunk-rows",
            2,
            "--quiet",
        )
        == 2
    )
    line = error_line(capsys)
    assert f"{path}, line 5: " in line and "not a finite number" in line
    if not bad.startswith("nan"):  # predict reads no labels
        assert run("predict", "--model", model, path, "--chunk-rows", 2) == 2
        assert f"{path}, line 5: " in error_line(capsys, "predict")


def test_non_finite_values_in_predict_csv(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text(CSV)
    model = tmp_path / "m.skops"
    assert run("train", path, "--model", model, "--quiet") == 0
    new = tmp_path / "new.csv"
    new.write_text("a,b\n1,2\n1,2\n1,inf\n")
    assert run("predict", "--model", model, new, "--chunk-rows", 2) == 2
    assert f"{new}, line 4: column 'b' holds inf" in error_line(capsys, "predict")


@pytest.mark.parametrize(
    "name, content, message",
    [
        (
            "d.csv",
            b"a,b,label\n1,2,0\n3,4,\xe9t\xe9\n",
            "line 3: byte 0xe9 at column 5",
        ),
        ("d.csv", b"a,\xe9,label\n1,2,0\n", "line 1: byte 0xe9 at column 3"),
        ("d.svm", b"1 1:1\n\xe9 1:2\n", "line 2: "),
    ],
)
def test_text_that_is_not_utf8_names_the_line(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    assert run("train", path, "--model", tmp_path / "m.skops", "--quiet") == 2
    line = error_line(capsys)
    assert f"{path}, {message}" in line
    assert "codec" not in line


def test_latin1_in_predict(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text(CSV)
    model = tmp_path / "m.skops"
    assert run("train", path, "--model", model, "--quiet") == 0
    new = tmp_path / "new.csv"
    new.write_bytes(b"a,b\n1,2\n1,\xe9\n")
    assert run("predict", "--model", model, new) == 2
    assert f"{new}, line 3: byte 0xe9" in error_line(capsys, "predict")


def test_svmlight_problems_say_what_a_row_should_be(model, capsys):
    path = model.parent / "new.svm"
    path.write_text("1 1:1\n0 1:1 9:1\n")
    assert run("predict", "--model", model, path) == 2
    assert (
        f"{path}, line 2: feature index 9 is beyond the 2 features expected"
        in error_line(capsys, "predict")
    )
    path.write_text("1 1:1\n0 1:x\n")
    assert run("predict", "--model", model, path) == 2
    assert "expected LABEL INDEX:VALUE" in error_line(capsys, "predict")


def test_an_empty_file_has_no_rows_to_train_on(tmp_path, capsys):
    path = tmp_path / "d.svm"
    path.write_text("# only a comment\n\n")
    assert run("train", path, "--model", tmp_path / "m.skops", "--quiet") == 2
    assert error_line(capsys).endswith(f"{path}: no rows to train on.")


# ------------------------------------------------------------ item 6: unfitted models


def test_holdout_keeping_every_row_out_writes_nothing(tmp_path, capsys):
    path = tmp_path / "d.svm"
    path.write_text("1 1:1\n0 1:-1\n1 1:2\n0 1:-2\n")
    existing = tmp_path / "m.skops"
    existing.write_bytes(b"an old model")
    assert (
        run(
            "train",
            path,
            "--model",
            existing,
            "--holdout",
            0.9,
            "--passes",
            3,
            "--quiet",
        )
        == 2
    )
    line = error_line(capsys)
    assert "--holdout 0.9 keeps all 4 rows out of training" in line
    assert "lower --holdout" in line
    assert existing.read_bytes() == b"an old model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.svm", "m.skops"]


def _model_command_args(command, tmp_path):
    """What predict/evaluate (the data file) or export-onnx (the output)
    take besides --model, for a model file in tmp_path."""
    if command == "export-onnx":
        return ["--output", tmp_path / "m.onnx"]
    return [tmp_path / "d.svm"]


@pytest.mark.parametrize("command", ["predict", "evaluate", "export-onnx"])
def test_an_unfitted_model_file_is_refused(tmp_path, capsys, command):
    from skops import io as skops_io

    model = tmp_path / "m.skops"
    skops_io.dump(SGDLogisticClassifier(), model)
    (tmp_path / "d.svm").write_text(SVM)
    args = _model_command_args(command, tmp_path)
    assert run(command, "--model", model, *args) == 2
    assert f"{model}: the model is not fitted" in error_line(capsys, command)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.svm", "m.skops"]


# ------------------------------------------------------------ item 11: damaged models


def _rewrite_zip(source, target, edit):
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(target, "w") as out:
        for name, data in members.items():
            out.writestr(name, edit(name, data))


def _schema(edit):
    def change(name, data):
        return edit(json.loads(data)) if name == "schema.json" else data

    return change


DAMAGE = {
    "truncated": lambda m, t: t.write_bytes(m.read_bytes()[:300]),
    "random-bytes": lambda m, t: t.write_bytes(np.random.default_rng(0).bytes(2000)),
    "empty": lambda m, t: t.write_bytes(b""),
    "garbage-schema": lambda m, t: _rewrite_zip(
        m, t, lambda name, data: b"{garbage" if name == "schema.json" else data
    ),
    "schema-without-protocol": lambda m, t: _rewrite_zip(
        m,
        t,
        _schema(
            lambda s: json.dumps(
                {k: s[k] for k in ("__module__", "__class__")}
            ).encode()
        ),
    ),
    "schema-content-a-string": lambda m, t: _rewrite_zip(
        m, t, _schema(lambda s: json.dumps({**s, "content": "x"}).encode())
    ),
    "schema-unknown-loader": lambda m, t: _rewrite_zip(
        m, t, _schema(lambda s: json.dumps({**s, "__loader__": "Nope"}).encode())
    ),
    "garbage-arrays": lambda m, t: _rewrite_zip(
        m, t, lambda name, data: data if name == "schema.json" else data[:20]
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("command", ["predict", "evaluate", "export-onnx"])
def test_a_damaged_model_file_gives_one_line(model, capsys, damage, command):
    damaged = model.parent / "damaged.skops"
    DAMAGE[damage](model, damaged)
    data = model.parent / "d.svm"
    args = ["--output", model.parent / "m.onnx"] if command == "export-onnx" else [data]
    before = snapshot(model.parent)
    assert run(command, "--model", damaged, *args) == 2
    line = error_line(capsys, command)
    assert str(damaged) in line
    assert "train it again or restore the file" in line
    assert snapshot(model.parent) == before


# ---------------------------------------------------------------- item 8: SIGTERM

SLOW_SAVE = textwrap.dedent("""
    import sys, time
    import skops.io
    from sgdclf._cli import main

    real_dump = skops.io.dump

    def slow_dump(model, file):
        real_dump(model, file)
        print("writing", flush=True)
        time.sleep(60)

    skops.io.dump = slow_dump  # sgdclf.save imports skops.io when it runs
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_the_model_is_written_leaves_no_temporary_file(model, signum):
    folder = model.parent
    before = snapshot(folder)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            SLOW_SAVE,
            "train",
            str(folder / "d.svm"),
            "--model",
            str(model),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline() == "writing\n"
        assert any(p.name.endswith(".tmp") for p in folder.iterdir())
        child.send_signal(signum)
        _, err = child.communicate(timeout=30)
    finally:
        child.kill()
    assert child.returncode == 128 + signum
    name = signal.Signals(signum).name
    assert err.splitlines() == [f"sgdclf train: stopped by {name}"]
    assert snapshot(folder) == before  # the old model, and no temporary file


def test_main_restores_the_sigterm_handler(tmp_path):
    previous = signal.getsignal(signal.SIGTERM)
    (tmp_path / "d.svm").write_text(SVM)
    assert (
        run("train", tmp_path / "d.svm", "--model", tmp_path / "m.skops", "--quiet")
        == 0
    )
    assert signal.getsignal(signal.SIGTERM) is previous


# ---------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    "args, command, message",
    [
        (["train", "--param", "kernel=rbf"], "train", "--param 'kernel=rbf'"),
        (["train", "--param", "solver=sag"], "train", "'solver' parameter"),
        (["train", "--param", "solver=saga"], "train", "solver=saga: the command"),
        (["train", "--param", "nonsense"], "train", "--param 'nonsense'"),
        (["train", "--param", "alpha=-1"], "train", "'alpha' parameter"),
        (["train", "--param", "learning_rate=sometimes"], "train", "learning_rate"),
        (["train", "--n-features", "0"], "train", "--n-features must be >= 1"),
        (["train", "--chunk-rows", "0"], "train", "--chunk-rows"),
        (["train", "--holdout", "1"], "train", "--holdout"),
        (["train", "--format", "xml"], "train", "invalid choice: 'xml'"),
        (["train", "--passes", "two"], "train", "invalid int value: 'two'"),
        (["predict", "--chunk-rows", "0"], "predict", "--chunk-rows must be >= 1"),
    ],
)
def test_argument_mistakes_give_one_line(model, capsys, args, command, message):
    data = model.parent / "d.svm"
    if command == "train":
        args = [*args, data, "--model", model.parent / "new.skops"]
    else:
        args = [*args, "--model", model, data]
    assert run(*args) == 2
    assert message in error_line(capsys, command)
    assert not (model.parent / "new.skops").exists()


def test_missing_arguments_give_one_line(capsys):
    assert run("train") == 2
    line = error_line(capsys)
    assert "the following arguments are required" in line
    assert "see sgdclf train --help" in line
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sgdclf: error: ") and err.count("\n") == 1


def test_a_failing_run_leaves_an_existing_model_unchanged(model, capsys):
    before = model.read_bytes()
    bad = model.parent / "bad.svm"
    bad.write_text(SVM + "1 1:0.5 2:bad\n")
    assert run("train", bad, "--model", model, "--quiet", "--chunk-rows", 7) == 2
    assert f"{bad}, line 41:" in error_line(capsys)
    assert model.read_bytes() == before
    assert not [p for p in model.parent.iterdir() if p.name.endswith(".tmp")]


def test_rows_the_model_refuses_are_named(tmp_path, capsys, monkeypatch):
    def refuse(self, X, y, classes=None):
        raise ValueError("the weights overflowed")

    monkeypatch.setattr(SGDLogisticClassifier, "partial_fit", refuse)
    path = tmp_path / "d.svm"
    path.write_text("# header\n" + SVM)
    assert (
        run(
            "train",
            path,
            "--model",
            tmp_path / "m.skops",
            "--quiet",
            "--chunk-rows",
            10,
        )
        == 2
    )
    assert error_line(capsys).endswith(f"{path}, lines 2-11: the weights overflowed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.svm"]


def test_a_message_with_newlines_is_printed_on_one_line(capsys, monkeypatch):
    from sgdclf import _cli

    def explode(args):
        raise ValueError("first\n  second\nthird")

    monkeypatch.setattr(_cli, "_evaluate", explode)
    assert run("evaluate", "--model", "m", "d") == 2
    assert error_line(capsys, "evaluate").endswith("error: first second third")


def test_unrecognized_arguments_name_the_command(tmp_path, capsys):
    # Review of issue 10: argparse's error named the top-level command.
    from sgdclf._cli import main

    data = tmp_path / "d.svm"
    data.write_text("1 1:1\n0 2:1\n")
    assert main(["train", str(data), "--model", str(tmp_path / "m.skops"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "sgdclf train: error: unrecognized arguments: -q (see sgdclf train --help)"
    ]


def test_running_out_of_memory_is_one_line(tmp_path, capsys, monkeypatch):
    from sgdclf import _cli

    data = tmp_path / "d.svm"
    data.write_text("1 1:1\n0 2:1\n")

    def no_memory(args):
        raise MemoryError("Unable to allocate 72.8 TiB")

    monkeypatch.setattr(_cli, "_train", no_memory)
    parser_run = _cli.main(["train", str(data), "--model", str(tmp_path / "m.skops")])
    err = capsys.readouterr().err.strip().splitlines()
    assert parser_run == 2
    assert len(err) == 1 and err[0].startswith("sgdclf train: error: not enough memory")


@pytest.mark.parametrize("command", ["predict", "evaluate", "export-onnx"])
def test_a_saved_pipeline_is_named_not_called_unfitted(tmp_path, capsys, command):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    import sgdclf

    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    model = tmp_path / "m.skops"
    sgdclf.save(
        make_pipeline(StandardScaler(), SGDLogisticClassifier()).fit(X, y), model
    )
    (tmp_path / "d.svm").write_text(SVM)
    args = _model_command_args(command, tmp_path)
    assert run(command, "--model", model, *args) == 2
    assert "holds a Pipeline, not a model trained by sgdclf train" in error_line(
        capsys, command
    )
