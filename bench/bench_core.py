"""Ingest time and warm `ask` latency, against a plain LangChain baseline in the same run.

Baseline: the same corpus, the same embeddings (model and backend from the settings, or
--backend), LangChain's Chroma with default splitting and `similarity_search(k=4)` (retrieval
only: it writes no reply). Ours: full `Assistant.ask` (guardrails, hybrid retrieval,
extractive answer). Both on fresh temporary indexes. Then, unless --no-startup, the time
from `python -m assistant serve` starting to its first answer over HTTP.

    .venv/bin/python bench/bench_core.py [--repeat 10] [--backend torch|onnx|onnx-int8]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation import load_questions  # noqa: E402
from assistant.ingest.corpus import load_corpus  # noqa: E402
from assistant.ingest.indexing import ingest  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.store.vectorstore import embeddings_for  # noqa: E402
from assistant.text.language import fold  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "dev_questions.jsonl"
STAGES = ("embed", "guard", "retrieve", "generate")


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def settings(backend: str | None) -> Settings:
    s = Settings()
    if backend:
        s.embedding.backend = backend  # type: ignore[assignment]
    return s


def build_baseline(tmp: Path, backend: str | None):
    """LangChain's Chroma over default splitting; returns (store, ingest seconds, chunks)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    s = settings(backend)
    emb = embeddings_for(s.embedding)
    t0 = time.perf_counter()
    corpus = load_corpus(s.paths.corpus_dir).documents
    docs = [Document(d.text, metadata={"doc_id": d.id}) for d in corpus]
    chunks = RecursiveCharacterTextSplitter(chunk_size=600, chunk_overlap=120).split_documents(docs)
    client = chromadb.PersistentClient(
        str(tmp / "baseline"), ChromaSettings(anonymized_telemetry=False)
    )
    store = Chroma(collection_name="baseline", embedding_function=emb, client=client)
    store.add_documents(chunks)
    return store, time.perf_counter() - t0, len(chunks)


def build_ours(tmp: Path, backend: str | None):
    """Our ingest and Assistant; returns (assistant, ingest s, chunks, start-up s, settings)."""
    from assistant.service import Assistant

    s = settings(backend)
    s.paths.index_dir = tmp / "ours"
    t0 = time.perf_counter()
    report = ingest(s)
    ingest_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    assistant = Assistant(s, build_index=False)
    return assistant, ingest_s, report.chunks, time.perf_counter() - t0, s


def run(tmp: Path, questions, repeat: int, backend: str | None) -> tuple[dict, dict]:
    """Both systems answer each question in turn, so load from elsewhere hits both alike."""
    store, b_ingest, b_chunks = build_baseline(tmp, backend)
    assistant, o_ingest, o_chunks, startup_s, s = build_ours(tmp, backend)
    for q in questions:  # warm-up pass: first calls pay for lazy initialisation
        store.similarity_search(q.question, k=4)
        assistant.ask(q.question, q.history or None)
    b_lat, o_lat, b_hits, o_hits = [], [], [], []
    stages: dict[str, list[float]] = {k: [] for k in STAGES}
    for r in range(repeat):
        for q in questions:
            t0 = time.perf_counter()
            found = store.similarity_search(q.question, k=4)
            b_lat.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            a = assistant.ask(q.question, q.history or None)
            o_lat.append((time.perf_counter() - t0) * 1000)
            for k in STAGES:
                if k in a.timings_ms:
                    stages[k].append(a.timings_ms[k])
            if r == 0 and q.expect == "answer" and q.evidence:
                b_hits.append(any(fold(e) in fold(d.page_content)
                                  for e in q.evidence for d in found))
                o_hits.append(any(fold(e) in fold(p.text)
                                  for e in q.evidence for p in a.retrieved[:5]))
    sidecar = s.paths.index_dir / "sidecar"
    size = sum(f.stat().st_size for f in sidecar.rglob("*") if f.is_file())
    b = {"ingest_s": b_ingest, "chunks": b_chunks, "p50": pct(b_lat, 50), "p95": pct(b_lat, 95),
         "hit": sum(b_hits) / len(b_hits)}
    o = {"ingest_s": o_ingest, "chunks": o_chunks, "startup_s": startup_s,
         "p50": pct(o_lat, 50), "p95": pct(o_lat, 95), "hit": sum(o_hits) / len(o_hits),
         "sidecar_kb": size / 1024}
    for k, v in stages.items():
        o[f"{k}_p50"], o[f"{k}_p95"] = pct(v, 50), pct(v, 95)
    return o, b


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_to_first_answer(index_dir: Path, data_dir: Path, backend: str | None) -> float:
    """Seconds from starting `python -m assistant serve` to its first answer over HTTP."""
    from gradio_client import Client

    port = _free_port()
    env = {**os.environ, "ASSISTANT_PATHS__INDEX_DIR": str(index_dir),
           "ASSISTANT_PATHS__DATA_DIR": str(data_dir), "ASSISTANT_UI__PORT": str(port),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    if backend:
        env["ASSISTANT_EMBEDDING__BACKEND"] = backend
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "serve"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("the app exited before serving") from None
                time.sleep(0.05)
        else:
            raise RuntimeError("the app did not start within 300 s")
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        reply = client.predict("Who did the mayor of Paris send her letter to?", [],
                               api_name="/ask")
        elapsed = time.perf_counter() - t0
        assert "Castex" in str(reply), reply
        return elapsed
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backend", choices=("torch", "onnx", "onnx-int8"),
                        help="embedding backend for both systems (default: the settings')")
    parser.add_argument("--no-startup", action="store_true",
                        help="skip the serve-to-first-answer measurement")
    args = parser.parse_args()
    questions = load_questions(DEV)
    s = settings(args.backend)
    t0 = time.perf_counter()
    embeddings_for(s.embedding).embed_query("warm up")  # model load is not ingest
    load_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        o, b = run(Path(tmp), questions, args.repeat, args.backend)
        serve_s = None
        if not args.no_startup:
            serve_s = serve_to_first_answer(Path(tmp) / "ours", Path(tmp) / "data", args.backend)
    n = len(questions) * args.repeat
    print(f"embedding backend: {s.embedding.backend}; model load {load_s:.2f} s")
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
    print(f"{'ingest chunks/s':28}{o['chunks'] / o['ingest_s']:>10.0f}"
          f"{b['chunks'] / b['ingest_s']:>10.0f}")
    print("ours by stage, p50 / p95 (ms): " + ", ".join(
        f"{k} {o[f'{k}_p50']:.2f} / {o[f'{k}_p95']:.2f}" for k in STAGES))
    print(f"assistant start-up in process (s): {o['startup_s']:.2f}; "
          f"sidecar on disk: {o['sidecar_kb']:.0f} KiB")
    if serve_s is not None:
        print(f"`python -m assistant serve` start to first answer (s): {serve_s:.2f}")


if __name__ == "__main__":
    main()
