"""Reading data in chunks: svmlight/libsvm and CSV files, plain or compressed
(.gz, .bz2), never a whole file at a time.

Each reader yields ``Chunk``s of at most ``chunk_rows`` rows with the line
number of every row, so errors name the file and line. The lines of a chunk
are collected here (blank and comment lines skipped, numbers kept) and parsed
by scikit-learn's svmlight reader or pandas' CSV reader, both in C.
"""

import bz2
import csv
import gzip
import io
import os
from dataclasses import dataclass, field

import numpy as np


class DataError(ValueError):
    """A problem with an input file, naming the file and the line."""


@dataclass
class Chunk:
    X: object  # CSR matrix or ndarray, float64
    y: np.ndarray  # labels, or None when the file has none (CSV for predict)
    lines: np.ndarray  # 1-based line number of every row


@dataclass
class Layout:
    """What must be known about the files before training or predicting."""

    format: str  # "svmlight" or "csv"
    n_features: int
    classes: np.ndarray
    zero_based: bool = False  # svmlight: do feature indices start at 0?
    label_column: str = None  # csv
    columns: list = field(default_factory=list)  # csv: the feature columns, in order


def _base_name(path):
    name = os.fspath(path).lower()
    for suffix in (".gz", ".bz2"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def detect_format(path, requested="auto"):
    """"csv" for .csv/.tsv (optionally compressed), else "svmlight"."""
    if requested != "auto":
        return requested
    return "csv" if _base_name(path).endswith((".csv", ".tsv")) else "svmlight"


def _separator(path):
    return "\t" if _base_name(path).endswith(".tsv") else ","


class _Source:
    """A binary file, decompressed on the fly; ``bytes_read`` counts the
    (compressed) bytes consumed so far."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self.size = max(os.path.getsize(self.path), 1)
        self.raw = open(self.path, "rb")
        name = self.path.lower()
        if name.endswith(".gz"):
            self.stream = gzip.GzipFile(fileobj=self.raw)
        elif name.endswith(".bz2"):
            self.stream = bz2.BZ2File(self.raw)
        else:
            self.stream = self.raw

    def bytes_read(self):
        return self.raw.tell()

    def close(self):
        if self.stream is not self.raw:
            self.stream.close()
        self.raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _line_batches(lines, chunk_rows, skip_comments):
    """(lines, numbers) batches of at most chunk_rows non-blank lines."""
    batch, numbers = [], []
    for number, line in lines:
        stripped = line.strip()
        if not stripped or (skip_comments and stripped.startswith(b"#")):
            continue
        batch.append(line if line.endswith(b"\n") else line + b"\n")
        numbers.append(number)
        if len(batch) == chunk_rows:
            yield batch, numbers
            batch, numbers = [], []
    if batch:
        yield batch, numbers


# ------------------------------------------------------------------ svmlight

def _integral(y):
    """svmlight labels are read as floats; whole numbers become integers."""
    if y.size and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        return y.astype(np.int64)
    return y


def _parse_svmlight(lines, numbers, path, n_features, zero_based):
    from sklearn.datasets import load_svmlight_file

    def parse(block):
        return load_svmlight_file(io.BytesIO(block), n_features=n_features,
                                  zero_based=zero_based, dtype=np.float64)

    try:
        X, y = parse(b"".join(lines))
    except ValueError:
        for line, number in zip(lines, numbers):
            try:
                parse(line)
            except ValueError as exc:
                raise DataError(f"{path}, line {number}: {exc}") from None
        raise
    return Chunk(X=X.tocsr(), y=_integral(y), lines=np.asarray(numbers))


def svmlight_chunks(source, chunk_rows, n_features, zero_based):
    """Chunks of a svmlight/libsvm file (comment and blank lines skipped)."""
    for lines, numbers in _line_batches(enumerate(source.stream, 1), chunk_rows, True):
        yield _parse_svmlight(lines, numbers, source.path, n_features, zero_based)


# ------------------------------------------------------------------ csv

def _pick_label_column(columns, requested, path):
    if requested is not None:
        if requested not in columns:
            raise DataError(f"{path}, line 1: no column named {requested!r} "
                            f"(columns: {', '.join(columns)}).")
        return requested
    for name in ("label", "target", "y", "class"):
        if name in columns:
            return name
    return columns[-1]


def _csv_header(source):
    import pandas as pd

    header = source.stream.readline()
    if not header.strip():
        raise DataError(f"{source.path}, line 1: no header line (a CSV file needs "
                        "one, naming the columns).")
    return list(pd.read_csv(io.BytesIO(header), sep=_separator(source.path),
                            nrows=0).columns)


def csv_columns(path):
    with _Source(path) as source:
        return _csv_header(source)


def csv_chunks(source, chunk_rows, label_column, features):
    """Chunks of a CSV file with a header line.

    ``features``: the feature columns, in the model's order (the file may
    order them differently); ``label_column`` may be absent from the file
    (prediction), then the chunks' y is None.
    """
    import pandas as pd

    sep = _separator(source.path)
    columns = _csv_header(source)
    missing = [c for c in features if c not in columns]
    if missing:
        raise DataError(f"{source.path}, line 1: missing columns "
                        f"{', '.join(map(repr, missing))}.")
    has_label = label_column in columns
    lines = enumerate(source.stream, 2)
    for batch, numbers in _line_batches(lines, chunk_rows, False):
        try:
            frame = pd.read_csv(io.BytesIO(b"".join(batch)), sep=sep, header=None,
                                names=columns, skip_blank_lines=False,
                                keep_default_na=True)
        except pd.errors.ParserError as exc:
            for line, number in zip(batch, numbers):
                fields = next(csv.reader([line.decode(errors="replace")], delimiter=sep))
                if len(fields) != len(columns):
                    raise DataError(f"{source.path}, line {number}: {len(fields)} "
                                    f"fields, the header has {len(columns)}.") from None
            raise DataError(f"{source.path}, lines {numbers[0]}-{numbers[-1]}: "
                            f"{exc}") from None
        if len(frame) != len(batch):
            # A field with an embedded newline: line numbers would be off.
            raise DataError(f"{source.path}, lines {numbers[0]}-{numbers[-1]}: quoted "
                            "fields spanning lines are not supported.")
        y = None
        if has_label:
            y = frame[label_column].to_numpy()
            missing_label = pd.isna(frame[label_column]).to_numpy()
            if missing_label.any():
                row = np.flatnonzero(missing_label)[0]
                raise DataError(f"{source.path}, line {numbers[row]}: the label "
                                f"({label_column!r}) is missing.")
        values = frame[features]
        numeric = values.apply(pd.to_numeric, errors="coerce")
        bad = numeric.isna().to_numpy()
        if bad.any():
            row, col = np.argwhere(bad)[0]
            text = values.iat[row, col]
            what = "is missing" if pd.isna(text) else f"holds {text!r}, not a number"
            raise DataError(f"{source.path}, line {numbers[row]}: column "
                            f"{features[col]!r} {what}.")
        yield Chunk(X=numeric.to_numpy(dtype=np.float64), y=y, lines=np.asarray(numbers))


# ------------------------------------------------------------------ files

def read(paths, layout, chunk_rows, on_progress=None, labels=True):
    """Chunks of every file in turn.

    ``labels=True``: every row must have a label among ``layout.classes``.
    ``on_progress(bytes_done)`` is called after every chunk with the bytes
    read so far over all files.
    """
    done_before = 0
    for path in paths:
        with _Source(path) as source:
            if layout.format == "svmlight":
                parts = svmlight_chunks(source, chunk_rows, layout.n_features,
                                        layout.zero_based)
            else:
                parts = csv_chunks(source, chunk_rows, layout.label_column,
                                   layout.columns)
            for chunk in parts:
                _check_chunk(chunk, layout, source.path, labels)
                if on_progress is not None:
                    on_progress(done_before + source.bytes_read())
                yield chunk
            done_before += source.size


def _check_chunk(chunk, layout, path, labels):
    if chunk.X.shape[1] != layout.n_features:
        raise DataError(f"{path}, line {chunk.lines[0]}: rows have "
                        f"{chunk.X.shape[1]} features, expected {layout.n_features}.")
    if not labels:
        return
    if chunk.y is None:
        raise DataError(f"{path}, line 1: no label column {layout.label_column!r}.")
    known = np.isin(chunk.y, layout.classes)
    if not known.all():
        row = np.flatnonzero(~known)[0]
        raise DataError(
            f"{path}, line {chunk.lines[row]}: unknown label {_text(chunk.y[row])} "
            f"(classes: {', '.join(map(_text, layout.classes))})."
        )


def _text(label):
    """A label as written in a file."""
    if isinstance(label, (float, np.floating)) and float(label).is_integer():
        return str(int(label))
    return str(label)


def _unique_labels(parts, path):
    try:
        return np.unique(np.concatenate(parts)) if parts else np.array([])
    except TypeError:
        raise DataError(f"{path}: the labels mix types (e.g. numbers and text).") from None


def scan(paths, fmt, chunk_rows, label_column=None, n_features=None, classes=None,
         zero_based=False):
    """The layout of the files: classes and number of features from one
    light pass when not given (svmlight: also whether indices start at 0)."""
    fmt = detect_format(paths[0], fmt)
    if fmt == "csv":
        columns = csv_columns(paths[0])
        label = _pick_label_column(columns, label_column, paths[0])
        features = [c for c in columns if c != label]
        if n_features is not None and n_features != len(features):
            raise DataError(f"{paths[0]}, line 1: {len(features)} feature columns, "
                            f"but --n-features is {n_features}.")
        if classes is None:
            labels = []
            for path in paths:
                with _Source(path) as source:
                    for chunk in csv_chunks(source, chunk_rows, label, features):
                        labels.append(np.unique(chunk.y))
            classes = _unique_labels(labels, paths[0])
        return Layout(format="csv", n_features=len(features), classes=np.asarray(classes),
                      label_column=label, columns=features)
    if n_features is not None and classes is not None:
        # No scan: libsvm's convention (indices from 1) unless told otherwise.
        return Layout(format="svmlight", n_features=n_features,
                      classes=np.asarray(classes), zero_based=zero_based)
    labels, smallest, largest = [], None, -1
    for path in paths:
        with _Source(path) as source:
            for chunk in svmlight_chunks(source, chunk_rows, None, True):
                labels.append(np.unique(chunk.y))
                if chunk.X.nnz:
                    low, high = chunk.X.indices.min(), chunk.X.indices.max()
                    smallest = low if smallest is None else min(smallest, low)
                    largest = max(largest, high)
    zero_based = smallest == 0
    found = largest + 1 if zero_based else max(largest, 0)
    if n_features is not None:
        if n_features < found:
            raise DataError(f"{paths[0]}: a feature index is beyond "
                            f"--n-features {n_features} (largest needs {found}).")
        found = n_features
    if classes is None:
        classes = _unique_labels(labels, paths[0])
    return Layout(format="svmlight", n_features=int(found),
                  classes=np.asarray(classes), zero_based=bool(zero_based))
