"""The sgdclf command: train / predict / evaluate on generated files."""

import bz2
import gzip
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import dump_svmlight_file, load_svmlight_file, make_classification

import sgdclf
from sgdclf import SGDLogisticClassifier
from sgdclf._cli import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    X, y = make_classification(3000, 12, n_informative=6, n_classes=3, random_state=0)
    X = (X - X.mean(0)) / X.std(0)
    dump_svmlight_file(X[:2400], y[:2400], str(d / "train.svm"))
    dump_svmlight_file(X[2400:], y[2400:], str(d / "test.svm"))
    raw = (d / "train.svm").read_bytes()
    (d / "train.svm.gz").write_bytes(gzip.compress(raw))
    (d / "train.svm.bz2").write_bytes(bz2.compress(raw))
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(12)])
    frame["label"] = np.array(["red", "green", "blue"])[y]
    frame[:2400].to_csv(d / "train.csv", index=False)
    frame[2400:].to_csv(d / "test.csv", index=False)
    return d, X, y


def run(*args):
    return main([str(a) for a in args])


@pytest.mark.parametrize("name", ["train.svm", "train.svm.gz", "train.svm.bz2"])
def test_streamed_model_equals_partial_fit_over_the_same_chunks(files, tmp_path, name):
    d, X, y = files
    model_path = tmp_path / "m.skops"
    assert (
        run(
            "train",
            d / name,
            "--model",
            model_path,
            "--chunk-rows",
            500,
            "--param",
            "alpha=1e-3",
            "--param",
            "random_state=0",
            "--quiet",
        )
        == 0
    )
    streamed = sgdclf.load(model_path)
    X_file, y_file = load_svmlight_file(str(d / "train.svm"))
    reference = SGDLogisticClassifier(alpha=1e-3, random_state=0)
    for start in range(0, 2400, 500):
        reference.partial_fit(
            X_file[start : start + 500],
            y_file[start : start + 500],
            classes=np.unique(y_file),
        )
    assert_allclose(streamed.coef_, reference.coef_, rtol=1e-12)
    assert_allclose(streamed.intercept_, reference.intercept_, rtol=1e-12)


def test_csv_train_predict_evaluate(files, tmp_path, capsys):
    d, X, y = files
    model_path = tmp_path / "m.skops"
    assert (
        run(
            "train",
            d / "train.csv",
            "--model",
            model_path,
            "--passes",
            3,
            "--chunk-rows",
            300,
            "--param",
            "multi_class=multinomial",
            "--param",
            "learning_rate=adagrad",
            "--param",
            "eta0=0.1",
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "progressive validation" in captured.out
    assert captured.err.startswith(f"saved {model_path}: 3 classes, 12 features")
    model = sgdclf.load(model_path)
    assert list(model.classes_) == ["blue", "green", "red"]
    assert model.multi_class == "multinomial"

    labels = tmp_path / "labels.txt"
    assert (
        run("predict", "--model", model_path, d / "test.csv", "--output", labels) == 0
    )
    predicted = labels.read_text().split()
    truth = np.array(["red", "green", "blue"])[y[2400:]]
    assert (
        len(predicted) == 600 and np.mean(np.array(predicted) == truth) > 0.5
    )  # 3 classes

    proba = tmp_path / "proba.csv"
    assert (
        run(
            "predict",
            "--model",
            model_path,
            d / "test.csv",
            "--proba",
            "--output",
            proba,
        )
        == 0
    )
    table = pd.read_csv(proba)
    assert list(table.columns) == ["blue", "green", "red"]
    assert_allclose(table.to_numpy().sum(axis=1), 1.0, rtol=1e-6)

    assert run("evaluate", "--model", model_path, d / "test.csv") == 0
    report = capsys.readouterr().out
    for word in ("log-loss", "accuracy", "confusion matrix"):
        assert word in report


def test_binary_evaluate_reports_roc_auc(files, tmp_path, capsys):
    d, X, y = files
    frame = pd.read_csv(d / "train.csv")
    frame["label"] = np.where(frame["label"] == "red", "red", "other")
    frame.to_csv(tmp_path / "binary.csv", index=False)
    model_path = tmp_path / "m.skops"
    assert run("train", tmp_path / "binary.csv", "--model", model_path, "--quiet") == 0
    assert run("evaluate", "--model", model_path, tmp_path / "binary.csv") == 0
    assert "ROC AUC" in capsys.readouterr().out


def test_holdout_reports_each_pass(files, tmp_path, capsys):
    d, X, y = files
    assert (
        run(
            "train",
            d / "train.svm",
            "--model",
            tmp_path / "m.skops",
            "--passes",
            4,
            "--holdout",
            0.2,
            "--param",
            "learning_rate=constant",
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "pass 1: holdout log-loss" in out


@pytest.mark.parametrize(
    "content, message",
    [
        (b"1 1:0.5 2:0.25\n0 1:oops\n", "line 2"),
        (b"1 1:0.5\n# comment\n\n7 2:1.0\n", "line 4: unknown label 7"),
        (b"1 1:0.5\n0 99:1.0\n", "line 2"),
    ],
)
def test_bad_svmlight_rows_name_file_and_line_and_leave_no_model(
    tmp_path, capsys, content, message
):
    path = tmp_path / "bad.svm"
    path.write_bytes(content)
    model = tmp_path / "m.skops"
    assert (
        run(
            "train",
            path,
            "--model",
            model,
            "--classes",
            "0,1",
            "--n-features",
            5,
            "--quiet",
        )
        == 2
    )
    err = capsys.readouterr().err
    assert str(path) in err and message in err
    assert not model.exists()
    assert list(tmp_path.iterdir()) == [path]


def test_bad_csv_value_names_line_and_column(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("a,b,label\n1,2,x\n3,oops,y\n")
    assert run("train", path, "--model", tmp_path / "m.skops", "--quiet") == 2
    err = capsys.readouterr().err
    assert "line 3" in err and "'b'" in err and "oops" in err


def test_bad_params_are_rejected(files, tmp_path, capsys):
    d, _, _ = files
    assert (
        run(
            "train",
            d / "train.svm",
            "--model",
            tmp_path / "m.skops",
            "--param",
            "alpha=-1",
        )
        == 2
    )
    assert "alpha" in capsys.readouterr().err
    assert (
        run(
            "train",
            d / "train.svm",
            "--model",
            tmp_path / "m.skops",
            "--param",
            "nonsense=1",
        )
        == 2
    )
    assert "nonsense" in capsys.readouterr().err
    assert not (tmp_path / "m.skops").exists()


def test_python_dash_m_and_console_script(files, tmp_path):
    d, _, _ = files
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sgdclf",
            "train",
            str(d / "train.svm"),
            "--model",
            str(tmp_path / "m.skops"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sgdclf",
            "predict",
            "--model",
            str(tmp_path / "m.skops"),
            str(d / "test.svm"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and len(result.stdout.split()) == 600


def test_export_onnx(files, tmp_path):
    onnxruntime = pytest.importorskip("onnxruntime")
    d, X, y = files
    model_path, onnx_path = tmp_path / "m.skops", tmp_path / "m.onnx"
    assert run("train", d / "train.svm", "--model", model_path, "--quiet") == 0
    assert (
        run(
            "export-onnx",
            "--model",
            model_path,
            "--output",
            onnx_path,
            "--dtype",
            "float32",
        )
        == 0
    )
    session = onnxruntime.InferenceSession(
        str(onnx_path), providers=["CPUExecutionProvider"]
    )
    X_test, _ = load_svmlight_file(str(d / "test.svm"), n_features=12)
    X_test = X_test.toarray().astype(np.float32)
    _, proba = session.run(None, {"X": X_test})
    assert_allclose(
        proba, sgdclf.load(model_path).predict_proba(X_test), rtol=1e-4, atol=1e-5
    )


def test_zero_based_indices_without_a_scan(files, tmp_path, capsys):
    # scikit-learn writes 0-based indices; with --classes and --n-features
    # there is no scan to find out, so libsvm's 1-based convention applies
    # unless --zero-based says otherwise.
    d, _, _ = files
    args = [
        "train",
        d / "train.svm",
        "--classes",
        "0,1,2",
        "--n-features",
        12,
        "--quiet",
        "--param",
        "random_state=0",
    ]
    assert run(*args, "--model", tmp_path / "a.skops") == 2
    assert "line 1" in capsys.readouterr().err
    assert run(*args, "--zero-based", "--model", tmp_path / "b.skops") == 0
    scanned = tmp_path / "c.skops"
    assert (
        run(
            "train",
            d / "train.svm",
            "--model",
            scanned,
            "--quiet",
            "--param",
            "random_state=0",
        )
        == 0
    )
    assert_array_equal(
        sgdclf.load(tmp_path / "b.skops").coef_, sgdclf.load(scanned).coef_
    )


def test_predict_failing_half_way_leaves_no_output(files, tmp_path, capsys):
    d, _, _ = files
    model = tmp_path / "m.skops"
    assert run("train", d / "train.svm", "--model", model, "--quiet") == 0
    data = tmp_path / "new.svm"
    data.write_bytes((d / "test.svm").read_bytes() + b"1 3:not-a-number\n")
    output = tmp_path / "out.txt"
    assert (
        run("predict", "--model", model, data, "--output", output, "--chunk-rows", 100)
        == 2
    )
    assert "line 601" in capsys.readouterr().err
    assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.skops", "new.svm"]


def test_progress_bar_only_on_a_terminal(files, tmp_path, capsys):
    d, _, _ = files
    assert (
        run(
            "train",
            d / "train.svm",
            "--model",
            tmp_path / "m.skops",
            "--chunk-rows",
            500,
        )
        == 0
    )
    assert "rows/s" not in capsys.readouterr().err  # pytest's stderr is not a tty


@pytest.mark.skipif(sys.platform != "linux", reason="uses a Linux pseudo-terminal")
def test_progress_bar_on_a_terminal(files, tmp_path):
    import fcntl
    import os
    import pty
    import struct
    import termios

    d, _, _ = files
    pid, fd = pty.fork()
    if pid == 0:  # the child: a 120-column terminal, then the command
        fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.execv(
            sys.executable,
            [
                sys.executable,
                "-m",
                "sgdclf",
                "train",
                str(d / "train.svm"),
                "--model",
                str(tmp_path / "m.skops"),
                "--chunk-rows",
                "200",
            ],
        )
    output = b""
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        output += data
    os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    assert "pass 1/1" in text and "rows/s" in text and "B/s" in text


# ---------------------------------------------------------------- files a user has


def _csv(path, text):
    path.write_text(text)
    return path


def test_predict_csv_without_labels_and_with_columns_reordered(files, tmp_path, capsys):
    d, X, y = files
    model = tmp_path / "m.skops"
    assert (
        run(
            "train",
            d / "train.csv",
            "--model",
            model,
            "--quiet",
            "--param",
            "random_state=0",
        )
        == 0
    )
    test = pd.read_csv(d / "test.csv")
    expected = sgdclf.load(model).predict(test.drop(columns="label"))
    unlabelled = test.drop(columns="label")
    unlabelled[unlabelled.columns[::-1]].to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "out.txt"
    assert run("predict", "--model", model, tmp_path / "new.csv", "--output", out) == 0
    assert_array_equal(out.read_text().split(), expected)
    # A missing column is named.
    unlabelled.drop(columns="f3").to_csv(tmp_path / "short.csv", index=False)
    assert run("predict", "--model", model, tmp_path / "short.csv") == 2
    assert "'f3'" in capsys.readouterr().err


def test_model_from_svmlight_predicts_csv(files, tmp_path):
    d, X, y = files
    model = tmp_path / "m.skops"
    assert run("train", d / "train.svm", "--model", model, "--quiet") == 0
    frame = pd.DataFrame(X[2400:], columns=[f"f{i}" for i in range(12)])
    frame.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "out.txt"
    assert run("predict", "--model", model, tmp_path / "new.csv", "--output", out) == 0
    assert_array_equal(
        np.array(out.read_text().split(), dtype=int),
        sgdclf.load(model).predict(X[2400:]),
    )


def test_holdout_on_data_within_one_chunk_and_unsorted_classes(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    labels = np.where(X[:, 0] > 0, "yes", "no")
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame["label"] = labels
    frame.to_csv(tmp_path / "d.csv", index=False)
    assert (
        run(
            "train",
            tmp_path / "d.csv",
            "--model",
            tmp_path / "m.skops",
            "--passes",
            3,
            "--holdout",
            0.2,
            "--classes",
            "yes,no",
        )
        == 0
    )
    out = capsys.readouterr().out
    losses = [
        float(line.split()[4])
        for line in out.splitlines()
        if line.startswith("pass ") and "holdout log-loss" in line
    ]
    assert losses and all(loss > 0 for loss in losses)


def test_integer_classes_stay_integers(tmp_path):
    path = _csv(tmp_path / "d.csv", "a,b,label\n1,0,0\n0,1,1\n1,1,1\n0,0,0\n")
    model = tmp_path / "m.skops"
    assert run("train", path, "--model", model, "--classes", "0,1", "--quiet") == 0
    assert sgdclf.load(model).classes_.dtype.kind == "i"
    out = tmp_path / "out.txt"
    assert run("predict", "--model", model, path, "--output", out) == 0
    assert set(out.read_text().split()) <= {"0", "1"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("a,b,label\n1,2,0\n3,4,\n", "line 3: the label ('label') is missing"),
        ("a,b,label\n1,2,0\n3,,1\n", "line 3: column 'b' is missing"),
        ("a,b,label\n1,2,0\n\n\n3,zz,1\n", "line 5: column 'b' holds 'zz'"),
        ("a,b,label\n1,2,0\n3,4,5,6\n", "line 3"),
        ("", "line 1: no header line"),
    ],
)
def test_csv_problems_name_the_line(tmp_path, capsys, text, message):
    path = _csv(tmp_path / "bad.csv", text)
    assert run("train", path, "--model", tmp_path / "m.skops", "--quiet") == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m.skops").exists()


def test_tsv_and_upper_case_compressed_names(files, tmp_path):
    d, X, y = files
    frame = pd.read_csv(d / "train.csv")
    frame.to_csv(tmp_path / "d.tsv", sep="\t", index=False)
    (tmp_path / "D.CSV.GZ").write_bytes(gzip.compress((d / "train.csv").read_bytes()))
    for name in ("d.tsv", "D.CSV.GZ"):
        model = tmp_path / f"{name}.skops"
        assert run("train", tmp_path / name, "--model", model, "--quiet") == 0
        assert sgdclf.load(model).n_features_in_ == 12


def test_header_only_csv(files, tmp_path, capsys):
    d, _, _ = files
    model = tmp_path / "m.skops"
    assert run("train", d / "train.csv", "--model", model, "--quiet") == 0
    header = (d / "test.csv").read_text().splitlines()[0] + "\n"
    path = _csv(tmp_path / "empty.csv", header)
    out = tmp_path / "out.txt"
    assert run("predict", "--model", model, path, "--output", out) == 0
    assert out.read_text() == ""
    assert run("evaluate", "--model", model, path) == 0
    assert "rows      0" in capsys.readouterr().out


def test_outputs_have_the_usual_file_mode(files, tmp_path):
    import os
    import stat

    d, _, _ = files
    model, out = tmp_path / "m.skops", tmp_path / "out.txt"
    assert run("train", d / "train.svm", "--model", model, "--quiet") == 0
    assert run("predict", "--model", model, d / "test.svm", "--output", out) == 0
    umask = os.umask(0)
    os.umask(umask)
    for path in (model, out):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_unwritable_model_path_fails_before_training(files, tmp_path, capsys):
    d, _, _ = files
    assert (
        run(
            "train",
            d / "train.svm",
            "--model",
            tmp_path / "missing" / "m.skops",
            "--quiet",
        )
        == 2
    )
    assert "not a writable directory" in capsys.readouterr().err


def test_predict_into_a_closed_pipe_is_not_an_error(files, tmp_path):
    d, _, _ = files
    model = tmp_path / "m.skops"
    assert run("train", d / "train.svm", "--model", model, "--quiet") == 0
    result = subprocess.run(
        f"{sys.executable} -m sgdclf predict --model {model} {d / 'test.svm'} "
        "--chunk-rows 10 | head -1",
        shell=True,
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip() and "error" not in result.stderr
