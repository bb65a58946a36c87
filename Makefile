# Two commands on a fresh machine: `make run` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint typecheck pytest bench lock browser-deps pg-deps clean

# The project with its dev tools and its demo extra (the PD simulator and the playground, which `make run`
# serves and the tests use), editable; ./demo is named so that the extra resolves to this checkout.
$(STAMP): pyproject.toml demo/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ./demo -e '.[dev,demo]'
	touch $(STAMP)

## run: the simulator, the bot and the local Slack playground (http://127.0.0.1:3000)
run: $(STAMP)
	$(BIN)/tikv-chatops serve

## test: ruff, mypy and the whole pytest suite (installs Chromium for the browser test and
## PostgreSQL for the PostgreSQL store's tests, which start their own server)
test: $(STAMP) browser-deps pg-deps lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest -q

# The browser test drives Debian's Chromium; a test tool's own browser download cannot work here.
browser-deps:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  echo "installing Debian's chromium for the browser test"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-color-emoji >/dev/null; \
	fi

# The PostgreSQL store's tests start a throwaway server from Debian's binaries (store/postgres/local.py).
pg-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  echo "installing Debian's postgresql for the PostgreSQL store's tests"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends postgresql >/dev/null; \
	fi

## lock: refresh requirements.lock (runtime dependencies pinned with hashes, from PyPI; the Dockerfile
## installs from it). Installs pip-tools into the venv itself; nothing else needs it.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet 'pip-tools>=7.4'
	env -u PIP_FIND_LINKS $(BIN)/pip-compile --quiet --upgrade --generate-hashes --strip-extras --allow-unsafe \
	  --no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml

## bench: benchmarks; writes bench/results.md
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
