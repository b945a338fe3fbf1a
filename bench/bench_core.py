"""Ingest time and warm `ask` latency, against a plain LangChain baseline in the same run.

Baseline: the same corpus, the same embeddings, LangChain's Chroma with default splitting and
`similarity_search(k=4)` (retrieval only: it writes no reply). Ours: full `Assistant.ask`
(guardrails, hybrid retrieval, extractive answer). Both on fresh temporary indexes.

    .venv/bin/python bench/bench_core.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.corpus import load_corpus  # noqa: E402
from assistant.embeddings import get_embeddings  # noqa: E402
from assistant.evaluation import load_questions  # noqa: E402
from assistant.indexing import ingest  # noqa: E402
from assistant.language import fold  # noqa: E402
from assistant.settings import Settings  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "dev_questions.jsonl"


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def baseline(tmp: Path, questions, repeat: int) -> dict[str, float]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    s = Settings()
    emb = get_embeddings(s.embedding.model)
    t0 = time.perf_counter()
    corpus = load_corpus(s.paths.corpus_dir).documents
    docs = [Document(d.text, metadata={"doc_id": d.id}) for d in corpus]
    chunks = RecursiveCharacterTextSplitter(chunk_size=600, chunk_overlap=120).split_documents(docs)
    client = chromadb.PersistentClient(
        str(tmp / "baseline"), ChromaSettings(anonymized_telemetry=False)
    )
    store = Chroma(collection_name="baseline", embedding_function=emb, client=client)
    store.add_documents(chunks)
    ingest_s = time.perf_counter() - t0
    lat, hits = [], []
    for _ in range(repeat):
        for q in questions:
            t0 = time.perf_counter()
            found = store.similarity_search(q.question, k=4)
            lat.append((time.perf_counter() - t0) * 1000)
            if q.expect == "answer" and q.evidence and len(hits) < len(questions):
                hits.append(any(fold(e) in fold(d.page_content) for e in q.evidence for d in found))
    return {"ingest_s": ingest_s, "p50": pct(lat, 50), "p95": pct(lat, 95),
            "hit": sum(hits) / len(hits)}


def ours(tmp: Path, questions, repeat: int) -> dict[str, float]:
    from assistant.service import Assistant

    s = Settings()
    s.paths.index_dir = tmp / "ours"
    t0 = time.perf_counter()
    ingest(s)
    ingest_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    assistant = Assistant(s, build_index=False)
    startup_s = time.perf_counter() - t0
    for q in questions:  # warm-up pass: first calls pay for lazy initialisation
        assistant.ask(q.question, q.history or None)
    lat, hits = [], []
    for _ in range(repeat):
        for q in questions:
            t0 = time.perf_counter()
            a = assistant.ask(q.question, q.history or None)
            lat.append((time.perf_counter() - t0) * 1000)
            if q.expect == "answer" and q.evidence and len(hits) < len(questions):
                top = a.retrieved[:5]
                hits.append(any(fold(e) in fold(p.text) for e in q.evidence for p in top))
    return {"ingest_s": ingest_s, "startup_s": startup_s, "p50": pct(lat, 50),
            "p95": pct(lat, 95), "hit": sum(hits) / len(hits)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    questions = load_questions(DEV)
    get_embeddings(Settings().embedding.model).embed_query("warm up")  # model load is not ingest
    with tempfile.TemporaryDirectory() as tmp:
        b = baseline(Path(tmp), questions, args.repeat)
        o = ours(Path(tmp), questions, args.repeat)
    n = len(questions) * args.repeat
    print(f"dev questions: {len(questions)}, timed asks per system: {n}")
    print(f"{'':28}{'ours':>10}{'baseline':>10}{'ratio':>8}")
    for label, key, fmt in (
        ("ingest (s)", "ingest_s", ".2f"),
        ("warm latency p50 (ms)", "p50", ".1f"),
        ("warm latency p95 (ms)", "p95", ".1f"),
    ):
        print(f"{label:28}{o[key]:>10{fmt}}{b[key]:>10{fmt}}{o[key] / b[key]:>8.2f}")
    print(f"{'evidence hit rate (answer)':28}{o['hit']:>10.0%}{b['hit']:>10.0%}"
          "   (ours top 5, baseline top 4)")
    print(f"assistant start-up (s): {o['startup_s']:.2f}")


if __name__ == "__main__":
    main()
