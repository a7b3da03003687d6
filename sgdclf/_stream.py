"""Reading data in chunks: svmlight/libsvm and CSV files, plain or compressed
(.gz, .bz2), never a whole file at a time. The path ``-`` is standard input
(compressed or not), which can be read once.

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
import re
import sys
import zlib
from dataclasses import dataclass, field

import numpy as np


class DataError(ValueError):
    """A problem with an input file, naming the file and the line."""


# A scan that finds more weights than this (features x one-vs-rest models)
# stops: one stray index such as 2147483647 would otherwise allocate a model of
# 16 GB. --n-features given explicitly is trusted.
MAX_SCANNED_WEIGHTS = 2**26  # 512 MiB per float64 weight array


@dataclass
class Chunk:
    X: object  # CSR matrix or ndarray, float64
    y: np.ndarray  # labels, or None when the file has none (CSV for predict)
    lines: np.ndarray  # 1-based line number of every row
    path: str = None  # the file the rows come from

    def where(self):
        """ "FILE, lines A-B": where the rows of this chunk are."""
        first, last = self.lines[0], self.lines[-1]
        span = f"line {first}" if first == last else f"lines {first}-{last}"
        return f"{self.path}, {span}"


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
    """ "csv" for .csv/.tsv (optionally compressed), else "svmlight"."""
    if requested != "auto":
        return requested
    return "csv" if _base_name(path).endswith((".csv", ".tsv")) else "svmlight"


def _separator(path):
    return "\t" if _base_name(path).endswith(".tsv") else ","


STDIN = "-"  # the path that means standard input


def is_stdin(path):
    return os.fspath(path) == STDIN


def total_size(paths):
    """The bytes in ``paths``, or None when one is standard input."""
    if any(is_stdin(p) for p in paths):
        return None
    return sum(os.path.getsize(p) for p in paths)


class _Counted(io.RawIOBase):
    """A binary stream that counts the bytes read from it."""

    def __init__(self, stream):
        self.stream = stream
        self.count = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        read = getattr(self.stream, "readinto1", self.stream.readinto)
        n = read(buffer) or 0
        self.count += n
        return n


class _Stdin:
    """Standard input, decompressed if it starts like gzip or bzip2 data.
    One per process: what was read stays read, except the lines handed back
    (a CSV header looked at before the rows are read)."""

    _current = None

    @classmethod
    def get(cls):
        if getattr(sys.stdin, "buffer", None) is None:
            raise DataError("<stdin>: there is no standard input to read.")
        if cls._current is None or cls._current.source is not sys.stdin.buffer:
            cls._current = cls(sys.stdin.buffer)
        return cls._current

    def __init__(self, source):
        self.source = source
        self.counter = _Counted(source)
        self.raw = io.BufferedReader(self.counter, buffer_size=1 << 20)
        magic = self.raw.peek(3)[:3]
        if magic.startswith(b"\x1f\x8b"):
            self.stream = gzip.GzipFile(fileobj=self.raw)
        elif magic == b"BZh":
            self.stream = bz2.BZ2File(self.raw)
        else:
            self.stream = self.raw
        self.handed_back = []


class _Source:
    """A binary file (or standard input), decompressed on the fly;
    ``bytes_read`` counts the (compressed) bytes consumed so far."""

    def __init__(self, path):
        self.on_progress, self.done_before = None, 0
        if is_stdin(path):
            stdin = _Stdin.get()
            self.path, self.size, self.stdin = "<stdin>", None, stdin
            self.raw, self.stream = stdin.raw, stdin.stream
            self.handed_back = stdin.handed_back
            return
        self.path = os.fspath(path)
        self.size = max(os.path.getsize(self.path), 1)
        self.stdin, self.handed_back = None, []
        self.raw = open(self.path, "rb")
        name = self.path.lower()
        if name.endswith(".gz"):
            self.stream = gzip.GzipFile(fileobj=self.raw)
        elif name.endswith(".bz2"):
            self.stream = bz2.BZ2File(self.raw)
        else:
            self.stream = self.raw

    def lines(self, first=1):
        """(number, line) pairs, lines numbered from ``first``; a damaged
        compressed file raises DataError naming the line it stops at."""
        number = first - 1
        try:
            while self.handed_back:
                number += 1
                yield number, self.handed_back.pop(0)
            for line in self.stream:
                number += 1
                yield number, line
        except (EOFError, zlib.error, OSError) as exc:
            raise self._damaged(exc, number + 1) from None

    def readline(self, keep=False):
        """The next line; ``keep``: it stays the next line (standard input
        cannot be opened again to read it a second time)."""
        if self.handed_back:
            line = self.handed_back.pop(0)
        else:
            try:
                line = self.stream.readline()
            except (EOFError, zlib.error, OSError) as exc:
                raise self._damaged(exc, 1) from None
        if keep:
            self.handed_back.insert(0, line)
        return line

    def _damaged(self, exc, number):
        where = f"{self.path}, line {number}"
        if self.stream is self.raw:
            return DataError(f"{where}: cannot read the file ({exc}).")
        if isinstance(exc, EOFError):
            return DataError(
                f"{where}: the compressed data ends early (a truncated "
                "copy or download?); copy or compress the file again."
            )
        return DataError(
            f"{where}: the compressed data is damaged ({exc}); copy or "
            "compress the file again."
        )

    def progress(self):
        """Tell ``on_progress`` the bytes read so far, this file's and those
        of the files before it (``done_before``)."""
        if self.on_progress is not None:
            self.on_progress(self.done_before + self.bytes_read())

    def bytes_read(self):
        if self.stdin is not None:
            return self.stdin.counter.count
        return self.raw.tell()

    def close(self):
        if self.stdin is not None:
            return  # (it may be read on: a CSV header, then the rows)
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


def _not_utf8(lines, numbers, path):
    """DataError for the first line of ``lines`` that is not UTF-8, or None."""
    for line, number in zip(lines, numbers, strict=True):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            return DataError(
                f"{path}, line {number}: byte 0x{line[exc.start]:02x} "
                f"at column {exc.start + 1} is not UTF-8 text; convert "
                "the file to UTF-8 (e.g. iconv -f latin1 -t utf-8)."
            )
    return None


def _check_finite_labels(y, numbers, path):
    if y is not None and y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        row = np.flatnonzero(~np.isfinite(y))[0]
        raise DataError(
            f"{path}, line {numbers[row]}: the label is {y[row]}, not a "
            "finite number; fix or remove the row."
        )


# ------------------------------------------------------------------ svmlight


def _integral(y):
    """svmlight labels are read as floats; whole numbers become integers."""
    if y.size and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
        return y.astype(np.int64)
    return y


def _parse_svmlight(lines, numbers, path, n_features, zero_based):
    from sklearn.datasets import load_svmlight_file

    def parse(block):
        return load_svmlight_file(
            io.BytesIO(block),
            n_features=n_features,
            zero_based=zero_based,
            dtype=np.float64,
        )

    try:
        X, y = parse(b"".join(lines))
    except (ValueError, OverflowError):
        for line, number in zip(lines, numbers, strict=True):
            try:
                parse(line)
            except OverflowError:
                raise DataError(
                    f"{path}, line {number}: a feature index is too large "
                    f"(at most {2**31 - 2}); fix the index."
                ) from None
            except ValueError as exc:
                problem = _svmlight_problem(exc, zero_based)
                raise DataError(f"{path}, line {number}: {problem}") from None
        raise
    X = X.tocsr()
    if not np.all(np.isfinite(X.data)):
        at = np.flatnonzero(~np.isfinite(X.data))[0]
        row = np.searchsorted(X.indptr, at, side="right") - 1
        index = X.indices[at] + (0 if zero_based else 1)
        raise DataError(
            f"{path}, line {numbers[row]}: feature {index} is "
            f"{X.data[at]}, not a finite number (or beyond float64's "
            "range); fix or remove the value."
        )
    _check_finite_labels(y, numbers, path)
    return Chunk(X=X, y=_integral(y), lines=np.asarray(numbers), path=path)


def _svmlight_problem(exc, zero_based):
    """scikit-learn's complaint about one line, said in the file's terms."""
    text = str(exc).rstrip(".")
    if text.startswith("Invalid index 0"):
        return (
            "feature index 0, but the indices are read as 1-based (libsvm's "
            "convention); if they start at 0, as scikit-learn's "
            "dump_svmlight_file writes them, train with --zero-based."
        )
    beyond = re.search(
        r"n_features was set to (\d+), but input file contains (\d+)", text
    )
    if beyond:
        index = int(beyond[2]) - (1 if zero_based else 0)
        return (
            f"feature index {index} is beyond the {beyond[1]} features expected "
            "(the model's, or --n-features)."
        )
    return f"{text}; expected LABEL INDEX:VALUE ... with increasing indices."


def svmlight_chunks(source, chunk_rows, n_features, zero_based):
    """Chunks of a svmlight/libsvm file (comment and blank lines skipped)."""
    for lines, numbers in _line_batches(source.lines(), chunk_rows, True):
        yield _parse_svmlight(lines, numbers, source.path, n_features, zero_based)


# ------------------------------------------------------------------ csv


def _pick_label_column(columns, requested, path):
    if requested is not None:
        if requested not in columns:
            raise DataError(
                f"{path}, line 1: no column named {requested!r} "
                f"(columns: {', '.join(columns)})."
            )
        return requested
    for name in ("label", "target", "y", "class"):
        if name in columns:
            return name
    return columns[-1]


def _csv_header(source, keep=False):
    import pandas as pd

    header = source.readline(keep)
    if not header.strip():
        raise DataError(
            f"{source.path}, line 1: no header line (a CSV file needs "
            "one, naming the columns)."
        )
    bad_text = _not_utf8([header], [1], source.path)
    if bad_text:
        raise bad_text
    try:
        columns = list(
            pd.read_csv(
                io.BytesIO(header), sep=_separator(source.path), nrows=0
            ).columns
        )
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataError(
            f"{source.path}, line 1: cannot read the header ({exc})."
        ) from None
    return columns


def csv_columns(path):
    """The columns a CSV file's header names (standard input's header stays
    to be read with the rows)."""
    with _Source(path) as source:
        return _csv_header(source, keep=True)


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
        raise DataError(
            f"{source.path}, line 1: missing columns {', '.join(map(repr, missing))}."
        )
    has_label = label_column in columns
    for batch, numbers in _line_batches(source.lines(2), chunk_rows, False):
        try:
            frame = pd.read_csv(
                io.BytesIO(b"".join(batch)),
                sep=sep,
                header=None,
                names=columns,
                skip_blank_lines=False,
                keep_default_na=True,
            )
        except UnicodeDecodeError as exc:
            raise (
                _not_utf8(batch, numbers, source.path)
                or DataError(f"{source.path}: {exc}")
            ) from None
        except pd.errors.ParserError as exc:
            for line, number in zip(batch, numbers, strict=True):
                fields = next(
                    csv.reader([line.decode(errors="replace")], delimiter=sep)
                )
                if len(fields) != len(columns):
                    raise DataError(
                        f"{source.path}, line {number}: {len(fields)} "
                        f"fields, the header has {len(columns)}."
                    ) from None
            raise DataError(
                f"{source.path}, lines {numbers[0]}-{numbers[-1]}: {exc}"
            ) from None
        if len(frame) != len(batch):
            # A field with an embedded newline: line numbers would be off.
            raise DataError(
                f"{source.path}, lines {numbers[0]}-{numbers[-1]}: quoted "
                "fields spanning lines are not supported."
            )
        y = None
        if has_label:
            y = frame[label_column].to_numpy()
            missing_label = pd.isna(frame[label_column]).to_numpy()
            if missing_label.any():
                row = np.flatnonzero(missing_label)[0]
                raise DataError(
                    f"{source.path}, line {numbers[row]}: the label "
                    f"({label_column!r}) is missing."
                )
        values = frame[features]
        numeric = values.apply(pd.to_numeric, errors="coerce")
        bad = numeric.isna().to_numpy()
        if bad.any():
            row, col = np.argwhere(bad)[0]
            text = values.iat[row, col]
            what = "is missing" if pd.isna(text) else f"holds {text!r}, not a number"
            raise DataError(
                f"{source.path}, line {numbers[row]}: column {features[col]!r} {what}."
            )
        X = numeric.to_numpy(dtype=np.float64)
        infinite = ~np.isfinite(X)
        if infinite.any():
            row, col = np.argwhere(infinite)[0]
            text = values.iat[row, col]
            text = repr(text) if isinstance(text, str) else str(text)
            raise DataError(
                f"{source.path}, line {numbers[row]}: column "
                f"{features[col]!r} holds {text}, not a finite number "
                "(or beyond float64's range); fix or remove the value."
            )
        _check_finite_labels(y, numbers, source.path)
        yield Chunk(X=X, y=y, lines=np.asarray(numbers), path=source.path)


# ------------------------------------------------------------------ files


def read(paths, layout, chunk_rows, on_progress=None, labels=True):
    """Chunks of every file in turn.

    ``labels=True``: every row must have a label among ``layout.classes``.
    ``on_progress(bytes_done)`` is called after every chunk with the bytes
    read so far over all files.
    """
    for source in _sources(paths, on_progress):
        if layout.format == "svmlight":
            parts = svmlight_chunks(
                source, chunk_rows, layout.n_features, layout.zero_based
            )
        else:
            parts = csv_chunks(source, chunk_rows, layout.label_column, layout.columns)
        for chunk in parts:
            _check_chunk(chunk, layout, source.path, labels)
            source.progress()
            yield chunk


def _check_chunk(chunk, layout, path, labels):
    if chunk.X.shape[1] != layout.n_features:
        raise DataError(
            f"{path}, line {chunk.lines[0]}: rows have "
            f"{chunk.X.shape[1]} features, expected {layout.n_features}."
        )
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
        raise DataError(
            f"{path}: the labels mix types (e.g. numbers and text)."
        ) from None


def _sources(paths, on_progress=None):
    """Each file opened in turn, with ``progress()`` reporting the bytes read
    so far over all of them to ``on_progress``."""
    done_before = 0
    for path in paths:
        with _Source(path) as source:
            source.on_progress, source.done_before = on_progress, done_before
            yield source
            done_before += source.size or source.bytes_read()


def scan(
    paths,
    fmt,
    chunk_rows,
    label_column=None,
    n_features=None,
    classes=None,
    zero_based=False,
    on_progress=None,
):
    """The layout of the files: classes and number of features from one
    light pass when not given (svmlight: also whether indices start at 0,
    unless ``zero_based`` says they do). ``on_progress(bytes_done)`` is
    called after every chunk of that pass."""
    fmt = detect_format(paths[0], fmt)
    if fmt == "csv":
        columns = csv_columns(paths[0])
        label = _pick_label_column(columns, label_column, paths[0])
        features = [c for c in columns if c != label]
        if n_features is not None and n_features != len(features):
            raise DataError(
                f"{paths[0]}, line 1: {len(features)} feature columns, "
                f"but --n-features is {n_features}."
            )
        if classes is None:
            labels = []
            for source in _sources(paths, on_progress):
                for chunk in csv_chunks(source, chunk_rows, label, features):
                    labels.append(np.unique(chunk.y))
                    source.progress()
            classes = _unique_labels(labels, paths[0])
        return Layout(
            format="csv",
            n_features=len(features),
            classes=np.asarray(classes),
            label_column=label,
            columns=features,
        )
    if n_features is not None and classes is not None:
        # No scan: libsvm's convention (indices from 1) unless told otherwise.
        return Layout(
            format="svmlight",
            n_features=n_features,
            classes=np.asarray(classes),
            zero_based=zero_based,
        )
    labels, smallest, largest, where_largest = [], None, -1, None
    for source in _sources(paths, on_progress):
        for chunk in svmlight_chunks(source, chunk_rows, None, True):
            labels.append(np.unique(chunk.y))
            if chunk.X.nnz:
                low = chunk.X.indices.min()
                smallest = low if smallest is None else min(smallest, low)
                at = chunk.X.indices.argmax()
                if chunk.X.indices[at] > largest:
                    largest = int(chunk.X.indices[at])
                    row = np.searchsorted(chunk.X.indptr, at, side="right") - 1
                    where_largest = f"{source.path}, line {chunk.lines[row]}"
            source.progress()
    zero_based = zero_based or smallest == 0
    found = largest + 1 if zero_based else max(largest, 0)
    if n_features is not None:
        if n_features < found:
            raise DataError(
                f"{where_largest}: feature index {largest} is beyond "
                f"--n-features {n_features} (it needs {found})."
            )
        found = n_features
    if classes is None:
        classes = _unique_labels(labels, paths[0])
    n_models = 1 if len(classes) <= 2 else len(classes)
    if n_features is None and found * n_models > MAX_SCANNED_WEIGHTS:
        size = found * n_models * 8 / 2**30
        raise DataError(
            f"{where_largest}: feature index {largest} makes a model of "
            f"{found:,} features ({size:,.1f} GiB per weight array); fix "
            f"the index, or pass --n-features {found} if it is right."
        )
    return Layout(
        format="svmlight",
        n_features=int(found),
        classes=np.asarray(classes),
        zero_based=bool(zero_based),
    )
