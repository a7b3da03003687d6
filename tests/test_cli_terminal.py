"""The sgdclf command on a terminal: run in a pseudo-terminal, its output
replayed as a terminal shows it (carriage returns overwrite the line)."""

import os
import select
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from sklearn.datasets import dump_svmlight_file

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="uses a Linux pseudo-terminal"
)

# The command, with every chunk parsed slowly: the bars are on screen long
# enough to be interrupted.
SLOW = textwrap.dedent("""
    import sys, time
    from sgdclf import _stream
    from sgdclf._cli import main

    parse = _stream._parse_svmlight
    seconds = float(sys.argv.pop(1))

    def slow_parse(*args):
        time.sleep(seconds)
        return parse(*args)

    _stream._parse_svmlight = slow_parse
    sys.exit(main())  # as the program does, with the program's arguments
""")


class Terminal:
    """A child process on a 120-column pseudo-terminal (stdout and stderr)."""

    def __init__(self, argv):
        import fcntl
        import pty
        import struct
        import termios

        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
            os.execv(argv[0], argv)
        self.raw = b""
        self.status = None

    def read_until(self, text, timeout=60):
        """Read output until ``text`` has appeared in it."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.raw:
            assert time.monotonic() < deadline, self.text
            if not self._read(deadline - time.monotonic()):
                break
        assert text.encode() in self.raw, self.text

    def wait(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(deadline - time.monotonic()):
            pass
        _, status = os.waitpid(self.pid, 0)
        self.status = os.waitstatus_to_exitcode(status)
        os.close(self.fd)
        return self.status

    def _read(self, timeout):
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # the child has closed the terminal
            return False
        self.raw += data
        return bool(data)

    @property
    def text(self):
        return self.raw.decode(errors="replace")

    def screen(self):
        """The lines as the terminal shows them at the end."""
        lines, column = [[]], 0
        for char in self.text:
            if char == "\r":
                column = 0
            elif char == "\n":
                lines.append([])
                column = 0
            else:
                assert char != "\x1b", "an escape sequence: replay it too"
                line = lines[-1]
                line[column : column + 1] = [char]
                column += 1
        return ["".join(line).rstrip() for line in lines if "".join(line).strip()]


def sgdclf(*args):
    return [sys.executable, "-m", "sgdclf", *map(str, args)]


def slow_sgdclf(seconds, *args):
    return [sys.executable, "-c", SLOW, str(seconds), *map(str, args)]


def is_bar(line):
    return "|" in line and "%" in line or "B/s" in line


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("terminal")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(4000, 10))
    y = (X[:, 0] + rng.normal(size=len(X)) > 0).astype(int)
    dump_svmlight_file(X, y, str(folder / "d.svm"))
    return folder / "d.svm"


def test_the_scan_shows_progress_and_the_table_is_written_above_the_bar(data, tmp_path):
    term = Terminal(
        slow_sgdclf(
            0.02, "train", data, "--model", tmp_path / "m.skops", "--chunk-rows", 100
        )
    )
    assert term.wait() == 0, term.text
    # A bar during the scan, then one per pass.
    assert "scan:" in term.text and "pass 1/1:" in term.text
    assert term.text.index("scan:") < term.text.index("pass 1/1:")
    assert "B/s" in term.text and "rows/s" in term.text
    screen = term.screen()
    # Every line on the screen is whole: the table's rows were written
    # through the bar's writer (not over a bar), and no bar is left behind.
    assert not [line for line in screen if is_bar(line)], screen
    assert screen[0] == (
        "progressive validation (each row predicted before training on it)"
    )
    assert screen[1].split() == ["rows", "log-loss", "accuracy", "since", "last:"] + [
        "log-loss",
        "accuracy",
    ]
    rows = [int(line.split()[0]) for line in screen[2:-1]]
    assert rows == sorted(rows) and len(rows) >= 5
    for line in screen[2:-1]:
        assert len(line.split()) == 5, screen
    assert screen[-1].startswith(f"saved {tmp_path / 'm.skops'}: 2 classes")
    # The table's rows are written while the bar is on screen (cleared first).
    assert "\r" + " " * 20 in term.text.split("     200 ")[0]


@pytest.mark.parametrize("phase", ["scan:", "pass 1/1:", "holdout:"])
def test_ctrl_c_exits_130_with_one_line(data, tmp_path, phase):
    model = tmp_path / "m.skops"
    term = Terminal(
        slow_sgdclf(0.1, "train", data, "--model", model, "--chunk-rows", 100)
        + (["--holdout", "0.1"] if phase == "holdout:" else [])
    )
    term.read_until(phase)
    os.kill(term.pid, signal.SIGINT)
    assert term.wait() == 130
    assert "Traceback" not in term.text
    screen = term.screen()
    assert screen[-1] == "sgdclf train: stopped by SIGINT", screen
    assert term.text.count("stopped by") == 1
    assert not [line for line in screen if is_bar(line)], screen
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_second_ctrl_c_does_not_interrupt_the_first(data, tmp_path):
    term = Terminal(
        slow_sgdclf(
            0.1, "train", data, "--model", tmp_path / "m.skops", "--chunk-rows", 100
        )
    )
    term.read_until("pass 1/1:")
    for _ in range(3):
        os.kill(term.pid, signal.SIGINT)
        time.sleep(0.002)
    assert term.wait() == 130
    assert "Traceback" not in term.text and "Exception" not in term.text
    assert term.screen()[-1] == "sgdclf train: stopped by SIGINT"
    assert term.text.count("stopped by") == 1


def test_predict_to_the_terminal_shows_no_bar(data, tmp_path):
    model = tmp_path / "m.skops"
    assert Terminal(sgdclf("train", data, "--model", model, "--quiet")).wait() == 0
    term = Terminal(sgdclf("predict", "--model", model, data))
    assert term.wait() == 0
    screen = term.screen()
    assert set(screen[:-1]) == {"0", "1"} and len(screen) == 4001
    assert screen[-1] == "wrote the labels of 4000 rows to standard output"


def test_evaluate_shows_a_bar_and_clears_it(data, tmp_path):
    model = tmp_path / "m.skops"
    assert Terminal(sgdclf("train", data, "--model", model, "--quiet")).wait() == 0
    term = Terminal(
        slow_sgdclf(0.02, "evaluate", "--model", model, data, "--chunk-rows", 500)
    )
    assert term.wait() == 0
    assert "evaluate:" in term.text
    screen = term.screen()
    assert screen[0].split() == ["rows", "4000"]
    assert screen[-1] == f"evaluated {model} on 4000 rows"
    assert not [line for line in screen if is_bar(line)], screen


def test_ctrl_c_while_the_command_starts(tmp_path):
    # Ctrl-C before main() runs (the modules of the command line loading).
    script = textwrap.dedent("""
        import runpy, sys

        class CtrlC:
            def find_spec(self, name, path=None, target=None):
                if name == "argparse":
                    raise KeyboardInterrupt

        sys.meta_path.insert(0, CtrlC())
        sys.argv = ["sgdclf", "--help"]
        runpy.run_module("sgdclf", run_name="__main__")
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 130
    assert done.stderr == "sgdclf: stopped by SIGINT\n"
    assert not done.stdout
