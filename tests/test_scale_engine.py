"""The engine's files and fast paths: the sidecar written by ingest and rebuilt when missing
or stale, exact vs HNSW dense search, on-demand sentence vectors, ONNX vs torch embeddings.

All real: the bundled MiniLM (both backends), Chroma on disk or a `chroma run` server.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant.answer.extractive import SentenceAnswerer
from assistant.evaluation import load_questions
from assistant.ingest.indexing import ingest, read_documents
from assistant.search.retrieval import HybridRetriever, make_query
from assistant.settings import Settings
from assistant.store.embeddings import get_embeddings
from assistant.store.sidecar import SIDECAR_DIR, load, open_table
from assistant.store.vectorstore import CONTENT_KEY, VectorIndex
from assistant.text.analysis import index_tokens, lexical_tokens
from assistant.text.language import detect_language
from tests.conftest import DEV_QUESTIONS, copy_corpus, make_settings
from tests.test_chroma_server import chroma_server  # noqa: F401 - the fixture

MODEL = "bundled:all-MiniLM-L6-v2"


def _questions() -> list[tuple[str, str]]:
    return [(q.question, detect_language(q.question)) for q in load_questions(DEV_QUESTIONS)]


def _top5(retriever: HybridRetriever, s: Settings, backend: str = "onnx") -> list[list[tuple]]:
    emb = get_embeddings(MODEL, backend=backend)
    out = []
    for question, lang in _questions():
        query = make_query(question, lang, s.retrieval)
        vector = retriever.query_vector(query, emb.embed_query(query.dense_text))
        passages = retriever.retrieve(query, vector)
        out.append([(p.chunk_id, round(p.dense, 4), round(p.score, 6)) for p in passages])
    return out


def _copy_index(src: Settings, root: Path) -> Settings:
    s = make_settings(root, src.paths.corpus_dir)
    shutil.copytree(src.paths.index_dir, s.paths.index_dir)
    return s


def test_ingest_writes_a_sidecar_that_matches_chroma(corpus_settings: Settings) -> None:
    index = VectorIndex(corpus_settings)
    table = load(corpus_settings.paths.index_dir / SIDECAR_DIR)
    assert table is not None
    assert table.manifest["content_hash"] == index.metadata()[CONTENT_KEY]
    rows = {r["id"]: r for r in index.iter_rows()}
    assert sorted(table.ids) == sorted(rows) and len(table) == index.count() > 10
    docs = read_documents(corpus_settings.paths.index_dir)
    for i, cid in enumerate(table.ids):
        c = table.chunk(i)
        assert c["text"] == rows[cid]["text"] == docs[c["doc_id"]]["text"][c["start"] : c["end"]]
        assert np.allclose(table.vectors[i], rows[cid]["vector"], atol=1e-6)
    # Rows are in reading order, which the BM25 matrix follows.
    keys = [(table.chunk(i)["doc_id"], table.chunk(i)["chunk_index"]) for i in range(len(table))]
    assert keys == sorted(keys)
    assert set(table.bm25.vocab_dict) >= set(lexical_tokens(table.text(0)))


def test_missing_or_broken_sidecar_is_rebuilt_with_the_same_results(
    corpus_settings: Settings, tmp_path: Path
) -> None:
    s = _copy_index(corpus_settings, tmp_path)
    index = VectorIndex(s)
    before = _top5(HybridRetriever(index, s.retrieval), s)
    assert all(before[:3]), "the first dev questions all retrieve passages"

    shutil.rmtree(s.paths.index_dir / SIDECAR_DIR)
    assert _top5(HybridRetriever(index, s.retrieval), s) == before
    assert (s.paths.index_dir / SIDECAR_DIR / "manifest.json").exists()

    (s.paths.index_dir / SIDECAR_DIR / "vectors.npy").write_bytes(b"not numpy")
    assert _top5(HybridRetriever(index, s.retrieval), s) == before
    assert load(s.paths.index_dir / SIDECAR_DIR) is not None


def test_stale_sidecar_is_rebuilt_and_an_unchanged_ingest_leaves_it(scratch: Settings) -> None:
    doc = scratch.paths.corpus_dir / "a.md"
    doc.write_text("---\nid: a\n---\nThe van hands out clean pipes in Stalingrad.", "utf-8")
    ingest(scratch)
    folder = scratch.paths.index_dir / SIDECAR_DIR
    manifest = folder / "manifest.json"
    stamp = manifest.stat().st_mtime_ns
    assert ingest(scratch).unchanged == ["a"]
    assert manifest.stat().st_mtime_ns == stamp  # nothing changed: nothing rewritten

    old = scratch.paths.index_dir.parent / "old-sidecar"
    shutil.copytree(folder, old)
    doc.write_text("---\nid: a\n---\nThe bus brings naloxone kits to La Chapelle.", "utf-8")
    ingest(scratch)
    shutil.rmtree(folder)
    shutil.copytree(old, folder)  # the sidecar of the previous content, as a replica has it
    table = open_table(VectorIndex(scratch), index_tokens)
    assert "naloxone" in table.text(0) and "pipes" not in table.text(0)
    assert load(folder).text(0) == table.text(0)  # and it was written back

    # A table whose BM25 was built by another tokenizer is stale too.
    assert table.manifest["tokenizer"] == "assistant.text.analysis.index_tokens:3"
    assert "=brings" in table.bm25.vocab_dict and "bring" in table.bm25.vocab_dict
    # ... and so is one built by an earlier version of the same tokenizer.
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["tokenizer"] = "assistant.text.analysis.index_tokens"
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    again = open_table(VectorIndex(scratch), index_tokens)
    assert again.manifest["tokenizer"] == "assistant.text.analysis.index_tokens:3"
    assert load(folder).manifest["tokenizer"] == again.manifest["tokenizer"]
    stems_only = open_table(VectorIndex(scratch), lexical_tokens)
    assert stems_only.manifest["tokenizer"] == "assistant.text.analysis.lexical_tokens"
    assert "=brings" not in stems_only.bm25.vocab_dict and "bring" in stems_only.bm25.vocab_dict


def test_chroma_hnsw_search_gives_the_exact_search_results(corpus_settings: Settings) -> None:
    index = VectorIndex(corpus_settings)
    exact = _top5(HybridRetriever(index, corpus_settings.retrieval), corpus_settings)
    hnsw_settings = corpus_settings.retrieval.model_copy(update={"exact_search_max": 0})
    hnsw = _top5(HybridRetriever(index, hnsw_settings), corpus_settings)
    assert [[p[0] for p in r] for r in hnsw] == [[p[0] for p in r] for r in exact]
    # The scan reads half-precision vectors; HNSW's candidates get full-precision cosines.
    pairs = [(a, b) for r, s in zip(hnsw, exact, strict=True) for a, b in zip(r, s, strict=True)]
    assert len(pairs) > 40
    assert max(max(abs(a[1] - b[1]), abs(a[2] - b[2])) for a, b in pairs) < 1e-3


def test_onnx_and_torch_embeddings_give_the_same_top5(corpus_settings: Settings) -> None:
    torch_emb = get_embeddings(MODEL, backend="torch")
    onnx_emb = get_embeddings(MODEL, backend="onnx")
    texts = [q for q, _ in _questions()]
    a = np.asarray(torch_emb.embed_documents(texts))
    b = np.asarray(onnx_emb.embed_documents(texts))
    assert np.abs(a - b).max() < 1e-5
    assert np.abs(np.asarray(onnx_emb.embed_query(texts[0])) - a[0]).max() < 1e-5
    retriever = HybridRetriever(VectorIndex(corpus_settings), corpus_settings.retrieval)
    onnx_top = _top5(retriever, corpus_settings, "onnx")
    torch_top = _top5(retriever, corpus_settings, "torch")
    assert [[p[0] for p in r] for r in onnx_top] == [[p[0] for p in r] for r in torch_top]
    assert sum(len(r) for r in onnx_top) > 40


def _eager_and_other(s: Settings) -> tuple[HybridRetriever, SentenceAnswerer,
                                             SentenceAnswerer]:
    """A retriever, an answerer with every sentence embedded, and one not warmed yet."""
    index = VectorIndex(s)
    docs = read_documents(s.paths.index_dir)
    eager = SentenceAnswerer(index.embeddings, docs, s.answer)
    eager.warm()
    return (HybridRetriever(index, s.retrieval), eager,
            SentenceAnswerer(index.embeddings, docs, s.answer))


def _same_drafts(s: Settings, retriever: HybridRetriever, a: SentenceAnswerer,
                 b: SentenceAnswerer, questions: list[tuple[str, str]]) -> Iterator[tuple]:
    """Each question's two drafts, after checking they quote the same sentences."""
    for question, lang in questions:
        query = make_query(question, lang, s.retrieval)
        vector = retriever.query_vector(query)
        passages = retriever.retrieve(query, vector)
        x, y = a.draft(query, vector, passages), b.draft(query, vector, passages)
        assert [(t.doc_id, t.start, t.end) for t in x.sentences] == [
            (t.doc_id, t.start, t.end) for t in y.sentences
        ]
        yield x, y, passages


def test_sentence_vectors_on_demand_give_the_same_drafts(corpus_settings: Settings) -> None:
    s = corpus_settings
    retriever, eager, lazy = _eager_and_other(s)
    lazy.warm(precompute_max=0, keep=12)  # as for a corpus too large to embed at start
    assert len(lazy._vectors) == 0
    grounded, largest = 0, 0
    for a, b, passages in _same_drafts(s, retriever, eager, lazy, _questions()):
        assert a.reason == b.reason and a.best == pytest.approx(b.best, abs=1e-6)
        grounded += a.grounded
        # Bounded: one question's sentences may exceed `keep` while it is being answered.
        largest = max(largest, len(lazy.candidates(passages)))
        assert len(lazy._vectors) <= max(12, largest)
    assert grounded >= 10 and largest > 12


def test_sentences_embedded_in_the_background_give_the_same_drafts(
    corpus_settings: Settings,
) -> None:
    s = corpus_settings
    retriever, eager, background = _eager_and_other(s)
    thread = background.warm(background=True)
    assert thread is not None
    # Questions asked while the thread runs embed what they need themselves.
    drafts = list(_same_drafts(s, retriever, eager, background, _questions()[:5]))
    assert sum(a.grounded for a, _, _ in drafts) >= 3
    thread.join(timeout=120)
    assert not thread.is_alive()
    assert background._vectors.keys() == eager._vectors.keys()
    for key, vec in eager._vectors.items():
        assert np.abs(background._vectors[key] - vec).max() < 1e-5


def test_a_replica_builds_its_sidecar_from_the_chroma_server(
    chroma_server: int, tmp_path: Path  # noqa: F811 - the fixture
) -> None:
    from assistant.service import Assistant

    writer = make_settings(tmp_path / "writer", copy_corpus(tmp_path / "corpus"))
    writer.vector_store.mode, writer.vector_store.port = "http", chroma_server
    ingest(writer)
    replica = make_settings(tmp_path / "replica", writer.paths.corpus_dir)
    replica.vector_store.mode, replica.vector_store.port = "http", chroma_server
    replica.paths.index_dir.mkdir(parents=True)
    shutil.copy(writer.paths.index_dir / "documents.json", replica.paths.index_dir)

    question = "Who did the mayor of Paris send her letter to?"
    a = Assistant(replica, build_index=False).ask(question)
    assert a.kind == "answer" and "Prime Minister Jean Castex" in a.text
    replica_table = load(replica.paths.index_dir / SIDECAR_DIR)
    assert replica_table is not None
    assert sorted(replica_table.ids) == sorted(load(writer.paths.index_dir / SIDECAR_DIR).ids)

    # The writer changes a document; the replica's sidecar is now stale and is rebuilt.
    note = writer.paths.corpus_dir / "note.md"
    note.write_text("---\nid: note\n---\nA mobile unit visits Porte de la Villette.", "utf-8")
    ingest(writer)
    shutil.copy(writer.paths.index_dir / "documents.json", replica.paths.index_dir)
    table = open_table(VectorIndex(replica), index_tokens)
    assert any("Porte de la Villette" in table.text(i) for i in range(len(table)))
    assert len(table) == len(replica_table) + 1


def test_onnx_export_is_made_offline_once_and_reused(tmp_path: Path) -> None:
    from assistant.store.embeddings import OnnxEmbeddings, resolve_model_path

    path = resolve_model_path(MODEL)
    first = OnnxEmbeddings(path, cache_dir=tmp_path)  # HF_HUB_OFFLINE=1: no download possible
    assert first.path.is_relative_to(tmp_path) and first.path.stat().st_size > 10_000_000
    stamp = first.path.stat().st_mtime_ns
    again = OnnxEmbeddings(path, cache_dir=tmp_path)
    assert again.path == first.path and again.path.stat().st_mtime_ns == stamp
    text = "Where can I get clean pipes in Paris?"
    reference = get_embeddings(MODEL, backend="torch").embed_query(text)
    assert np.abs(np.asarray(again.embed_query(text)) - reference).max() < 1e-5


def test_a_rare_word_outranks_its_common_stem(scratch: Settings) -> None:
    # Eight reports on drug testing share the stem "test" with the question's "tested"; one
    # passage has "tested" itself. By stems alone the reports rank first (they say "test"
    # more often); the question's own word, indexed beside its stem, puts that passage first.
    assert index_tokens("Rooms tested, testing.") == [
        "room", "=rooms", "test", "=tested", "test", "=testing"]
    corpus = scratch.paths.corpus_dir
    corpus.mkdir(parents=True, exist_ok=True)
    for i in range(8):
        (corpus / f"report-{i}.md").write_text(
            f"---\nid: report-{i}\n---\nDrug testing report {i}: the test kits in the rooms "
            "of the shelter, test after test, found cut cocaine.", "utf-8")
    (corpus / "pilot.md").write_text(
        "---\nid: pilot\n---\nThe two rooms tested in Strasbourg were judged positive.", "utf-8")
    ingest(scratch)
    retriever = HybridRetriever(VectorIndex(scratch), scratch.retrieval)
    query = make_query("Which rooms were tested?", "en", scratch.retrieval)
    assert "=tested" in query.terms and "test" in query.terms
    ranked, _scores = retriever._bm25_ranked(query.terms)
    assert retriever.table.chunk(int(ranked[0]))["doc_id"] == "pilot"
    stems_only, _ = retriever._bm25_ranked([t for t in query.terms if not t.startswith("=")])
    assert retriever.table.chunk(int(stems_only[0]))["doc_id"] != "pilot"
    passages = retriever.retrieve(query, retriever.query_vector(query))
    assert passages[0].doc_id == "pilot"


def test_fold_takes_a_shortcut_for_ascii_with_the_same_result() -> None:
    import unicodedata

    from assistant.text.language import fold

    def by_unicode(t: str) -> str:
        t = t.replace("’", "'").replace("‘", "'").replace("`", "'")
        d = unicodedata.normalize("NFKD", t.lower())
        return "".join(c for c in d if not unicodedata.combining(c)).replace("œ", "oe")

    samples = ["Who did the MAYOR send `her` letter to?", "Où est l’accueil ? Œuvre, ÉCOLE",
               "tabs\tand\nnew lines, 2016", "", "".join(chr(i) for i in range(128))]
    for text in samples:
        assert fold(text) == by_unicode(text)
    assert fold("Où l’ÉCOLE") == "ou l'ecole"


def test_top_keeps_the_best_rows_in_score_then_row_order() -> None:
    from assistant.search.retrieval import _top

    scores = np.asarray([0.1, 0.5, 0.0, 0.5, 0.9, 0.5, -0.2], dtype=np.float32)
    rows, best = _top(scores, 3)
    assert rows.tolist() == [4, 1, 3] and best.tolist() == pytest.approx([0.9, 0.5, 0.5])
    assert _top(scores, 10)[0].tolist() == [4, 1, 3, 5, 0, 2, 6]
    # BM25: only rows that match at all.
    assert _top(scores, 10, positive=True)[0].tolist() == [4, 1, 3, 5, 0]
    assert _top(np.zeros(4, np.float32), 2, positive=True)[0].tolist() == []
