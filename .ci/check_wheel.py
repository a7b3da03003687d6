"""Smoke test of an installed sgdclf wheel, run by `make test-wheel` (in a
fresh environment with no build tools on PATH) and by cibuildwheel after
each wheel it builds.

    python check_wheel.py [--no-build-tools] [--openmp | --bundled-openmp]

--no-build-tools  fail if a compiler or build tool is on PATH (the point:
                  the wheel must install and run without them)
--openmp          the kernel must have OpenMP (multinomial teams of threads)
--bundled-openmp  ... and, on Linux, run on the OpenMP runtime the wheel
                  carries (sgdclf.libs/), not the system's
"""

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

BUILD_TOOLS = (
    "cc",
    "gcc",
    "clang",
    "c++",
    "g++",
    "ld",
    "make",
    "meson",
    "ninja",
    "cython",
)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-build-tools", action="store_true")
    parser.add_argument("--openmp", action="store_true")
    parser.add_argument("--bundled-openmp", action="store_true")
    args = parser.parse_args()

    if args.no_build_tools:
        found = {tool: shutil.which(tool) for tool in BUILD_TOOLS}
        found = {tool: path for tool, path in found.items() if path}
        assert not found, f"build tools on PATH: {found}"

    import numpy as np
    from sklearn.datasets import make_classification

    import sgdclf
    from sgdclf import SGDLogisticClassifier, _kernel

    # The installed package, not a source folder.
    site = Path(sysconfig.get_paths()["platlib"]).resolve()
    assert Path(sgdclf.__file__).resolve().is_relative_to(site), sgdclf.__file__

    X, y = make_classification(400, 20, n_informative=8, random_state=0)
    model = SGDLogisticClassifier(random_state=0).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (400, 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert model.score(X, y) > 0.8

    # Multinomial with enough work per row for a team of threads, which
    # gives the same model as one thread.
    X, y = make_classification(600, 300, n_informative=40, n_classes=10, random_state=0)
    params = dict(multi_class="multinomial", max_iter=3, tol=None, random_state=0)
    one = SGDLogisticClassifier(n_jobs=1, **params).fit(X, y)
    team = SGDLogisticClassifier(n_jobs=2, **params).fit(X, y)
    assert np.array_equal(one.coef_, team.coef_)
    assert np.allclose(team.predict_proba(X).sum(axis=1), 1.0)

    openmp = _kernel.team_threads_available()
    if args.openmp or args.bundled_openmp:
        assert openmp, "the kernel was built without OpenMP"
    if args.bundled_openmp and sys.platform.startswith("linux"):
        maps = Path("/proc/self/maps").read_text().splitlines()
        runtimes = {line.split()[-1] for line in maps if "gomp" in line}
        # Ours, and maybe scikit-learn's own (scikit_learn.libs/); never the
        # system's.
        assert any("/sgdclf.libs/" in path for path in runtimes), runtimes
        assert all(Path(path).is_relative_to(site) for path in runtimes), runtimes

    # Persistence (skops) and the command line's entry point.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.skops")
        sgdclf.save(model, path)
        assert np.array_equal(sgdclf.load(path).coef_, model.coef_)
    script = shutil.which("sgdclf", path=os.path.dirname(sys.executable))
    assert script, "no sgdclf command next to the interpreter"
    subprocess.run([script, "--help"], check=True, stdout=subprocess.DEVNULL)

    where = Path(sgdclf.__file__).parent
    print(f"check_wheel: sgdclf {sgdclf.__version__} from {where}, OpenMP {openmp}: ok")


if __name__ == "__main__":
    main()
