"""The sgdclf command as a new user meets it: help, --version, standard
input, the --zero-based hint, one line saying what each command did, and
the feature names of models trained on CSV."""

import bz2
import gzip
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import dump_svmlight_file, load_breast_cancer

import sgdclf
from sgdclf._cli import _parser, main


def run(*args):
    return main([str(a) for a in args])


def sgdclf_command(*args, stdin=b""):
    """``python -m sgdclf ARGS`` with ``stdin``: (status, stdout, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "sgdclf", *map(str, args)],
        input=stdin,
        capture_output=True,
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


@pytest.fixture(scope="module")
def cancer(tmp_path_factory):
    """Breast cancer, standardised, as svmlight (0-based, as scikit-learn
    writes it) and as CSV with a 'target' column."""
    folder = tmp_path_factory.mktemp("cancer")
    data = load_breast_cancer(as_frame=True)
    X = (data.data - data.data.mean()) / data.data.std()
    y = data.target.to_numpy()
    dump_svmlight_file(X.to_numpy(), y, str(folder / "cancer.svm"))
    frame = X.assign(target=y)
    frame.to_csv(folder / "cancer.csv", index=False)
    return folder, X, y


# ---------------------------------------------------------------- help


def subcommand_parsers():
    parser = _parser()
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    return parser, commands.choices


def test_version():
    status, out, err = sgdclf_command("--version")
    assert status == 0 and not err
    assert out == f"sgdclf {sgdclf.__version__}\n"


@pytest.mark.parametrize("name", ["train", "predict", "evaluate", "export-onnx"])
def test_every_option_is_documented_with_its_default_and_an_example(name):
    _, commands = subcommand_parsers()
    sub = commands[name]
    text = sub.format_help()
    for action in sub._actions:
        if action.dest == "help":
            continue
        assert action.help, action.dest
        takes_value = action.nargs != 0
        if action.option_strings and takes_value and not action.required:
            help_line = sub.formatter_class(sub.prog)._get_help_string(action)
            assert "default" in help_line, action.dest
    assert "\nexamples:\n  sgdclf " + name in text
    assert "``" not in text and ":class:" not in text


def test_the_top_level_help_is_plain_text_with_examples():
    parser, _ = subcommand_parsers()
    text = parser.format_help()
    assert "``" not in text
    assert "examples:" in text and "--version" in text
    assert parser.description.startswith("Logistic regression")


@pytest.mark.parametrize("name", ["predict", "evaluate"])
def test_predict_and_evaluate_document_data_model_and_chunk_rows(name):
    _, commands = subcommand_parsers()
    help_of = {a.dest: a.help for a in commands[name]._actions}
    assert "svmlight or CSV" in help_of["data"] and "standard input" in help_of["data"]
    assert "sgdclf train" in help_of["model"]
    assert "trained on" not in help_of["chunk_rows"]
    assert {"predict": "predicted", "evaluate": "evaluated"}[name] in (
        help_of["chunk_rows"]
    )


# ---------------------------------------------------------------- standard input


def test_train_from_standard_input_needs_classes_and_n_features(cancer):
    folder, _, _ = cancer
    data = (folder / "cancer.svm").read_bytes()
    model = folder / "stdin.skops"
    status, _, err = sgdclf_command("train", "-", "--model", model, stdin=data)
    assert status == 2
    assert err.count("\n") == 1
    assert "give --classes and --n-features" in err and "--format csv" in err
    status, _, err = sgdclf_command(
        "train", "-", "--model", model, "--classes", "0,1", stdin=data
    )
    assert status == 2 and "give --n-features " in err
    assert not model.exists()


@pytest.mark.parametrize("compress", [None, gzip.compress, bz2.compress])
def test_train_and_predict_from_standard_input(cancer, tmp_path, compress):
    folder, X, y = cancer
    data = (folder / "cancer.svm").read_bytes()
    data = compress(data) if compress else data
    model, from_file = tmp_path / "stdin.skops", tmp_path / "file.skops"
    common = ["--classes", "0,1", "--n-features", 30, "--zero-based"]
    common += ["--param", "random_state=0", "--chunk-rows", 100]
    status, out, err = sgdclf_command(
        "train", "-", "--model", model, *common, stdin=data
    )
    assert status == 0, err
    assert run("train", folder / "cancer.svm", "--model", from_file, *common) == 0
    assert np.array_equal(sgdclf.load(model).coef_, sgdclf.load(from_file).coef_)
    status, out, err = sgdclf_command("predict", "--model", model, "-", stdin=data)
    assert status == 0, err
    assert out.split() == [str(v) for v in sgdclf.load(model).predict(X.to_numpy())]
    assert err == "wrote the labels of 569 rows to standard output\n"


def test_csv_from_standard_input(cancer, tmp_path):
    folder, X, y = cancer
    data = (folder / "cancer.csv").read_bytes()
    model = tmp_path / "m.skops"
    # The header names the features: --classes is enough.
    status, _, err = sgdclf_command(
        "train", "-", "--format", "csv", "--model", model, "--classes", "0,1",
        stdin=data,
    )  # fmt: skip
    assert status == 0, err
    assert list(sgdclf.load(model).feature_names_in_) == list(X.columns)
    # predict and evaluate read - as the model was trained: CSV.
    status, out, err = sgdclf_command("evaluate", "--model", model, "-", stdin=data)
    assert status == 0 and out.startswith("rows      569\n"), err


def test_standard_input_is_read_once(cancer, tmp_path):
    folder, _, _ = cancer
    data = (folder / "cancer.svm").read_bytes()
    options = ["--classes", "0,1", "--n-features", 30, "--zero-based"]
    for extra in (["--passes", 2], ["--holdout", 0.1]):
        status, _, err = sgdclf_command(
            "train", "-", "--model", tmp_path / "m.skops", *options, *extra,
            stdin=data,
        )  # fmt: skip
        assert status == 2 and "can be read once: save it to a file" in err
    status, _, err = sgdclf_command(
        "train", "-", "-", "--model", tmp_path / "m.skops", *options, stdin=data
    )
    assert status == 2 and "name it once" in err


# ---------------------------------------------------------------- --zero-based


def test_index_0_in_a_file_read_as_1_based_suggests_zero_based(cancer, capsys):
    folder, _, _ = cancer
    path = folder / "cancer.svm"  # 0-based
    model = folder / "no-scan.skops"
    assert run("train", path, "--model", model, "--classes", "0,1",
               "--n-features", 30) == 2  # fmt: skip
    err = capsys.readouterr().err
    assert f"{path}, line 1: feature index 0" in err and "--zero-based" in err
    # A model trained on 1-based rows, asked about a row with index 0.
    one = folder / "one.svm"
    one.write_text("1 1:1\n0 2:1\n1 3:0.5\n")
    assert run("train", one, "--model", model, "--quiet") == 0
    zero = folder / "zero.svm"
    zero.write_text("1 0:1 2:1\n")
    for command in ("predict", "evaluate"):
        assert run(command, "--model", model, zero) == 2
        err = capsys.readouterr().err
        assert "feature index 0" in err and "train with --zero-based" in err


def test_the_scan_takes_zero_based_as_said(tmp_path):
    # Index 0 never occurs: the scan would take the file as 1-based.
    path = tmp_path / "d.svm"
    path.write_text("1 1:1\n0 2:1\n")
    assert run("train", path, "--model", tmp_path / "a.skops", "--quiet") == 0
    assert sgdclf.load(tmp_path / "a.skops").n_features_in_ == 2
    assert (
        run("train", path, "--model", tmp_path / "b.skops", "--quiet", "--zero-based")
        == 0
    )
    model = sgdclf.load(tmp_path / "b.skops")
    assert model.n_features_in_ == 3 and model.sgdclf_input_["zero_based"]


# ---------------------------------------------------------------- messages


def test_each_command_says_what_it_did_on_stderr(cancer, tmp_path, capsys):
    folder, _, _ = cancer
    model, out = tmp_path / "m.skops", tmp_path / "out.csv"
    assert run("train", folder / "cancer.csv", "--model", model) == 0
    captured = capsys.readouterr()
    assert captured.err == f"saved {model}: 2 classes, 30 features, 569 rows x 1 pass\n"
    assert run("predict", "--model", model, folder / "cancer.csv", "--output", out) == 0
    captured = capsys.readouterr()
    assert not captured.out
    assert captured.err == f"wrote the labels of 569 rows to {out}\n"
    assert run("predict", "--model", model, folder / "cancer.csv", "--proba") == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("0,1\n") and len(captured.out.splitlines()) == 570
    assert captured.err == (
        "wrote the class probabilities of 569 rows to standard output\n"
    )
    assert run("evaluate", "--model", model, folder / "cancer.csv") == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("rows      569\n")
    assert captured.err == f"evaluated {model} on 569 rows\n"


def test_export_onnx_says_what_it_wrote(cancer, tmp_path, capsys):
    pytest.importorskip("onnx")
    folder, _, _ = cancer
    model, onnx_path = tmp_path / "m.skops", tmp_path / "m.onnx"
    assert run("train", folder / "cancer.svm", "--model", model, "--quiet") == 0
    for dtype in ("float64", "float32"):
        args = ["--dtype", dtype] if dtype == "float32" else []
        assert run("export-onnx", "--model", model, "--output", onnx_path, *args) == 0
        captured = capsys.readouterr()
        assert not captured.out
        assert captured.err == (
            f"wrote {onnx_path}: input 'X' ({dtype}, rows x 30), outputs "
            "'label' and 'probabilities'\n"
        )


@pytest.mark.parametrize(
    "args",
    [
        ["train", "{data}", "--model", "{new}"],
        ["predict", "--model", "{model}", "{data}", "--output", "{out}"],
        ["evaluate", "--model", "{model}", "{data}"],
        ["export-onnx", "--model", "{model}", "--output", "{onnx}"],
    ],
    ids=lambda a: a[0],
)
def test_quiet_says_nothing(cancer, tmp_path, capsys, args):
    if args[0] == "export-onnx":
        pytest.importorskip("onnx")
    folder, _, _ = cancer
    names = dict(
        data=folder / "cancer.svm",
        model=tmp_path / "m.skops",
        new=tmp_path / "new.skops",
        out=tmp_path / "out.txt",
        onnx=tmp_path / "m.onnx",
    )
    assert run("train", names["data"], "--model", names["model"], "--quiet") == 0
    assert run(*[a.format(**names) for a in args], "--quiet") == 0
    captured = capsys.readouterr()
    assert not captured.err
    assert not captured.out or args[0] == "evaluate"


# ---------------------------------------------------------------- feature names


def test_a_model_trained_on_csv_has_the_feature_names(cancer, tmp_path, capsys):
    folder, X, y = cancer
    model_path = tmp_path / "m.skops"
    assert run("train", folder / "cancer.csv", "--model", model_path, "--quiet") == 0
    model = sgdclf.load(model_path)
    assert list(model.feature_names_in_) == list(X.columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        labels = model.predict(X)  # a DataFrame with the same columns
        # The command matches columns by name itself: no warning either.
        assert run("predict", "--model", model_path, folder / "cancer.csv") == 0
    assert capsys.readouterr().out.split() == [str(v) for v in labels]
    with pytest.raises(ValueError, match="feature names should match"):
        model.predict(X[X.columns[::-1]])
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        model.predict(X.to_numpy())


def test_a_model_trained_on_svmlight_has_no_feature_names(cancer, tmp_path):
    folder, X, _ = cancer
    model_path = tmp_path / "m.skops"
    assert run("train", folder / "cancer.svm", "--model", model_path, "--quiet") == 0
    model = sgdclf.load(model_path)
    assert not hasattr(model, "feature_names_in_")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(X.to_numpy())


def test_predicting_csv_with_a_model_from_svmlight_warns_nothing(cancer, tmp_path):
    folder, X, _ = cancer
    model = tmp_path / "m.skops"
    assert run("train", folder / "cancer.svm", "--model", model, "--quiet") == 0
    unlabelled = tmp_path / "new.csv"
    pd.DataFrame(X.to_numpy(), columns=[f"f{i}" for i in range(30)]).to_csv(
        unlabelled, index=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run("predict", "--model", model, unlabelled, "--quiet") == 0
