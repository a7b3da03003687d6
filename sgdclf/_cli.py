"""The sgdclf command: train, predict and evaluate on files, streaming.

    sgdclf train DATA... --model OUT.skops [options]
    sgdclf predict --model M.skops DATA... [--proba] [--output FILE]
    sgdclf evaluate --model M.skops DATA...
    sgdclf export-onnx --model M.skops --output M.onnx

Training calls ``partial_fit`` chunk by chunk, so memory is bounded by the
chunk size and the model, whatever the size of the files. Before training on
a chunk the model predicts it (progressive validation, as Vowpal Wabbit
reports): the table shows log-loss and accuracy on examples the model had
not seen yet, at doubling row counts. On a terminal, progress bars (on
stderr) show the bytes read; the table's lines are written above them.

A command that succeeds says what it did in one line on stderr (stdout stays
data); every failure is one line on stderr, ``sgdclf CMD: error: FILE, line
N: what, and what to do``, with exit status 2: mistakes in the arguments,
files that cannot be read or would be overwritten, bad rows, damaged model
files. Nothing is written then, and no existing file is replaced. Ctrl-C and
SIGTERM stop the command with one line and exit status 128 + the signal
number (130, 143), so a model being written is not left behind as a
temporary file.

The parser is built from the standard library alone, so that ``--help`` and
mistakes in the arguments are answered at once; each command imports what it
needs (numpy, scikit-learn, skops, ...) when it runs.
"""

import sys

try:  # Ctrl-C while the command starts: the same one line as later.
    import argparse
    import ast
    import contextlib
    import copy
    import math
    import os
    import re
    import signal
    import stat
    import textwrap
    import warnings
    from pathlib import Path

    from . import __version__
except KeyboardInterrupt:
    print("sgdclf: stopped by SIGINT", file=sys.stderr)
    sys.exit(130)


class CommandError(Exception):
    """A failure reported as ``PROG: error: MESSAGE`` on one line, exit status 2.

    ``prog`` is set by the argument parser (``sgdclf`` or ``sgdclf train``);
    otherwise main() knows the command.
    """

    def __init__(self, message, prog=None):
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """argparse, reporting a mistake in the arguments like any other failure."""

    def error(self, message):
        raise CommandError(f"{message} (see {self.prog} --help)", prog=self.prog)


class _Help(argparse.RawDescriptionHelpFormatter):
    """Help that shows each option's default, and examples as written."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (
            action.option_strings
            and not action.required
            and not (default is None or default is False or default == [])
            and default is not argparse.SUPPRESS
            and "default" not in text
        ):
            text += " (default: %(default)s)"
        return text


class _Stopped(KeyboardInterrupt):
    """Ctrl-C or SIGTERM, raised where the program is, so cleanup runs."""

    def __init__(self, signum):
        super().__init__()
        self.signal = signum


def main(argv=None):
    """The command with ``argv`` (default: the program's arguments); returns
    the exit status."""
    parser = _parser()
    prog = parser.prog
    # As the program (argv None), a stop leaves Ctrl-C ignored: the process
    # is on its way out, and another Ctrl-C would end it by the signal.
    with _signals_as_interrupt(restore_after_stop=argv is not None):
        try:
            args, extra = parser.parse_known_args(argv)
            prog = f"{parser.prog} {args.command}"
            if extra:  # (argparse would blame the top-level command)
                raise CommandError(
                    f"unrecognized arguments: {' '.join(extra)} (see {prog} --help)"
                )
            return args.run(args)
        except BrokenPipeError:
            # The reader stopped early (e.g. `sgdclf predict ... | head`): not an error.
            sys.stdout = open(os.devnull, "w")
            return 0
        except KeyboardInterrupt as exc:
            number = getattr(exc, "signal", signal.SIGINT)
            _close_bars()
            print(f"{prog}: stopped by {signal.Signals(number).name}", file=sys.stderr)
            return 128 + number
        except CommandError as exc:
            return _fail(exc.prog or prog, str(exc))
        except OSError as exc:
            return _fail(prog, _os_error(exc))
        except (ValueError, TypeError, ImportError) as exc:
            return _fail(prog, str(exc))
        except MemoryError as exc:
            return _fail(
                prog,
                f"not enough memory ({exc or 'MemoryError'}): use smaller "
                "--chunk-rows, or check --n-features and the model's size.",
            )


def _fail(prog, message):
    message = re.sub(r"\s*\n\s*", " ", message.strip())
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def _os_error(exc):
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}."
    return str(exc)


@contextlib.contextmanager
def _signals_as_interrupt(restore_after_stop=True):
    """SIGINT (Ctrl-C) and SIGTERM raise _Stopped; the first one makes both
    ignored, so the cleanup it starts (a temporary file removed, progress
    bars cleared) and the one line that says so are not cut short by a
    second Ctrl-C. The previous handlers come back at the end, after a stop
    only if ``restore_after_stop``."""
    names = (signal.SIGINT, signal.SIGTERM)
    stopped = False

    def stop(signum, frame):
        nonlocal stopped
        stopped = True
        for name in names:
            signal.signal(name, signal.SIG_IGN)
        raise _Stopped(signum)

    try:
        previous = {name: signal.signal(name, stop) for name in names}
    except ValueError:  # not the main thread (main() called from a thread)
        previous = {}
    try:
        yield
    finally:
        if restore_after_stop or not stopped:
            for name, handler in previous.items():
                signal.signal(name, handler)


def _close_bars():
    """Clear the progress bars that an interruption left on the terminal
    (also one interrupted while it was drawn first, which cannot clear
    itself: the line the cursor is on is blanked)."""
    tqdm = sys.modules.get("tqdm")
    if tqdm is None:
        return
    for bar in list(tqdm.tqdm._instances):
        with contextlib.suppress(Exception):
            bar.close()
    with contextlib.suppress(OSError, ValueError):
        if sys.stderr.isatty():
            width = os.get_terminal_size(sys.stderr.fileno()).columns
            # The whole width: an older tqdm draws its bar up to the last
            # column (terminals wrap only at the next character, so "\r"
            # returns to the start of this line).
            sys.stderr.write("\r" + " " * width + "\r")


# ------------------------------------------------------------------ arguments

_DESCRIPTION = """\
Logistic regression by stochastic gradient descent on files larger than
memory: svmlight/libsvm or CSV files (plain, .gz or .bz2, or - for standard
input), read in chunks."""

_EXAMPLES = {
    None: """\
examples:
  sgdclf train train.svm.gz --model model.skops --passes 3 --holdout 0.05
  sgdclf evaluate --model model.skops test.svm
  sgdclf predict --model model.skops new.csv --proba --output proba.csv
  sgdclf export-onnx --model model.skops --output model.onnx""",
    "train": """\
examples:
  sgdclf train train.svm.gz --model model.skops --passes 3 --holdout 0.05 \\
      --param learning_rate=adagrad --param eta0=0.1
  sgdclf train data.csv --label-column species --model model.skops
  zcat big.svm.gz | sgdclf train - --classes=-1,1 --n-features 1000 \\
      --model model.skops""",
    "predict": """\
examples:
  sgdclf predict --model model.skops new.svm > labels.txt
  sgdclf predict --model model.skops new.csv --proba --output proba.csv""",
    "evaluate": """\
examples:
  sgdclf evaluate --model model.skops test.svm.gz
  sgdclf evaluate --model model.skops test.csv --label-column species""",
    "export-onnx": """\
examples:
  sgdclf export-onnx --model model.skops --output model.onnx
  sgdclf export-onnx --model model.skops --output model.onnx --dtype float32""",
}


def _parser():
    parser = _Parser(
        prog="sgdclf",
        description=_DESCRIPTION,
        epilog=_EXAMPLES[None] + "\n\nEach command's options: sgdclf COMMAND --help",
        formatter_class=_Help,
    )
    parser.add_argument("--version", action="version", version=f"sgdclf {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    def command(name, help, description):
        sub = commands.add_parser(
            name,
            help=help,
            description=textwrap.fill(description, 79),
            epilog=_EXAMPLES[name],
            formatter_class=_Help,
        )
        return sub

    train = command(
        "train",
        "train a model on files, streaming",
        "Train SGDLogisticClassifier with partial_fit, one chunk of rows at a "
        "time, and save it as a .skops file. Classes and the number of features "
        "come from a first scan of the files unless --classes and --n-features "
        "give them. The table printed is progressive validation: each chunk is "
        "predicted before the model trains on it.",
    )
    _data(train, "training data")
    train.add_argument(
        "--model",
        required=True,
        type=Path,
        metavar="FILE",
        help="where to save the model (.skops)",
    )
    _input_options(train, "read and trained on")
    train.add_argument(
        "--n-features",
        type=int,
        metavar="N",
        help="number of features (default: from the CSV header, or a scan of "
        "svmlight files; needed for svmlight on standard input)",
    )
    train.add_argument(
        "--classes",
        metavar="A,B,...",
        help="comma-separated labels (default: from a scan of the files; "
        "needed for standard input); write --classes=-1,1 when the first "
        "starts with -",
    )
    train.add_argument(
        "--zero-based",
        action="store_true",
        help="svmlight feature indices start at 0, as scikit-learn writes "
        "them (a scan finds out itself when index 0 occurs)",
    )
    train.add_argument(
        "--passes", type=int, default=1, metavar="N", help="passes over the files"
    )
    train.add_argument(
        "--holdout",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="fraction of rows kept out of training; after each pass, their "
        "log-loss under the model; stop when it no longer improves and keep "
        "the best pass",
    )
    train.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an SGDLogisticClassifier parameter, e.g. alpha=1e-5 "
        "(repeatable; default: the estimator's defaults)",
    )
    _quiet(train, "no progress, table or message (errors only)")
    train.set_defaults(run=_train)

    predict = command(
        "predict",
        "predict labels or probabilities",
        "Write one predicted label per row, or with --proba a CSV of class "
        "probabilities (a header line naming the classes, then one line per "
        "row). Files are read as in training: CSV columns are matched by name, "
        "and a label column may be there or not.",
    )
    _data(predict, "rows to predict")
    _model(predict)
    _input_options(predict, "read and predicted")
    predict.add_argument(
        "--proba",
        action="store_true",
        help="CSV of class probabilities instead of labels",
    )
    predict.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="output file, written whole or not at all (default: standard "
        "output, as with -)",
    )
    _quiet(predict, "no message when done (errors only)")
    predict.set_defaults(run=_predict)

    evaluate = command(
        "evaluate",
        "log-loss, accuracy, ROC AUC, confusion matrix",
        "Print the model's log-loss, accuracy, ROC AUC (two classes) and "
        "confusion matrix on labelled files.",
    )
    _data(evaluate, "labelled rows to evaluate the model on")
    _model(evaluate)
    _input_options(evaluate, "read and evaluated")
    _quiet(evaluate, "no message when done (errors only)")
    evaluate.set_defaults(run=_evaluate)

    export = command(
        "export-onnx",
        "write the model as ONNX",
        "Write the model as an ONNX graph (needs the onnx package): input X "
        "(rows x features, of --dtype), outputs label and probabilities, equal "
        "to predict and predict_proba.",
    )
    _model(export)
    export.add_argument(
        "--output",
        required=True,
        type=Path,
        metavar="FILE",
        help="the .onnx file to write",
    )
    export.add_argument(
        "--dtype",
        choices=["float32", "float64"],
        help="input and computation type (default: the model's)",
    )
    _quiet(export, "no message when done (errors only)")
    export.set_defaults(run=_export_onnx)
    return parser


def _data(parser, what):
    parser.add_argument(
        "data",
        nargs="+",
        type=Path,
        metavar="DATA",
        help=f"{what}: svmlight or CSV files (.csv/.tsv; plain, .gz or .bz2); "
        "- reads standard input",
    )


def _model(parser):
    parser.add_argument(
        "--model",
        required=True,
        type=Path,
        metavar="FILE",
        help="a model saved by sgdclf train (.skops)",
    )


def _quiet(parser, what):
    parser.add_argument("--quiet", action="store_true", help=what)


def _input_options(parser, verb):
    training = parser.prog.endswith("train")
    parser.add_argument(
        "--format",
        choices=["auto", "svmlight", "csv"],
        default="auto",
        help="file format; auto: .csv/.tsv (also .gz, .bz2) is CSV, else "
        + ("svmlight" if training else "svmlight; - is read as in training"),
    )
    parser.add_argument(
        "--label-column",
        metavar="NAME",
        help="CSV: the label column (default: "
        + ("" if training else "the training data's, else ")
        + (
            "label, target, y or class, else the last column)" if training else "label)"
        ),
    )
    parser.add_argument(
        "--chunk-rows",
        type=int,
        default=10_000,
        metavar="N",
        help=f"rows {verb} at a time",
    )


# ------------------------------------------------------------------ train


def _train(args):
    import numpy as np

    from . import _stream
    from ._classifier import SGDLogisticClassifier
    from ._persist import save

    if args.chunk_rows < 1 or args.passes < 1 or not 0 <= args.holdout < 1:
        raise CommandError(
            "--chunk-rows and --passes must be >= 1 and --holdout in [0, 1)."
        )
    if args.n_features is not None and args.n_features < 1:
        raise CommandError("--n-features must be >= 1.")
    _check_stdin_for_training(args)
    _check_paths(args.data, {"--model": args.model})
    model = SGDLogisticClassifier(**_params(args.param))
    classes = _parse_classes(args.classes)
    total_bytes = _stream.total_size(args.data)
    with _scan_progress(total_bytes, args.quiet) as on_progress:
        layout = _stream.scan(
            args.data,
            args.format,
            args.chunk_rows,
            args.label_column,
            args.n_features,
            classes,
            args.zero_based,
            on_progress,
        )
    if len(layout.classes) == 0:
        raise CommandError(f"{', '.join(map(str, args.data))}: no rows to train on.")
    if len(layout.classes) < 2:
        where = "--classes gives" if classes is not None else "the files hold"
        raise CommandError(
            f"{where} {len(layout.classes)} class(es) "
            f"({', '.join(map(_stream._text, layout.classes))}); a "
            "classifier needs at least 2."
        )
    report = _Progressive(quiet=args.quiet)
    holdout = None
    if args.holdout:
        holdout = _Holdout(args.holdout, layout.classes, args.quiet)
    for pass_number in range(1, args.passes + 1):
        rows_read = rows_done = 0
        with _bar(total_bytes, f"pass {pass_number}/{args.passes}", args.quiet) as bar:
            for chunk, held in _chunks(args, layout, bar):
                rows_read += len(held)
                train = ~held
                with _rows_of(chunk):
                    if holdout is not None:
                        holdout.score(chunk, held)
                    if not train.any():
                        continue
                    X, y = chunk.X[train], chunk.y[train]
                    if hasattr(model, "classes_") and pass_number == 1:
                        report.add(model, X, y)
                    model.partial_fit(X, y, classes=layout.classes)
                rows_done += X.shape[0]
                elapsed = max(bar.format_dict["elapsed"], 1e-9)
                bar.set_postfix_str(
                    f"{rows_done} rows, {rows_done / elapsed:,.0f} rows/s"
                )
        report.flush()
        if not _fitted(model):
            raise CommandError(
                f"--holdout {args.holdout} keeps all {rows_read} rows out "
                "of training; lower --holdout or give more rows."
            )
        passes_run = pass_number
        if holdout is None:
            continue
        # The read that trained this pass scored the previous pass's model.
        if not holdout.judge():
            break
        holdout.start(pass_number, model)
    else:
        if holdout is not None and holdout.pending:
            # One more read scores the last pass's model.
            with _bar(total_bytes, "holdout", args.quiet) as bar:
                for chunk, held in _chunks(args, layout, bar):
                    with _rows_of(chunk):
                        holdout.score(chunk, held)
            holdout.judge()
    if holdout is not None:
        model, passes_run = holdout.best, holdout.best_pass
    _remember_layout(model, layout)
    if layout.format == "csv":
        # As fit on a DataFrame would: predicting a DataFrame checks its columns.
        model.feature_names_in_ = np.asarray(layout.columns, dtype=object)
    save(model, args.model)
    _done(
        args,
        f"saved {args.model}: {len(layout.classes)} classes, "
        f"{layout.n_features} features, {_rows(rows_done)} x {passes_run} "
        f"pass{'es' if passes_run > 1 else ''}",
    )
    return 0


def _check_stdin_for_training(args):
    """Standard input is read once: no scan, one pass, no --holdout."""
    from . import _stream

    if not any(_stream.is_stdin(p) for p in args.data):
        return
    _check_stdin_once(args)
    svmlight = _stream.detect_format(_stream.STDIN, args.format) == "svmlight"
    missing = [
        option
        for option, value, needed in [
            ("--classes", args.classes, True),
            ("--n-features", args.n_features, svmlight),
        ]
        if needed and value is None
    ]
    if missing:
        raise CommandError(
            f"- (standard input) is read once, without a first scan to find "
            f"the classes and the number of features: give {' and '.join(missing)}"
            " (e.g. --classes=0,1 --n-features 100)"
            + (", or --format csv if it is CSV" if svmlight else "")
            + "."
        )
    if args.passes > 1 or args.holdout:
        raise CommandError(
            "--passes and --holdout read the data again, and - (standard "
            "input) can be read once: save it to a file and train on that."
        )


def _check_stdin_once(args):
    from . import _stream

    if sum(_stream.is_stdin(p) for p in args.data) > 1:
        raise CommandError("- (standard input) can be read once: name it once.")


@contextlib.contextmanager
def _scan_progress(total, quiet):
    """``on_progress`` for the first scan, whose bar appears when the scan
    reads (none when --classes and --n-features spare it)."""
    bar = None

    def on_progress(done):
        nonlocal bar
        if bar is None:
            bar = _bar(total, "scan", quiet)
        bar.update_to(done)

    try:
        yield on_progress
    finally:
        if bar is not None:
            bar.close()


def _done(args, text):
    """A command's one line saying what it did: on stderr, so that stdout
    holds only data."""
    if not args.quiet:
        _out(text, sys.stderr)


def _rows(n):
    return f"{n} row{'' if n == 1 else 's'}"


def _out(text, file=None):
    """Print a line above the progress bars: they are cleared, the line is
    written, and they are drawn again below it."""
    file = sys.stdout if file is None else file
    if "tqdm" in sys.modules:
        from tqdm import tqdm

        tqdm.write(text, file=file)
    else:
        print(text, file=file)
    file.flush()


def _chunks(args, layout, bar):
    """(chunk, held) for each chunk of one read of the files, ``held`` marking
    the rows --holdout keeps out of training (the same rows every read)."""
    import numpy as np

    from . import _stream
    from ._training import held_out_mask

    first_row = 0
    for chunk in _stream.read(args.data, layout, args.chunk_rows, bar.update_to):
        rows = np.arange(first_row, first_row + chunk.X.shape[0])
        first_row += len(rows)
        yield chunk, held_out_mask(rows, args.holdout)


def _params(items):
    from ._classifier import SGDLogisticClassifier

    params = {}
    names = SGDLogisticClassifier().get_params()
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or name not in names:
            raise CommandError(
                f"--param {item!r}: expected NAME=VALUE with NAME one "
                f"of {', '.join(sorted(names))}."
            )
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = text  # a bare word such as multinomial or adagrad
        params[name] = value
    try:
        SGDLogisticClassifier(**params)._validate_params()
    except (ValueError, TypeError) as exc:
        raise CommandError(f"--param: {exc}") from None
    if params.get("solver") == "saga":
        raise CommandError(
            "--param solver=saga: the command line trains chunk by chunk, and "
            "SAGA keeps a gradient for every example of the whole data set. "
            "Load the data and use SGDLogisticClassifier(solver='saga').fit, "
            "or train here with the default solver='sgd'."
        )
    return params


def _parse_classes(text):
    """Labels as integers, else floats, else text; sorted like classes_."""
    if text is None:
        return None
    import numpy as np

    labels = [t.strip() for t in text.split(",") if t.strip()]
    for kind in (int, float):
        try:
            return np.unique(np.array([kind(t) for t in labels]))
        except ValueError:
            pass
    return np.unique(np.array(labels))


def _check_paths(inputs, outputs):
    """Before any work (not after hours of training): every input can be read,
    and every output (``{option: path}``) can be written without replacing an
    input (also through a link) or anything but a regular file. The input
    ``-`` is standard input."""
    inputs = [path for path in inputs if str(path) != "-"]
    for path in inputs:
        if not path.exists():
            raise CommandError(f"{path}: no such file.")
        if path.is_dir():
            raise CommandError(f"{path} is a directory; name a file in it.")
        if not os.access(path, os.R_OK):
            raise CommandError(f"{path}: permission denied (cannot read it).")
    for option, path in outputs.items():
        for source in inputs:
            if _same_file(path, source):
                raise CommandError(
                    f"{option} {path} is also an input ({source}); "
                    "writing it would destroy it: choose another name."
                )
        _check_writable(path, option)


def _same_file(a, b):
    """Whether a and b name one file: the same path, a link, a hard link."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist (yet)
        return os.path.abspath(a) == os.path.abspath(b)


def _check_writable(path, option):
    if path.is_dir():
        example = path / ("model.skops" if option == "--model" else "out")
        raise CommandError(
            f"{option} {path} is a directory; name a file, e.g. {example}."
        )
    if path.exists():
        if not stat.S_ISREG(path.stat().st_mode):
            raise CommandError(
                f"{option} {path} is not a regular file; name a file "
                "(it is replaced as a whole)."
            )
        if not os.access(path, os.W_OK):
            raise CommandError(
                f"{option} {path} is read-only; make it writable or "
                "choose another name."
            )
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise CommandError(
            f"cannot write {option} {path}: {folder} is not a writable directory."
        )


@contextlib.contextmanager
def _rows_of(chunk):
    """Name the rows when the model refuses them."""
    try:
        yield
    except ValueError as exc:
        raise CommandError(f"{chunk.where()}: {exc}") from None


def _fitted(model):
    return all(
        hasattr(model, name)
        for name in ("coef_", "intercept_", "classes_", "n_features_in_")
    )


def _load(path):
    """The model in ``path``, fitted, or CommandError: a model file is input
    like any other, and a damaged one can fail anywhere inside skops."""
    from ._persist import load

    try:
        model = load(path)
    except OSError as exc:
        raise CommandError(
            f"{path}: cannot read the model ({exc.strerror or exc})."
        ) from None
    except Exception as exc:
        text = str(exc)
        if not isinstance(exc, ValueError):
            text = f"{type(exc).__name__}: {text}"
        if str(path) not in text:
            text = f"{path}: {text}"
        raise CommandError(
            f"{text.rstrip('.')}; not a model sgdclf can load: train it "
            "again or restore the file."
        ) from None
    from ._classifier import SGDLogisticClassifier

    if not isinstance(model, SGDLogisticClassifier):
        # (sgdclf.save also writes pipelines; the command line reads its files
        # with the layout a model trained by sgdclf train remembers.)
        raise CommandError(
            f"{path} holds a {type(model).__name__}, not a model trained by "
            "sgdclf train; use it from Python (sgdclf.load, then predict or "
            "sgdclf.to_onnx)."
        )
    if not _fitted(model):
        raise CommandError(
            f"{path}: the model is not fitted; train one with sgdclf train."
        )
    return model


def _remember_layout(model, layout):
    # predict/evaluate read files the way training did.
    model.sgdclf_input_ = dict(
        format=layout.format,
        zero_based=layout.zero_based,
        label_column=layout.label_column,
        columns=list(layout.columns),
    )


class _Holdout:
    """--holdout: the log-loss on the held-out rows of the model at the end of
    each pass, and the best of those models.

    The held-out rows are never trained on, so the model at the end of pass k
    is scored on them (a frozen copy) while pass k + 1 reads the files, and
    the last pass's model by one more read: k passes read the files k + 1
    times. A pass no better than the best one before it stops the training,
    and the best model is kept (the pass that scored it is dropped).
    """

    def __init__(self, fraction, classes, quiet):
        import numpy as np

        self.fraction = fraction
        self.classes = np.unique(classes)
        self.quiet = quiet
        self.pending = None  # (pass number, the model at its end) being scored
        self.metrics = None
        self.best, self.best_pass, self.best_loss = None, None, math.inf

    def start(self, pass_number, model):
        """Score ``model``, the model at the end of ``pass_number``, next."""
        self.pending = (pass_number, copy.deepcopy(model))
        self.metrics = _Metrics(self.classes)

    def score(self, chunk, held):
        """Score the pending model on the held-out rows of ``chunk``."""
        if self.pending is not None and held.any():
            self.metrics.add(self.pending[1], chunk.X[held], chunk.y[held])

    def judge(self):
        """Report the pending pass's loss; False when it is no better than
        the best pass (then ``best`` is the model to keep)."""
        if self.pending is None:
            return True
        (pass_number, model), self.pending = self.pending, None
        if not self.metrics.n:
            self._say(
                f"pass {pass_number}: no held-out rows (too few rows for "
                f"--holdout {self.fraction})"
            )
            self.best, self.best_pass = model, pass_number
            return True
        loss = self.metrics.log_loss()
        self._say(
            f"pass {pass_number}: holdout log-loss {loss:.6f} ({self.metrics.n} rows)"
        )
        if loss >= self.best_loss:
            self._say(
                "holdout log-loss stopped improving: keeping the model of "
                f"pass {self.best_pass}"
            )
            return False
        self.best, self.best_pass, self.best_loss = model, pass_number, loss
        return True

    def _say(self, text):
        if not self.quiet:
            _out(text)


class _Metrics:
    """Running log-loss, accuracy and confusion matrix of a model's predictions."""

    def __init__(self, classes):
        import numpy as np

        self.classes = np.asarray(classes)
        self.n = 0
        self.loss_sum = 0.0
        self.correct = 0
        self.confusion = np.zeros((len(classes), len(classes)), dtype=np.int64)
        self.scores, self.truth = [], []

    def add(self, model, X, y, keep_scores=False):
        """Score ``model`` on (X, y)."""
        self.add_proba(model.predict_proba(X), y, keep_scores)

    def add_proba(self, proba, y, keep_scores=False):
        import numpy as np

        code = np.searchsorted(self.classes, y)
        p_true = np.clip(proba[np.arange(len(y)), code], 1e-15, 1.0)
        predicted = proba.argmax(axis=1)
        self.n += len(y)
        self.loss_sum += float(-np.log(p_true).sum())
        self.correct += int((predicted == code).sum())
        np.add.at(self.confusion, (code, predicted), 1)
        if keep_scores:
            self.scores.append(proba[:, -1])
            self.truth.append(code)

    def log_loss(self):
        return self.loss_sum / max(self.n, 1)

    def accuracy(self):
        return self.correct / max(self.n, 1)


class _Progressive:
    """Progressive validation lines at doubling row counts: metrics since the
    start and since the previous line."""

    def __init__(self, quiet):
        self.quiet = quiet
        self.next_line = 1
        self.total = self.since = None
        self.header = False

    @property
    def rows_seen(self):
        return self.total.n if self.total is not None else 0

    def add(self, model, X, y):
        if self.total is None:
            self.total, self.since = _Metrics(model.classes_), _Metrics(model.classes_)
        proba = model.predict_proba(X)
        self.total.add_proba(proba, y)
        self.since.add_proba(proba, y)
        if self.rows_seen >= self.next_line:
            self.flush()
            while self.next_line <= self.rows_seen:
                self.next_line *= 2

    def flush(self):
        if self.quiet or self.since is None or not self.since.n:
            return
        if not self.header:
            _out("progressive validation (each row predicted before training on it)")
            _out(
                f"{'rows':>12} {'log-loss':>10} {'accuracy':>9} "
                f"{'since last: log-loss':>21} {'accuracy':>9}"
            )
            self.header = True
        total, since = self.total, self.since
        _out(
            f"{total.n:>12} {total.log_loss():>10.5f} {total.accuracy():>9.4f} "
            f"{since.log_loss():>21.5f} {since.accuracy():>9.4f}"
        )
        self.since = _Metrics(total.classes)


def _bar(total, description, quiet):
    """A progress bar of the bytes read (``update_to(bytes)``) on stderr,
    when it is a terminal; cleared when closed (it is a context manager)."""
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # (no thread to adjust the refresh rate)
    bar = tqdm(
        total=total,
        desc=description,
        unit="B",
        unit_scale=True,
        disable=True if quiet else None,
        file=sys.stderr,
        leave=False,
    )

    def update_to(done):
        bar.update(done - bar.n)

    bar.update_to = update_to
    return bar


# ------------------------------------------------------------------ predict, evaluate


def _layout_for(model, args):
    """How to read files for a trained model: the format from the file name
    (or --format), the rest as in training."""
    from . import _stream

    saved = getattr(model, "sgdclf_input_", {})
    if _stream.is_stdin(args.data[0]) and args.format == "auto":
        fmt = saved.get("format", "svmlight")
    else:
        fmt = _stream.detect_format(args.data[0], args.format)
    label = args.label_column or saved.get("label_column")
    columns = saved.get("columns") or []
    if fmt == "csv":
        header = _stream.csv_columns(args.data[0])
        if label is None:
            label = "label" if "label" in header else None
        if not columns:
            columns = [c for c in header if c != label]
    return _stream.Layout(
        format=fmt,
        n_features=model.n_features_in_,
        classes=model.classes_,
        zero_based=saved.get("zero_based", False),
        label_column=label,
        columns=columns,
    )


def _predict(args):
    import numpy as np

    from . import _stream
    from ._persist import write_atomically

    _check_chunk_rows(args)
    _check_stdin_once(args)
    to_stdout = args.output is None or str(args.output) == "-"
    _check_paths(
        [args.model, *args.data], {} if to_stdout else {"--output": args.output}
    )
    model = _load(args.model)
    layout = _layout_for(model, args)
    # Lines of predictions on the terminal would break a bar.
    no_bar = args.quiet or (to_stdout and sys.stdout.isatty())
    rows = 0

    def write(out):
        nonlocal rows
        if args.proba:
            out.write(",".join(str(c) for c in model.classes_) + "\n")
        total = _stream.total_size(args.data)
        with _bar(total, "predict", no_bar) as bar, _named_columns_checked():
            for chunk in _stream.read(
                args.data, layout, args.chunk_rows, bar.update_to, labels=False
            ):
                with _rows_of(chunk):
                    if args.proba:
                        proba = model.predict_proba(chunk.X)
                        np.savetxt(out, proba, delimiter=",", fmt="%.9g")
                    else:
                        labels = model.predict(chunk.X)
                        out.write("\n".join(str(v) for v in labels) + "\n")
                rows += chunk.X.shape[0]

    if to_stdout:
        write(sys.stdout)
        sys.stdout.flush()
    else:
        write_atomically(args.output, write, "w")
    what = "class probabilities" if args.proba else "labels"
    where = "standard output" if to_stdout else args.output
    _done(args, f"wrote the {what} of {_rows(rows)} to {where}")
    return 0


@contextlib.contextmanager
def _named_columns_checked():
    """Predictions on rows whose columns were matched to the model's by name
    (CSV) or position (svmlight): scikit-learn's warning that X has no
    feature names (for a model trained on CSV) would say nothing useful."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            message="X does not have valid feature names",
            category=UserWarning,
        )
        yield


def _check_chunk_rows(args):
    if args.chunk_rows < 1:
        raise CommandError("--chunk-rows must be >= 1.")


def _export_onnx(args):
    from ._onnx import to_onnx
    from ._persist import write_atomically

    _check_paths([args.model], {"--output": args.output})
    onnx_model = to_onnx(_load(args.model), dtype=args.dtype)
    write_atomically(
        args.output, lambda out: out.write(onnx_model.SerializeToString()), "wb"
    )
    graph = onnx_model.graph
    shape = graph.input[0].type.tensor_type.shape.dim[1].dim_value
    dtype = args.dtype or _onnx_dtype(graph.input[0].type.tensor_type.elem_type)
    _done(
        args,
        f"wrote {args.output}: input {graph.input[0].name!r} ({dtype}, rows x "
        f"{shape}), outputs {' and '.join(repr(o.name) for o in graph.output)}",
    )
    return 0


def _onnx_dtype(elem_type):
    from onnx import helper

    return str(helper.tensor_dtype_to_np_dtype(elem_type))


def _evaluate(args):
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from . import _stream

    _check_chunk_rows(args)
    _check_stdin_once(args)
    _check_paths([args.model, *args.data], {})
    model = _load(args.model)
    layout = _layout_for(model, args)
    metrics = _Metrics(model.classes_)
    binary = len(model.classes_) == 2
    total = _stream.total_size(args.data)
    with _bar(total, "evaluate", args.quiet) as bar, _named_columns_checked():
        for chunk in _stream.read(args.data, layout, args.chunk_rows, bar.update_to):
            with _rows_of(chunk):
                metrics.add(model, chunk.X, chunk.y, keep_scores=binary)
    print(f"rows      {metrics.n}")
    print(f"log-loss  {metrics.log_loss():.6f}")
    print(f"accuracy  {metrics.accuracy():.6f}")
    if binary and metrics.n:
        truth = np.concatenate(metrics.truth)
        if len(np.unique(truth)) == 2:
            print(
                f"ROC AUC   {roc_auc_score(truth, np.concatenate(metrics.scores)):.6f}"
            )
    names = [str(c) for c in model.classes_]
    width = max(8, *(len(n) for n in names))
    print("confusion matrix (rows: true, columns: predicted)")
    print(" " * width + "".join(f"{n:>{width + 1}}" for n in names))
    for name, row in zip(names, metrics.confusion, strict=True):
        print(f"{name:>{width}}" + "".join(f"{v:>{width + 1}}" for v in row))
    sys.stdout.flush()
    _done(args, f"evaluated {args.model} on {_rows(metrics.n)}")
    return 0
