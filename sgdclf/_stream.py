"""Reading training data in chunks: svmlight/libsvm and CSV files, plain or
compressed (.gz, .bz2), never a whole file at a time.

Each reader yields ``Chunk``s of at most ``chunk_rows`` rows with the line
number of every row, so errors name the file and line. Parsing is done by
scikit-learn's svmlight reader and pandas' CSV reader (both in C), one chunk
at a time.
"""

import bz2
import gzip
import io
import os
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


class DataError(ValueError):
    """A problem with an input file, naming the file and the line."""


@dataclass
class Chunk:
    X: object  # CSR matrix or ndarray, float64
    y: np.ndarray
    lines: np.ndarray  # 1-based line number of every row


@dataclass
class Layout:
    """What must be known about the files before training."""

    format: str  # "svmlight" or "csv"
    n_features: int
    classes: np.ndarray
    zero_based: bool = False  # svmlight: are feature indices 0-based?
    label_column: str = None  # csv


def detect_format(path, requested="auto"):
    if requested != "auto":
        return requested
    name = os.fspath(path).lower()
    for suffix in (".gz", ".bz2"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return "csv" if name.endswith((".csv", ".tsv")) else "svmlight"


class _Source:
    """A binary file, decompressed on the fly; ``done`` is the share of its
    (compressed) bytes read so far."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self.size = max(os.path.getsize(self.path), 1)
        self.raw = open(self.path, "rb")
        if self.path.endswith(".gz"):
            self.stream = gzip.GzipFile(fileobj=self.raw)
        elif self.path.endswith(".bz2"):
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


# ------------------------------------------------------------------ svmlight

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
    return Chunk(X=X.tocsr(), y=y, lines=np.asarray(numbers))


def svmlight_chunks(source, chunk_rows, n_features, zero_based):
    """Chunks of a svmlight/libsvm file (comment and blank lines skipped)."""
    lines, numbers = [], []
    for number, line in enumerate(source.stream, 1):
        stripped = line.strip()
        if not stripped or stripped.startswith(b"#"):
            continue
        lines.append(line if line.endswith(b"\n") else line + b"\n")
        numbers.append(number)
        if len(lines) == chunk_rows:
            yield _parse_svmlight(lines, numbers, source.path, n_features, zero_based)
            lines, numbers = [], []
    if lines:
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


def csv_chunks(source, chunk_rows, label_column):
    """Chunks of a CSV file with a header line; one column holds the labels."""
    import pandas as pd

    try:
        reader = pd.read_csv(source.stream, chunksize=chunk_rows)
        first_line = 2
        for frame in reader:
            if label_column not in frame.columns:
                raise DataError(f"{source.path}, line 1: no column named "
                                f"{label_column!r}.")
            y = frame.pop(label_column).to_numpy()
            numbers = np.arange(first_line, first_line + len(frame))
            first_line += len(frame)
            try:
                X = frame.to_numpy(dtype=np.float64)
            except (ValueError, TypeError):
                numeric = frame.apply(pd.to_numeric, errors="coerce")
                bad = np.argwhere(numeric.isna().to_numpy() & frame.notna().to_numpy())
                row, col = bad[0]
                raise DataError(
                    f"{source.path}, line {numbers[row]}: column "
                    f"{frame.columns[col]!r} holds {frame.iat[row, col]!r}, not a number."
                ) from None
            yield Chunk(X=X, y=y, lines=numbers)
    except pd.errors.ParserError as exc:
        raise DataError(f"{source.path}: {exc}") from None


def csv_columns(path):
    import pandas as pd

    with _Source(path) as source:
        return list(pd.read_csv(source.stream, nrows=0).columns)


# ------------------------------------------------------------------ files

def chunks(paths, layout, chunk_rows, on_progress=None):
    """Chunks of every file in turn, checked against ``layout``.

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
                parts = csv_chunks(source, chunk_rows, layout.label_column)
            for chunk in parts:
                _check_chunk(chunk, layout, source.path)
                if on_progress is not None:
                    on_progress(done_before + source.bytes_read())
                yield chunk
            done_before += source.size


def _check_chunk(chunk, layout, path):
    if chunk.X.shape[1] != layout.n_features:
        raise DataError(f"{path}, line {chunk.lines[0]}: rows have "
                        f"{chunk.X.shape[1]} features, expected {layout.n_features}.")
    known = np.isin(chunk.y, layout.classes)
    if not known.all():
        row = np.flatnonzero(~known)[0]
        raise DataError(
            f"{path}, line {chunk.lines[row]}: unknown label {_text(chunk.y[row])} "
            f"(classes: {', '.join(map(_text, layout.classes))})."
        )


def _text(label):
    """A label as written in a file (svmlight labels are read as floats)."""
    if isinstance(label, (float, np.floating)) and float(label).is_integer():
        return str(int(label))
    return str(label)


def scan(paths, fmt, chunk_rows, label_column=None, n_features=None, classes=None,
         zero_based=False):
    """The layout of the files: classes and number of features from one
    light pass when not given (svmlight: also whether indices start at 0)."""
    fmt = detect_format(paths[0], fmt)
    if fmt == "csv":
        columns = csv_columns(paths[0])
        label = _pick_label_column(columns, label_column, paths[0])
        found = n_features if n_features is not None else len(columns) - 1
        if classes is None:
            labels = []
            import pandas as pd

            for path in paths:
                with _Source(path) as source:
                    for frame in pd.read_csv(source.stream, usecols=[label],
                                             chunksize=chunk_rows):
                        labels.append(np.unique(frame[label].to_numpy()))
            classes = np.unique(np.concatenate(labels))
        return Layout(format="csv", n_features=found, classes=np.asarray(classes),
                      label_column=label)
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
        classes = np.unique(np.concatenate(labels)) if labels else np.array([])
    return Layout(format="svmlight", n_features=int(found),
                  classes=np.asarray(classes), zero_based=bool(zero_based))


def as_matrix(X):
    return X if sp.issparse(X) else np.ascontiguousarray(X)
