# Set-up and entry points. Every target is idempotent: the venv is made once and re-made only
# when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-all lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# The CPU build of torch (a plain `torch` would pull a multi-GB CUDA build).
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev,fast]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/solosr demo -o demo_out

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks

test-all: setup
	$(PY) -m pytest -q -m ''

clean:
	rm -rf $(VENV) demo_out bench_out .pytest_cache
