"""The Chroma index on disk: exact chunk offsets, incremental ingest, crash repair."""

from __future__ import annotations

import shutil

import pytest

from assistant.ingest.corpus import load_corpus
from assistant.ingest.indexing import (
    RUNNING_MARKER,
    chunk_document,
    index_state,
    ingest,
    read_documents,
)
from assistant.models import Document
from assistant.settings import ChunkingSettings, Settings
from assistant.store.vectorstore import VectorIndex
from tests.conftest import CORPUS


def _write(s: Settings, name: str, text: str) -> None:
    (s.paths.corpus_dir / name).write_text(text, encoding="utf-8")


def test_every_chunk_is_its_slice_of_the_document() -> None:
    for doc in load_corpus(CORPUS).documents:
        for size, overlap in ((600, 120), (200, 40), (80, 0)):
            chunks = chunk_document(doc, ChunkingSettings(chunk_size=size, chunk_overlap=overlap))
            assert chunks, doc.id
            for c in chunks:
                assert doc.text[c.start : c.end] == c.text
                assert len(c.text) <= size
            # Chunks cover the whole text (nothing lost between them).
            covered = set()
            for c in chunks:
                covered.update(range(c.start, c.end))
            assert all(i in covered or doc.text[i].isspace() for i in range(len(doc.text)))


def test_chunks_end_on_sentence_boundaries() -> None:
    text = " ".join(f"Sentence number {i} talks about care in Paris." for i in range(40))
    doc = Document(id="d", title="t", text=text)
    chunks = chunk_document(doc, ChunkingSettings(chunk_size=300, chunk_overlap=60))
    assert len(chunks) > 3
    assert all(c.text.endswith(".") for c in chunks)


def test_index_records_offsets_and_uses_our_embeddings(corpus_settings: Settings) -> None:
    index = VectorIndex(corpus_settings)
    docs = read_documents(corpus_settings.paths.index_dir)
    chunks = index.all_chunks()
    assert len(chunks) >= 10
    for c in chunks:
        assert docs[c["doc_id"]]["text"][c["start"] : c["end"]] == c["text"]
    # Chroma has no embedding function of its own (it would try to download one).
    assert index.collection._embedding_function is None
    assert index.client.get_settings().anonymized_telemetry is False
    assert index.collection.configuration["hnsw"]["space"] == "cosine"
    assert index.fingerprint()["embedding_model"] == "bundled:all-MiniLM-L6-v2"


def test_incremental_ingest_add_change_delete(scratch: Settings) -> None:
    _write(scratch, "a.md", "---\nid: a\n---\nThe first document is about harm reduction.")
    _write(scratch, "b.md", "---\nid: b\n---\nThe second document is about the crack plan.")
    first = ingest(scratch)
    assert sorted(first.embedded) == ["a", "b"]

    again = ingest(scratch)
    assert again.embedded == [] and sorted(again.unchanged) == ["a", "b"]

    _write(scratch, "b.md", "---\nid: b\n---\nThe second document now talks about police.")
    _write(scratch, "c.md", "A third document arrives, about Stalingrad.")
    changed = ingest(scratch)
    assert sorted(changed.embedded) == ["b", "c"]
    assert changed.unchanged == ["a"]

    (scratch.paths.corpus_dir / "a.md").unlink()
    removed = ingest(scratch)
    assert removed.removed == ["a"]

    index = VectorIndex(scratch)
    stored = {c["doc_id"]: c["text"] for c in index.all_chunks()}
    assert set(stored) == {"b", "c"}
    assert "police" in stored["b"] and "crack plan" not in stored["b"]
    assert set(read_documents(scratch.paths.index_dir)) == {"b", "c"}
    hits = index.dense_search("What about the police?", 1)
    assert hits[0][0].startswith("b:")


def test_changed_settings_rebuild_everything(scratch: Settings) -> None:
    _write(scratch, "a.md", "One sentence here. " * 80)
    ingest(scratch)
    n_before = VectorIndex(scratch).collection.count()
    scratch.chunking.chunk_size = 200
    scratch.chunking.chunk_overlap = 20
    report = ingest(scratch)
    assert report.rebuilt and report.embedded == ["a"]
    index = VectorIndex(scratch)
    assert index.collection.count() > n_before
    assert index.fingerprint()["chunk_size"] == 200


def test_bad_files_are_reported_and_the_rest_ingest(scratch: Settings) -> None:
    _write(scratch, "good.md", "Care services in Paris are free.")
    (scratch.paths.corpus_dir / "junk.txt").write_bytes(b"\x00\xff" * 300)
    (scratch.paths.corpus_dir / "empty.md").write_bytes(b"")
    report = ingest(scratch)
    assert report.embedded == ["good"]
    assert {s.path for s in report.skipped} == {"junk.txt", "empty.md"}
    assert any("SKIPPED junk.txt: binary content" in line for line in report.lines())


class Crash(RuntimeError):
    pass


def test_interrupted_ingest_is_detected_and_repaired(scratch: Settings) -> None:
    for name in ("a", "b", "c"):
        _write(scratch, f"{name}.md", f"---\nid: {name}\n---\nDocument {name} about care.")
    ingest(scratch)
    for name in ("a", "b", "c"):
        _write(scratch, f"{name}.md", f"---\nid: {name}\n---\nDocument {name}, second version.")

    seen: list[str] = []

    def crash_on_second(doc_id: str) -> None:
        seen.append(doc_id)
        if len(seen) == 2:
            raise Crash("power cut")

    with pytest.raises(Crash):
        ingest(scratch, on_document=crash_on_second)
    # Half written: one document new, the others old; the marker says so.
    assert index_state(scratch.paths.index_dir) == "interrupted"
    from assistant.service import Assistant

    with pytest.raises(RuntimeError, match="interrupted"):
        Assistant(scratch, build_index=False)

    report = ingest(scratch)
    assert report.repaired
    assert sorted(report.embedded) == ["b", "c"] and report.unchanged == ["a"]
    assert index_state(scratch.paths.index_dir) == "ready"
    texts = sorted(c["text"] for c in VectorIndex(scratch).all_chunks())
    assert texts == [f"Document {n}, second version." for n in ("a", "b", "c")]


def test_assistant_repairs_an_interrupted_index_before_serving(
    corpus_settings: Settings, tmp_path
) -> None:
    from tests.conftest import make_settings

    s = make_settings(tmp_path, corpus_settings.paths.corpus_dir)
    shutil.copytree(corpus_settings.paths.index_dir, s.paths.index_dir)
    (s.paths.index_dir / RUNNING_MARKER).write_text("12345")
    from assistant.service import Assistant

    assistant = Assistant(s)
    assert index_state(s.paths.index_dir) == "ready"
    assert assistant.ask("What does Charonnes hand out from his van?").kind == "answer"
