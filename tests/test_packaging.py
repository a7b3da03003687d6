"""The declared minimum versions, the pins that `make test-min` installs, and
the package metadata agree."""

import importlib.metadata
import os
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
CONSTRAINTS = ROOT / ".ci" / "min-constraints.txt"


def lower_bounds(requirements):
    """{name: version} of the `name>=version` requirements (extras dropped)."""
    bounds = {}
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(\[[^]]*\])?>=([0-9.]+)", requirement)
        if match:
            bounds[match[1].lower()] = match[3]
    return bounds


def pins():
    """{name: version} of the constraints file's `name==version` lines."""
    found = {}
    for line in CONSTRAINTS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            found[name.strip().lower()] = version.strip()
    return found


def declared():
    extras = PROJECT["optional-dependencies"]
    return lower_bounds(PROJECT["dependencies"] + extras["onnx"] + extras["dask"])


def test_every_dependency_has_a_lower_bound():
    for requirement in PROJECT["dependencies"]:
        assert ">=" in requirement, requirement


def test_constraints_pin_exactly_the_declared_lower_bounds():
    assert pins() == declared()


def test_requires_python_is_the_oldest_supported_python():
    assert PROJECT["requires-python"] == ">=3.11"
    assert "Programming Language :: Python :: 3.11" in PROJECT["classifiers"]


@pytest.mark.skipif(
    "SGDCLF_TEST_MIN" not in os.environ, reason="only in make test-min's environment"
)
def test_the_environment_has_the_minimum_versions():
    """make test-min sets SGDCLF_TEST_MIN: the installed versions are the pins
    (pip did not pick newer ones) on the oldest supported Python."""
    installed = {name: importlib.metadata.version(name) for name in pins()}
    assert installed == pins()
    assert sys.version_info[:2] == (3, 11)


def test_license_file_and_metadata():
    assert (ROOT / "LICENSE").read_text().startswith("BSD 3-Clause License")
    assert PROJECT["license"] == "BSD-3-Clause"
    assert PROJECT["license-files"] == ["LICENSE"]
    assert PROJECT["authors"] and PROJECT["keywords"] and PROJECT["classifiers"]
    assert "onnxruntime" in lower_bounds(PROJECT["optional-dependencies"]["onnx"])
    built = importlib.metadata.metadata("sgdclf")
    assert built["License-Expression"] == "BSD-3-Clause"
    assert built["Requires-Python"] == PROJECT["requires-python"]


def test_release_wheels_start_at_the_oldest_supported_python():
    cibuildwheel = PYPROJECT["tool"]["cibuildwheel"]
    oldest = min(
        int(pattern[3:].split("-")[0]) for pattern in cibuildwheel["build"].split()
    )
    assert f">=3.{oldest}" == PROJECT["requires-python"]
    assert (ROOT / ".ci" / "check_wheel.py").is_file()  # the wheels' test
