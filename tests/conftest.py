"""Shared fixtures: settings pointing at temporary folders, a real index of the real corpus.

Everything is real: the bundled MiniLM model (loaded once per process), Chroma on disk.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.settings import PROJECT_ROOT, Settings
from tests.conftest_llm import gguf_path, openai_server  # noqa: F401 - fixtures

CORPUS = PROJECT_ROOT / "corpus"
SHARED = PROJECT_ROOT.parent / "shared"
DEV_QUESTIONS = SHARED / "eval" / "dev_questions.jsonl"
EXTRA_QUESTIONS = PROJECT_ROOT / "tests" / "data" / "extra_questions.jsonl"


def make_settings(root: Path, corpus: Path | None = None) -> Settings:
    """Settings whose corpus, index and data folders live under `root`."""
    s = Settings()
    s.paths.corpus_dir = corpus or root / "corpus"
    s.paths.index_dir = root / "index"
    s.paths.data_dir = root / "data"
    s.paths.corpus_dir.mkdir(parents=True, exist_ok=True)
    return s


def copy_corpus(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for f in CORPUS.iterdir():
        if f.is_file():
            shutil.copy(f, dest / f.name)
    return dest


@pytest.fixture(scope="session")
def corpus_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A fresh, fully ingested index of the project's corpus."""
    from assistant.ingest.indexing import ingest

    root = tmp_path_factory.mktemp("real")
    s = make_settings(root, copy_corpus(root / "corpus"))
    ingest(s)
    return s


@pytest.fixture(scope="session")
def assistant(corpus_settings: Settings):
    from assistant.service import Assistant

    return Assistant(corpus_settings, build_index=False)


@pytest.fixture()
def scratch(tmp_path: Path) -> Iterator[Settings]:
    """Empty corpus and index folders for tests that change documents."""
    yield make_settings(tmp_path)
