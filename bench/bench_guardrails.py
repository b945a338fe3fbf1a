"""Guardrail cost per message: rules only, with the guard's own embedding, and with a vector
the caller already computed. Run: .venv/bin/python bench/bench_guardrails.py"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from assistant.care import CareDirectory
from assistant.embeddings import get_embeddings
from assistant.guardrails import Guardrails

ROOT = Path(__file__).resolve().parents[1]


def _p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def _run(label: str, fn, messages: list[str], rounds: int = 3) -> None:
    times = []
    for _ in range(rounds):
        for m in messages:
            t0 = time.perf_counter()
            fn(m)
            times.append((time.perf_counter() - t0) * 1000)
    print(f"{label:<44} median {statistics.median(times):6.2f} ms   p95 {_p(times, 0.95):6.2f} ms"
          f"   max {max(times):6.2f} ms")


def main() -> None:
    rows = (ROOT / "tests/data/guardrail_messages.jsonl").read_text(encoding="utf-8").splitlines()
    messages = [json.loads(r)["message"] for r in rows]
    care = CareDirectory.load(ROOT / "assistant/data/care_directory.yaml")
    emb = get_embeddings("bundled:all-MiniLM-L6-v2")
    rules_only = Guardrails(care, None)
    guard = Guardrails(care, emb)
    guard.check("warm up the labelled examples", vector=emb.embed_query("warm up"))
    vectors = {m: emb.embed_query(m) for m in messages}
    embedded = sum(guard.check(m).vector is not None for m in messages)
    print(f"{len(messages)} messages; the guard embeds {embedded} of them itself "
          f"({embedded / len(messages):.0%}): the rest are decided by rules")
    _run("rules only (no embeddings)", rules_only.check, messages)
    _run("rules + own embedding when undecided", guard.check, messages)
    _run("rules + precomputed vector", lambda m: guard.check(m, vector=vectors[m]), messages)
    _run("embed_query alone (for reference)", emb.embed_query, messages)


if __name__ == "__main__":
    main()
