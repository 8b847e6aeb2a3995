# Developer entry points. Everything runs inside .venv, created on demand.
#
#   make venv    create .venv (if missing) and install vitruvian in editable mode with dev extras
#   make models  fetch and verify the pinned pose models into the user cache
#   make demo    run the one-image demo (INPUT=path/to/image.jpg to choose the image)
#   make test    run the test suite
#   make lint    ruff check + ruff format --check
#   make bench   static-mode latency vs MediaPipe (VITRUVIAN_REFERENCE_PYTHON=path, BENCH_ARGS=...)

PYTHON ?= python3
VENV ?= .venv
VPY := $(VENV)/bin/python
# Reinstalled whenever pyproject.toml is newer than this stamp.
STAMP := $(VENV)/.vitruvian-installed
OUT ?= out/demo

.DEFAULT_GOAL := help
.PHONY: help venv models demo test lint bench

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(VPY) || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

models: venv
	$(VPY) -m vitruvian models fetch

demo: venv models
	$(VPY) -m vitruvian demo $(if $(INPUT),--input $(INPUT)) --out $(OUT)
	@echo "demo output is in $(OUT)/"

test: venv models
	$(VPY) -m pytest -q

lint: venv
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .

bench: venv models
	$(VPY) scripts/bench.py $(BENCH_ARGS)
