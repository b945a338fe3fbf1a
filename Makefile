# Two commands do all the set-up on a fresh machine:
#   make run   installs what is needed, builds the index if missing and serves the app
#   make test  installs what is needed and runs the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install index run test lint bench browser clean-index

# torch first, from its CPU wheel: otherwise sentence-transformers pulls a multi-GB CUDA build.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Incremental: only new or changed documents are embedded; an interrupted ingest is repaired.
index: install
	$(BIN)/python -m assistant ingest

run: index
	$(BIN)/python app.py

browser:
	bash scripts/install-browser.sh

test: install browser
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/bench_core.py
	$(BIN)/python bench/bench_french.py
	$(BIN)/python bench/bench_guardrails.py
	$(BIN)/python bench/bench_ui_concurrency.py

clean-index:
	rm -rf index/chroma index/documents.json index/.ingest-running
