# Set-up and entry points. Every target is idempotent: the venv is made once and re-made only
# when pyproject.toml changes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-all lint results clean

# PyTorch's CPU wheels: a plain `torch` from PyPI is a CUDA build of several GB. Where this index
# cannot be reached, torch comes from wherever pip is configured to look. `make TORCH_INDEX=` turns
# it off (a GPU machine: pip's default CUDA build).
TORCH_VERSION ?= 2.13.0
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@if [ -n "$(TORCH_INDEX)" ] && $(PY) -c "import urllib.request; urllib.request.urlopen('$(TORCH_INDEX)/torch/', timeout=10)" 2>/dev/null; then \
		echo "torch $(TORCH_VERSION) from $(TORCH_INDEX)"; \
		$(PY) -m pip install -q torch==$(TORCH_VERSION) --index-url $(TORCH_INDEX); \
	else \
		echo "torch $(TORCH_VERSION) from pip's configured indexes ($(if $(TORCH_INDEX),$(TORCH_INDEX) not reachable,TORCH_INDEX empty))"; \
		$(PY) -m pip install -q torch==$(TORCH_VERSION); \
	fi
	$(PY) -m pip install -q -e '.[dev,fast,ray]'
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(VENV)/bin/solosr demo -o demo_out

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/mypy

# The README's results table (docs/results/headline.md): every set this machine has; 32 min on a 2-core EPYC.
results: setup
	$(PY) benchmarks/headline.py -o docs/results

test-all: setup
	$(PY) -m pytest -q -m ''

clean:
	rm -rf $(VENV) demo_out bench_out .pytest_cache
