"""The scale benchmark's haystack: deterministic, readable, the right size, and free of the
dev questions' evidence (a haystack hit on an evidence phrase would count as found)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from assistant.evaluation import load_questions
from assistant.ingest.corpus import load_corpus
from assistant.ingest.indexing import chunk_document
from assistant.settings import PROJECT_ROOT, Settings
from assistant.text.language import fold
from tests.conftest import CORPUS, DEV_QUESTIONS

_spec = importlib.util.spec_from_file_location(
    "synth_corpus", PROJECT_ROOT / "bench" / "synth_corpus.py"
)
assert _spec and _spec.loader
synth = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = synth  # dataclasses look their module up while it loads
_spec.loader.exec_module(synth)


def _files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("haystack")
    synth.generate(out, 1500, seed=7)
    return out


def test_same_seed_same_files_other_seed_other_files(generated: Path, tmp_path: Path) -> None:
    synth.generate(tmp_path / "again", 1500, seed=7)
    synth.generate(tmp_path / "other", 1500, seed=8)
    first = _files(generated)
    assert _files(tmp_path / "again") == first
    other = _files(tmp_path / "other")
    shared = set(first) & set(other)
    assert all(first[n] == other[n] for n in shared if not n.startswith("synth-"))
    assert not any(n.startswith("synth-") for n in shared)  # ids carry the seed


def test_documents_parse_with_their_metadata_and_the_real_corpus_is_in(generated: Path) -> None:
    report = load_corpus(generated)
    assert report.skipped == []
    docs = {d.id: d for d in report.documents}
    real = {d.id for d in load_corpus(CORPUS).documents}
    assert real <= set(docs)
    haystack = [d for d in docs.values() if d.id not in real]
    assert len(haystack) > 50
    assert {d.language for d in haystack} == {"en", "fr"}
    for d in haystack:
        assert d.title and d.title != "Untitled"
        assert d.published[:2] == "20" and len(d.published) == 10
        assert "synthetic benchmark document" in d.source
        assert 2000 <= len(d.text) <= 20000, (d.id, len(d.text))
    # Press, minutes, reports and NGO reports, with headings in the longer ones.
    titles = " ".join(d.title for d in haystack)
    assert "minutes of the meeting" in titles and "activity report" in titles
    assert "a report by" in titles
    assert sum("\n## " in d.text for d in haystack) > len(haystack) // 3


def test_chunk_count_is_near_the_target(generated: Path) -> None:
    chunking = Settings().chunking
    docs = load_corpus(generated).documents
    chunks = sum(len(chunk_document(d, chunking)) for d in docs)
    assert 0.9 * 1500 <= chunks <= 1.1 * 1500, chunks


def test_templates_never_write_the_dev_evidence_or_real_sentences(tmp_path: Path) -> None:
    """Without any guard (no real corpus, nothing forbidden), the haystack is already clean."""
    report = synth.generate(tmp_path, 4000, seed=3, real_corpus=None)
    assert report.redrawn == 0
    evidence = [fold(e) for q in load_questions(DEV_QUESTIONS) for e in q.evidence]
    assert len(evidence) >= 10
    banned = evidence + synth.real_sentences(CORPUS)
    for name, text in _files(tmp_path).items():
        folded = fold(text)
        found = [b for b in banned if b in folded]
        assert not found, (name, found)


def test_a_forbidden_phrase_makes_the_document_drawn_again(tmp_path: Path) -> None:
    phrase = "The debate lasted more than"
    free = synth.generate(tmp_path / "free", 1500, seed=7, real_corpus=None)
    assert any(phrase in t for t in _files(tmp_path / "free").values())
    guarded = synth.generate(tmp_path / "guarded", 1500, seed=7, real_corpus=None,
                             forbidden=[phrase.upper()])
    assert guarded.redrawn > 0 and free.redrawn == 0
    assert not any(fold(phrase) in fold(t) for t in _files(tmp_path / "guarded").values())
