# tradekit: two commands on a fresh machine -- `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
STAMP_BENCH := $(VENV)/.installed-bench

.PHONY: run test lab bench lint typecheck clean install install-dev browsers

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# each install ends by compiling the numba kernels into their on-disk cache (about 20 s once),
# so the first command on a fresh machine starts at once
$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m tradekit.runtime.warmup
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m tradekit.runtime.warmup
	touch $@ $(STAMP_RUN)

install: $(STAMP_RUN)
install-dev: $(STAMP_DEV)

## make run: the main job (paper auto-trader replaying shipped data; see README)
run: $(STAMP_RUN)
	$(BIN)/tradekit serve

## make test: the whole suite (unit, kernels, integration, notebooks, browser)
test: $(STAMP_DEV) browsers
	$(BIN)/python -m pytest -n 2 -q

## make browsers: Debian's chromium for the browser tests (no browser downloads), when missing
browsers:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium </dev/null; }

lab: $(STAMP_DEV)
	$(BIN)/jupyter lab notebooks/

$(STAMP_BENCH): pyproject.toml $(STAMP_DEV)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	touch $@

## make bench: every benchmark suite, with vectorbt and backtrader as extra anchors
bench: $(STAMP_BENCH)
	$(BIN)/python benchmarks/run.py

lint: $(STAMP_DEV)
	$(BIN)/ruff check tradekit tests benchmarks
	$(BIN)/ruff format --check tradekit tests benchmarks
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
