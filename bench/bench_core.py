"""Ingest time and warm `ask` latency, against a plain LangChain baseline in the same run.

Baseline: the same corpus, the same embeddings (model and backend from the settings, or
--backend), LangChain's Chroma with default splitting and `similarity_search(k=4)` (retrieval
only: it writes no reply). Ours: full `Assistant.ask` (guardrails, hybrid retrieval,
extractive answer). Both on fresh temporary indexes. Then, unless --no-startup, the time
from `python -m assistant serve` starting to its first answer over HTTP.

    .venv/bin/python bench/bench_core.py [--repeat 10] [--backend torch|onnx|onnx-int8]

`compare()` measures and returns the figures without printing (bench/run.py uses it).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common import DEV, ROOT, Timer, evidence_hit, p50_p95, ratio_table, timed_ms, warm_up

from assistant.evaluation import Question, load_questions
from assistant.ingest.corpus import load_corpus
from assistant.ingest.indexing import ingest
from assistant.settings import Settings
from assistant.store.embeddings import embeddings_for

STAGES = ("embed", "guard", "retrieve", "generate")
# The figures whose ours / baseline ratio is reported.
RATIO_KEYS = ("ingest_s", "p50", "p95")


@dataclass(frozen=True)
class Comparison:
    """One ours-vs-baseline run.

    `ours` and `baseline` both hold ingest_s, chunks, p50 and p95 (warm latency, ms) and hit
    (evidence hit rate of the dev `answer` questions: ours in its top 5, the baseline in its
    top 4); `ours` also startup_s, sidecar_kb and `<stage>_p50` / `<stage>_p95` for STAGES.
    `ratios` is ours / baseline for RATIO_KEYS. `serve_s` is None unless asked for.
    """

    ours: dict[str, float]
    baseline: dict[str, float]
    ratios: dict[str, float]
    backend: str
    model_load_s: float
    questions: int
    repeat: int
    serve_s: float | None = None

    @property
    def timed_asks(self) -> int:
        return self.questions * self.repeat


def _settings(backend: str | None) -> Settings:
    s = Settings()
    if backend:
        s.embedding.backend = backend  # type: ignore[assignment]
    return s


def _build_baseline(tmp: Path, backend: str | None) -> tuple[Any, float, int]:
    """LangChain's Chroma over default splitting; returns (store, ingest seconds, chunks)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    s = _settings(backend)
    emb = embeddings_for(s.embedding)
    with Timer() as t:
        corpus = load_corpus(s.paths.corpus_dir).documents
        docs = [Document(d.text, metadata={"doc_id": d.id}) for d in corpus]
        chunks = RecursiveCharacterTextSplitter(chunk_size=600, chunk_overlap=120
                                                ).split_documents(docs)
        client = chromadb.PersistentClient(
            str(tmp / "baseline"), ChromaSettings(anonymized_telemetry=False)
        )
        store = Chroma(collection_name="baseline", embedding_function=emb, client=client)
        store.add_documents(chunks)
    return store, t.s, len(chunks)


def _build_ours(tmp: Path, backend: str | None) -> tuple[Any, float, int, float, Settings]:
    """Our ingest and Assistant; returns (assistant, ingest s, chunks, start-up s, settings)."""
    from assistant.service import Assistant

    s = _settings(backend)
    s.paths.index_dir = tmp / "ours"
    with Timer() as ingest_t:
        report = ingest(s)
    with Timer() as startup_t:
        assistant = Assistant(s, build_index=False)
    return assistant, ingest_t.s, report.chunks, startup_t.s, s


def _measure(tmp: Path, questions: list[Question], repeat: int, backend: str | None
             ) -> tuple[dict[str, float], dict[str, float]]:
    """(ours, baseline). Both systems answer each question in turn, so that load from
    elsewhere on the machine hits both alike."""
    store, b_ingest, b_chunks = _build_baseline(tmp, backend)
    assistant, o_ingest, o_chunks, startup_s, s = _build_ours(tmp, backend)
    warm_up(lambda q: (store.similarity_search(q.question, k=4),
                       assistant.ask(q.question, q.history or None)), questions)
    b_lat, o_lat, b_hits, o_hits = [], [], [], []
    stages: dict[str, list[float]] = {k: [] for k in STAGES}
    for r in range(repeat):
        for q in questions:
            found, ms = timed_ms(store.similarity_search, q.question, k=4)
            b_lat.append(ms)
            a, ms = timed_ms(assistant.ask, q.question, q.history or None)
            o_lat.append(ms)
            for k in STAGES:
                if k in a.timings_ms:
                    stages[k].append(a.timings_ms[k])
            if r == 0 and q.expect == "answer" and q.evidence:
                b_hits.append(evidence_hit(q.evidence, (d.page_content for d in found)))
                o_hits.append(evidence_hit(q.evidence, (p.text for p in a.retrieved[:5])))
    plain = _plain_chain_latency(assistant, questions, repeat)
    sidecar = s.paths.index_dir / "sidecar"
    size = sum(f.stat().st_size for f in sidecar.rglob("*") if f.is_file())
    b = {"ingest_s": b_ingest, "chunks": b_chunks, "hit": sum(b_hits) / len(b_hits)}
    b["p50"], b["p95"] = p50_p95(b_lat)
    o = {"ingest_s": o_ingest, "chunks": o_chunks, "startup_s": startup_s,
         "hit": sum(o_hits) / len(o_hits), "sidecar_kb": size / 1024}
    o["p50"], o["p95"] = p50_p95(o_lat)
    for k, v in stages.items():
        o[f"{k}_p50"], o[f"{k}_p95"] = p50_p95(v)
    o["plain_chain_p50"], o["plain_chain_p95"] = p50_p95(plain)
    return o, b


def _plain_chain_latency(assistant: Any, questions: list[Question], repeat: int) -> list[float]:
    """The same asks with the steps in a plain LangChain RunnableSequence, which opens a run
    and fires callbacks per step: what the Assistant's own step loop saves."""
    from langchain_core.runnables import RunnableSequence

    ours = assistant.chain
    assistant.chain = RunnableSequence(*ours.steps)
    try:
        out = []
        for _ in range(repeat):
            for q in questions:
                out.append(timed_ms(assistant.ask, q.question, q.history or None)[1])
        return out
    finally:
        assistant.chain = ours


def compare(repeat: int = 5, backend: str | None = None, *, startup: bool = False,
            questions: list[Question] | None = None) -> Comparison:
    """Ours vs the plain LangChain baseline on the real corpus, on fresh temporary indexes.

    `backend` is the embedding backend of both (None: the settings'); `startup` also times
    `python -m assistant serve` to its first answer (a child process, ~30 s); `questions`
    defaults to the dev questions. Prints nothing.
    """
    questions = load_questions(DEV) if questions is None else questions
    s = _settings(backend)
    with Timer() as load:  # the model load is not ingest: it happens before anything is timed
        embeddings_for(s.embedding).embed_query("warm up")
    with tempfile.TemporaryDirectory() as tmp:
        ours, baseline = _measure(Path(tmp), questions, repeat, backend)
        serve_s = None
        if startup:
            serve_s = serve_to_first_answer(Path(tmp) / "ours", Path(tmp) / "data", backend)
    return Comparison(ours=ours, baseline=baseline,
                      ratios={k: ours[k] / baseline[k] for k in RATIO_KEYS},
                      backend=s.embedding.backend, model_load_s=load.s,
                      questions=len(questions), repeat=repeat, serve_s=serve_s)


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
    t = Timer()
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
        elapsed = t.s
        assert "Castex" in str(reply), reply
        return elapsed
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def report(c: Comparison) -> list[str]:
    """The lines main() prints."""
    o, b = c.ours, c.baseline
    lines = [f"embedding backend: {c.backend}; model load {c.model_load_s:.2f} s",
             f"dev questions: {c.questions}, timed asks per system: {c.timed_asks}"]
    lines += ratio_table(o, b, (("ingest (s)", "ingest_s", ".2f"),
                                ("warm latency p50 (ms)", "p50", ".1f"),
                                ("warm latency p95 (ms)", "p95", ".1f")), width=28)
    lines += [
        f"{'evidence hit rate (answer)':28}{o['hit']:>10.0%}{b['hit']:>10.0%}"
        "   (ours top 5, baseline top 4)",
        f"{'ingest chunks/s':28}{o['chunks'] / o['ingest_s']:>10.0f}"
        f"{b['chunks'] / b['ingest_s']:>10.0f}",
        "ours by stage, p50 / p95 (ms): " + ", ".join(
            f"{k} {o[f'{k}_p50']:.2f} / {o[f'{k}_p95']:.2f}" for k in STAGES),
        f"chain, p50 / p95 (ms): our step loop {o['p50']:.2f} / {o['p95']:.2f}, LangChain "
        f"RunnableSequence {o['plain_chain_p50']:.2f} / {o['plain_chain_p95']:.2f}",
        f"assistant start-up in process (s): {o['startup_s']:.2f}; "
        f"sidecar on disk: {o['sidecar_kb']:.0f} KiB",
    ]
    if c.serve_s is not None:
        lines.append(f"`python -m assistant serve` start to first answer (s): {c.serve_s:.2f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--backend", choices=("torch", "onnx", "onnx-int8"),
                        help="embedding backend for both systems (default: the settings')")
    parser.add_argument("--no-startup", action="store_true",
                        help="skip the serve-to-first-answer measurement")
    args = parser.parse_args()
    c = compare(args.repeat, args.backend, startup=not args.no_startup)
    print("\n".join(report(c)))


if __name__ == "__main__":
    main()
