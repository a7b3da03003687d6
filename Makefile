# Everything is set up by these targets on a fresh machine:
#   make test   - virtual environment, build, pytest
#   make bench  - virtual environment, build, benchmark against scikit-learn
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Build tools must come from the venv (meson-python calls cython and ninja by name).
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: test bench bench-full build clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# (Re)install when the project definition changes. The editable install
# rebuilds the Cython kernel on import when sources change.
$(STAMP): $(BIN)/python pyproject.toml meson.build meson.options sgdclf/meson.build
	$(BIN)/pip install --quiet "meson-python>=0.16" "meson>=1.1" ninja "cython>=3.0.10" numpy
	$(BIN)/pip install --quiet --no-build-isolation --editable ".[test,bench]"
	touch $(STAMP)

build: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

bench-full: $(STAMP)
	$(BIN)/python -m benchmarks --full $(BENCH_ARGS)

clean:
	rm -rf build $(VENV) .pytest_cache
