"""Property-based tests of the command line over malformed files.

Whatever the file holds, a command exits 0 or 2; on 2 it prints exactly one
line ``sgdclf CMD: error: ...`` and no traceback, leaves no file behind and
leaves an existing model unchanged. main() runs in-process and the examples
are bounded and derandomized, so this stays a few seconds and reproducible.
"""

import bz2
import contextlib
import gzip
import io
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sgdclf._cli import main

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

GOOD_SVM = b"".join(
    b"%d 1:%.2f 2:%.2f 3:%.2f\n" % (i % 2, i / 7, (i % 3) / 3, -i / 11)
    for i in range(30)
)
GOOD_CSV = b"a,b,label\n" + b"".join(
    b"%.2f,%.2f,%d\n" % (i / 7, (i % 3) / 3, i % 2) for i in range(30)
)

BAD_VALUES = ["nan", "inf", "-inf", "1e309", "-1e400", "abc", "", "1:2", "0x1f", "--1"]
BAD_LABELS = ["2", "nan", "inf", "x", "", "1e400", "\xe9"]
ODD_LINES = [
    b"",
    b"# comment",
    b"1",
    b"1 :1",
    b"1 1:",
    b"qid:1 1:1",
    b"1 1:1 1:2",
    b"1 3:1 1:1",
    b"1 1:1\r",
    b"1\t1:1",
    b"\x00\x00",
    b"1 1:1 # tail",
    b"\xe9 1:1",
    b'"1",2,1',
    b"a,b,label",
    b",,",
    b"1,2",
    b"1,2,1,2",
]
# Not 2**31 - 1: were its bound to break, the model would take 16 GB (that
# index is tested under a memory limit in test_cli_errors.py).
HUGE_INDICES = [0, -1, 2**26 + 1, 2**31, 2**40, 10**19]


def _pick(draw, good, bad, clean):
    """A good draw; one in six a bad one, unless the file is to be clean."""
    if not clean and draw(st.integers(0, 5)) == 0:
        return draw(bad)
    return draw(good)


_good_value = st.floats(-100, 100, allow_nan=False).map(lambda v: f"{v:.4g}")
_odd_line = st.one_of(st.sampled_from(ODD_LINES), st.binary(max_size=16))


@st.composite
def svmlight_line(draw, clean):
    if not clean and draw(st.integers(0, 9)) == 0:
        return draw(_odd_line)
    label = _pick(draw, st.sampled_from(["0", "1"]), st.sampled_from(BAD_LABELS), clean)
    indices = sorted(draw(st.sets(st.integers(1, 6), max_size=4)))
    if not clean and draw(st.integers(0, 11)) == 0:  # out of range, or too large
        indices.append(draw(st.sampled_from(HUGE_INDICES)))
    values = [
        _pick(draw, _good_value, st.sampled_from(BAD_VALUES), clean) for _ in indices
    ]
    return " ".join(
        [label] + [f"{i}:{v}" for i, v in zip(indices, values, strict=True)]
    ).encode("utf-8")


@st.composite
def csv_line(draw, clean):
    if not clean and draw(st.integers(0, 9)) == 0:
        return draw(_odd_line)
    width = _pick(draw, st.just(3), st.sampled_from([1, 2, 4]), clean)
    fields = [
        _pick(draw, _good_value, st.sampled_from(BAD_VALUES), clean)
        for _ in range(width - 1)
    ]
    fields.append(
        _pick(draw, st.sampled_from(["0", "1"]), st.sampled_from(BAD_LABELS), clean)
    )
    return ",".join(fields).encode("utf-8")


WRAPPINGS = ["plain"] * 4 + [
    "gz",
    "bz2",
    "gz-truncated",
    "bz2-truncated",
    "gz-corrupt",
    "bz2-corrupt",
    "garbage-prefix",
    "empty",
]


@st.composite
def files(draw, kind):
    """(file name, bytes): some good rows, then random rows (a third of the
    files have only good ones), in a random wrapping."""
    clean = draw(st.integers(0, 2)) == 0
    line = svmlight_line if kind == "svm" else csv_line
    rows = draw(st.lists(line(clean), max_size=10))
    good = (GOOD_SVM if kind == "svm" else GOOD_CSV).splitlines()
    if kind == "csv":
        header, good = good[0], good[1:]
        if not clean and draw(st.integers(0, 5)) == 0:
            header = draw(
                st.sampled_from(
                    [
                        b"",
                        b"a,b",
                        b"a,a,label",
                        b"label",
                        b"a,b,label,extra",
                        b"\xe9,b,label",
                        b"a;b;label",
                    ]
                )
            )
        rows = [header, *good[: draw(st.integers(0, len(good)))], *rows]
    else:
        rows = [*good[: draw(st.integers(0, len(good)))], *rows]
    body = b"\n".join(rows) + draw(st.sampled_from([b"\n", b""]))
    wrapping = "plain" if clean else draw(st.sampled_from(WRAPPINGS))
    suffix = ".svm" if kind == "svm" else ".csv"
    if wrapping == "empty":
        body = b""
    elif wrapping == "garbage-prefix":
        body = draw(st.binary(min_size=1, max_size=32)) + body
    elif wrapping != "plain":
        compressor, _, damage = wrapping.partition("-")
        suffix += "." + compressor
        body = (gzip.compress if compressor == "gz" else bz2.compress)(body)
        at = draw(st.integers(1, max(1, len(body) - 1)))
        if damage == "truncated":
            body = body[:at]
        elif damage == "corrupt":
            body = body[:at] + draw(st.binary(min_size=1, max_size=8)) + body[at + 8 :]
    return "data" + suffix, body


def run_in(folder, *args):
    """main() in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in args])
    return status, out.getvalue(), err.getvalue()


def check(status, err, command, folder, expected_files):
    assert status in (0, 2), err
    assert "Traceback" not in err
    if status == 2:
        lines = err.splitlines()
        assert len(lines) == 1, err
        assert lines[0].startswith(f"sgdclf {command}: error: "), err
    names = sorted(p.name for p in Path(folder).iterdir())
    assert names == sorted(expected_files), (names, err)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Models trained on good svmlight and CSV files."""
    folder = tmp_path_factory.mktemp("models")
    for kind, good in (("svm", GOOD_SVM), ("csv", GOOD_CSV)):
        data = folder / f"good.{kind}"
        data.write_bytes(good)
        assert (
            main(
                [
                    "train",
                    str(data),
                    "--model",
                    str(folder / f"{kind}.skops"),
                    "--quiet",
                ]
            )
            == 0
        )
    return folder


@pytest.mark.parametrize("kind", ["svm", "csv"])
def test_train_on_malformed_files(models, kind):
    @SETTINGS
    @given(
        file=files(kind),
        chunk_rows=st.sampled_from([1, 3, 1000]),
        holdout=st.sampled_from([0, 0, 0.5, 0.9]),
    )
    def train(file, chunk_rows, holdout):
        name, content = file
        with tempfile.TemporaryDirectory() as folder:
            data, model = Path(folder) / name, Path(folder) / "m.skops"
            data.write_bytes(content)
            shutil.copy(models / f"{kind}.skops", model)
            before = model.read_bytes()
            status, _, err = run_in(
                folder,
                "train",
                data,
                "--model",
                model,
                "--quiet",
                "--chunk-rows",
                chunk_rows,
                "--holdout",
                holdout,
            )
            check(status, err, "train", folder, [name, "m.skops"])
            if status == 2:
                assert model.read_bytes() == before

    train()


@pytest.mark.parametrize("kind", ["svm", "csv"])
@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_predict_and_evaluate_on_malformed_files(models, kind, command):
    @SETTINGS
    @given(
        file=files(kind), chunk_rows=st.sampled_from([1, 4, 1000]), proba=st.booleans()
    )
    def use(file, chunk_rows, proba):
        name, content = file
        with tempfile.TemporaryDirectory() as folder:
            data, model = Path(folder) / name, Path(folder) / "m.skops"
            data.write_bytes(content)
            shutil.copy(models / f"{kind}.skops", model)
            before = model.read_bytes()
            args = [command, "--model", model, data, "--chunk-rows", chunk_rows]
            expected = [name, "m.skops"]
            if command == "predict":
                args += ["--output", Path(folder) / "out.txt"] + (["--proba"] * proba)
            status, _, err = run_in(folder, *args)
            if command == "predict" and status == 0:
                expected.append("out.txt")
            check(status, err, command, folder, expected)
            assert model.read_bytes() == before

    use()
