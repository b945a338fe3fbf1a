"""Speed and plain correctness of the local language model on grounded questions.

For each question, the project's retriever picks the passages; the model (llama.cpp in process,
greedy decoding) streams a short cited answer from them. Prints, per question and as medians:
time to first token, total time, prompt and generated tokens, prompt and generation tokens/s,
whether the reply holds the expected facts and cites a passage; then load time and memory.

    .venv/bin/python bench/bench_llm.py [--model other.gguf] [--limit 5] [--replies out.jsonl]

The prompt below is a fixed benchmark prompt, so that two model files can be compared.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from common import DEV, Timer, has_facts, percentile, self_rss_mb

from assistant.answer.llm import get_chat_model
from assistant.settings import LLMSettings, Settings

# French questions next to the dev set's one, to see the answer language.
FRENCH = [
    {"id": "fr-a", "lang": "fr", "expect": "answer", "facts": [["Castex"]],
     "question": "À qui la maire de Paris a-t-elle envoyé sa lettre ?"},
    {"id": "fr-b", "lang": "fr", "expect": "answer", "facts": [["Riquet"]],
     "question": "Où les usagers de drogues se rassemblent-ils chaque jour ?"},
]
SYSTEM = (
    "You answer questions about crack-cocaine policy and care in Paris, using only the numbered "
    "passages given. Answer in the language of the question, in at most three short sentences. "
    "After each sentence, cite the passages it comes from as [n]. If the passages do not "
    "contain the answer, say that the sources do not say, and nothing else."
)


def questions(limit: int | None) -> list[dict[str, Any]]:
    """The dev `answer` and `no_answer` questions, then the French ones; the first `limit`."""
    dev = [json.loads(line) for line in DEV.read_text().splitlines() if line.strip()]
    chosen = [q for q in dev if q["expect"] in ("answer", "no_answer")] + FRENCH
    return chosen[:limit] if limit else chosen


def stream_answer(model: Any, q: dict[str, Any], passages: list[str]) -> tuple[dict[str, Any], str]:
    """Stream the model's answer to q over the passages: (its figures, the reply text)."""
    numbered = "\n\n".join(f"[{i}] {text}" for i, text in enumerate(passages, 1))
    messages = [("system", SYSTEM),
                ("human", f"Passages:\n{numbered}\n\nQuestion: {q['question']}")]
    t, first, total = Timer(), None, None
    for chunk in model.stream(messages):
        if first is None and chunk.content:
            first = t.s
        total = chunk if total is None else total + chunk
    elapsed = t.s
    timings = total.response_metadata.get("timings", {})
    usage = total.usage_metadata
    text = total.content
    facts = has_facts(text, q["facts"]) if q["expect"] == "answer" else None
    row = {
        "id": q["id"], "ttft_s": first or elapsed, "total_s": elapsed,
        "in": usage["input_tokens"], "out": usage["output_tokens"],
        "pp": timings.get("prompt_per_second", 0.0),
        "tg": timings.get("predicted_per_second", 0.0), "facts": facts,
        "cites": bool(re.search(r"\[\d\]", text)),
    }
    return row, text


def medians(rows: list[dict[str, Any]]) -> list[str]:
    """The summary lines over every answered question."""
    med = {k: percentile([r[k] for r in rows], 50) for k in ("ttft_s", "total_s", "pp", "tg")}
    answered = [r for r in rows if r["facts"] is not None]
    return [f"median ttft {med['ttft_s']:.2f} s, total {med['total_s']:.2f} s, "
            f"prompt {med['pp']:.1f} tok/s, generation {med['tg']:.1f} tok/s",
            f"facts right {sum(bool(r['facts']) for r in answered)}/{len(answered)}, "
            f"cited {sum(r['cites'] for r in rows)}/{len(rows)}"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=LLMSettings().model_path)
    parser.add_argument("--limit", type=int, default=None, help="first N questions only")
    parser.add_argument("--max-tokens", type=int, default=160)
    parser.add_argument("--replies", type=Path, help="write each reply as JSON lines here")
    args = parser.parse_args()

    from assistant.service import Assistant

    settings = Settings()
    assistant = Assistant(settings, build_index=False)
    before = self_rss_mb()
    with Timer() as load:
        model = get_chat_model(
            LLMSettings(backend="local", model_path=args.model, max_tokens=args.max_tokens)
        )
    after_load = self_rss_mb()

    rows, replies = [], []
    print(f"model {args.model.name}, load {load.s:.1f} s")
    print(f"{'id':6} {'ttft_s':>6} {'total_s':>7} {'in':>5} {'out':>4} {'pp_t/s':>7} "
          f"{'tg_t/s':>7} facts cites")
    for q in questions(args.limit):
        passages = [p.text for p in assistant.ask(q["question"]).retrieved][:5]
        if not passages:
            print(f"{q['id']:6} (no passages retrieved: skipped)")
            continue
        row, text = stream_answer(model, q, passages)
        rows.append(row)
        replies.append({"id": q["id"], "question": q["question"], "reply": text})
        print(f"{row['id']:6} {row['ttft_s']:6.2f} {row['total_s']:7.2f} {row['in']:5d} "
              f"{row['out']:4d} {row['pp']:7.1f} {row['tg']:7.1f} {str(row['facts']):5} "
              f"{row['cites']}")
        print(f"       {text[:160]!r}")

    if rows:
        print("\n".join(medians(rows)))
    print(f"RSS {before:.0f} MB before load, {after_load:.0f} MB after load, "
          f"{self_rss_mb():.0f} MB at the end")
    if args.replies:
        args.replies.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in replies))


if __name__ == "__main__":
    main()
