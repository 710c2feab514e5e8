# The two commands of the README: `make run` and `make test`. Both create .venv when needed.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip --quiet --disable-pip-version-check

.PHONY: run test lint bench clean browser redis messages architecture api-docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install -e .
	touch $@

# llama-cpp-python (test extra) has no wheel: it compiles llama.cpp, several minutes on 2 cores. Only
# what its Python server loads (no common library, see tests/llama_cpp_lean.cmake, no multimodal
# library, no tests, examples or tools).
# Portable, not native: GGML_NATIVE=OFF compiles for any x86-64 CPU with AVX2, FMA, F16C and BMI2
# (x86-64-v3), never for the features of the machine that builds it. A native build on a CPU with AMX
# turns on ggml's AMX kernels, and the server then dies on the first completion (SIGILL or SIGSEGV);
# on a CPU without AVX-512 a wheel built natively elsewhere dies the same way. pip keeps the wheels it
# builds in its cache, keyed by version and not by CMAKE_ARGS, so a wheel built with other flags (by
# a plain `pip install llama-cpp-python` on this machine, say) would be taken instead of this build:
# --no-cache-dir makes it compile with these flags. tests/llama_server.py also loads models without
# ggml's extra buffer types (AMX, repacked layouts), so even a native build answers on every CPU.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
	-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF \
	-DCMAKE_PROJECT_llama.cpp_INCLUDE=$(CURDIR)/tests/llama_cpp_lean.cmake
LLAMA_CPP := $(shell grep -o 'llama-cpp-python\[server\]==[0-9.]*' pyproject.toml)

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "Installing the test dependencies; llama-cpp-python compiles llama.cpp (minutes, once)."
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install --no-cache-dir '$(LLAMA_CPP)'
	$(PIP) install -e '.[test]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	LOKET_DEMO=1 $(BIN)/loket serve

# A temp folder of its own: pytest prunes old runs' folders in the shared one, and with them the data
# of a PostgreSQL server another run may still be using. One worker per core (TEST_WORKERS), each test
# file whole on one worker, so a file's browser, identity provider and servers start once.
TEST_WORKERS ?= 2

test: $(VENV)/.installed-test browser redis lint
	$(BIN)/pytest --basetemp=.pytest_tmp -n $(TEST_WORKERS) --dist loadfile

# The browser tests drive Debian's Chromium (never a browser download) and inject axe-core, installed
# from npm into node_modules/. In CI (CI=true) a failed install fails; elsewhere those tests skip loudly.
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo -n)

browser: node_modules/.installed
	@[ -x /usr/bin/chromium ] || { $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		$(SUDO) apt-get install -y -q chromium; } || [ "$$CI" != true ]

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error && touch $@ || [ "$$CI" != true ]

# The shared rate limit store's tests start Debian's redis-server; as with the browser, a failed install
# fails in CI only, elsewhere those tests skip loudly.
redis:
	@[ -x /usr/bin/redis-server ] || { $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		$(SUDO) apt-get install -y -q redis-server; } || [ "$$CI" != true ]

# After changing a text: extract both domains (see loket/i18n.py), merge them into each language's
# catalogues, then translate. `messages`: the pages (babel.cfg); `answers`: every block's N_() texts.
LOCALES := src/loket/locales
EXTRACT := $(BIN)/pybabel extract --no-location -w 100 --project=loket --copyright-holder="loket contributors"
messages: $(VENV)/.installed
	$(EXTRACT) -F $(LOCALES)/babel.cfg -k plain:2 -o $(LOCALES)/messages.pot .
	$(EXTRACT) --no-default-keywords -k N_ -o $(LOCALES)/answers.pot src/loket
	for domain in messages answers; do \
		$(BIN)/pybabel update -D $$domain -i $(LOCALES)/$$domain.pot -d $(LOCALES) -w 100 --no-fuzzy-matching \
			|| exit 1; \
	done

# ruff, and the layers of docs/architecture.md as import-linter contracts (pyproject.toml).
lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/lint-imports

# The diagram of the blocks in docs/architecture.md, drawn from the imports (a test checks it is current).
architecture: $(VENV)/.installed-test
	$(BIN)/python tools/architecture.py

# The API's documents, from the app's own OpenAPI document (tests check each is current): the frozen
# /api/v1 contract first (refused, naming what, if the API would remove or narrow any of it), then
# docs/openapi.json and the reference docs/api.md.
api-docs: $(VENV)/.installed
	LOKET_ENV=development $(BIN)/loket openapi --freeze docs/api/v1-frozen.json
	LOKET_ENV=development $(BIN)/loket openapi > docs/openapi.json
	LOKET_ENV=development $(BIN)/loket openapi --markdown > docs/api.md

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/search.py
	$(BIN)/python benchmarks/llm.py
	$(BIN)/python benchmarks/web.py
	$(BIN)/python benchmarks/cases.py

clean:
	rm -rf $(VENV) .loket .pytest_cache .ruff_cache node_modules
