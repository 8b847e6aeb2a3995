# Developer entry points. Everything runs inside .venv, created on demand.
#
#   make venv    create .venv (if missing) and install vitruvian in editable mode with dev extras
#   make models  fetch and verify the pinned pose models into the user cache
#   make demo    run the one-image demo (INPUT=path/to/image.jpg to choose the image)
#   make test    run the test suite (Python, then the browser package's tests under node)
#   make web     build the browser package into web/dist (npm ci, type check, bundle; served by `vitruvian web`)
#   make test-web  the browser package alone: npm ci, type check and build, calculator goldens, node tests
#   make test-matrix  the fast suite on the oldest and newest Python and with the lowest dependency versions
#   make lint    ruff check + ruff format --check
#   make bench   latency and throughput vs MediaPipe (VITRUVIAN_REFERENCE_PYTHON=path, BENCH_ARGS=...)
#   make soak    memory over a long run (20,000+ frames)
#   make fuzz    property-based tests with many examples (the fast profile runs in make test)

PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
# Reinstalled whenever pyproject.toml is newer than this stamp.
STAMP := $(VENV)/.vitruvian-installed
OUT ?= out/demo

.DEFAULT_GOAL := help
.PHONY: help venv models demo test test-py web test-web test-matrix lint bench soak fuzz

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	@# Older venvs had the headless OpenCV build; both builds share cv2/, so swap them cleanly.
	@if $(VPY) -m pip show -q opencv-python-headless >/dev/null 2>&1; then \
		$(VPY) -m pip uninstall -y -q opencv-python-headless opencv-python; fi
	$(VPY) -m pip install --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

models: venv
	$(VPY) -m vitruvian models fetch

demo: venv models
	$(VPY) -m vitruvian demo $(if $(INPUT),--input $(INPUT)) --out $(OUT)
	@echo "demo output is in $(OUT)/"

test: test-py test-web

# The Python suite includes the browser package in headless Chromium, so web/dist is built first.
test-py: venv models web
	$(VPY) -m pytest -q

# The browser package (web/) built into web/dist: dependencies from its package-lock.json,
# `tsc --strict` and the esbuild bundle.
web:
	@command -v npm >/dev/null || { echo "make web needs node and npm (apt-get install npm)"; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	cd web && npm run --silent build

# The browser package built (make web), then its calculators against goldens the Python package
# writes now.
test-web: venv web
	$(VPY) scripts/make_web_goldens.py web/build/goldens
	cd web && npm test

# Venvs in .venv-matrix/ (reused while pyproject.toml is unchanged); MATRIX_ARGS=--fresh rebuilds.
test-matrix: models
	$(PYTHON) scripts/test_matrix.py $(MATRIX_ARGS)

lint: venv
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .

bench: venv models
	$(VPY) -m vitruvian bench $(BENCH_ARGS)

soak: venv models
	$(VPY) -m vitruvian bench --mode soak $(BENCH_ARGS)

fuzz: venv models
	HYPOTHESIS_PROFILE=long $(VPY) -m pytest -q tests/test_fuzz.py
