"""Written answers from the local language model, through the whole assistant, on 2 cores.

For each dev question the corpus can answer: time to first token, total reply time, prompt and
generated tokens, prompt and generation speed, and what the check did. The extractive reply of
the same question, in the same run, is the baseline.

    .venv/bin/python bench/bench_written.py [--repeat 1] [--answerer local|openai]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant.evaluation import citations_valid, facts_ok, load_questions  # noqa: E402
from assistant.service import Assistant  # noqa: E402
from assistant.settings import Settings  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "dev_questions.jsonl"


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--answerer", default="local", choices=("local", "openai"))
    args = parser.parse_args()
    questions = [q for q in load_questions(DEV) if q.expect == "answer"]

    quotes = Assistant(Settings())
    s = Settings()
    s.llm.backend = args.answerer
    t0 = time.perf_counter()
    written = Assistant(s)
    load_s = time.perf_counter() - t0
    # Warm-up with a question outside the timed set: the first call pays for lazy set-up, and
    # a timed question must not find its own prompt in llama.cpp's cache.
    written.ask("What is the Paris crack plan?")

    ttft, total, quote_ms, prompt_tps, gen_tps = [], [], [], [], []
    used = kept = removed = facts = valid = n = 0
    print(f"{'id':6}{'first token':>12}{'total':>9}{'in':>5}{'out':>5}  outcome")
    for _ in range(args.repeat):
        for q in questions:
            quote_ms.append(quotes.ask(q.question, q.history or None).timings_ms["total"])
            a = written.ask(q.question, q.history or None)
            w = a.trace["written"]
            n += 1
            total.append(a.timings_ms["total"])
            if w["ttft_ms"] is not None:
                ttft.append(w["ttft_ms"])
                if w["tokens_in"]:
                    prompt_tps.append(w["tokens_in"] / (w["ttft_ms"] / 1000))
                gen_s = (w["generate_ms"] - w["ttft_ms"]) / 1000
                if w["tokens_out"] and w["tokens_out"] > 1 and gen_s > 0:
                    gen_tps.append((w["tokens_out"] - 1) / gen_s)
            used += not w["fallback"]
            kept += w["kept"]
            removed += w["removed"]
            facts += bool(facts_ok(q, a))
            valid += citations_valid(a, written.documents)
            outcome = "written" if not w["fallback"] else f"quotes ({w['fallback']})"
            print(f"{q.id:6}{w['ttft_ms'] or float('nan'):>10.0f}ms{a.timings_ms['total']:>7.0f}ms"
                  f"{w['tokens_in'] or 0:>5}{w['tokens_out'] or 0:>5}  {outcome}")
    print()
    print(f"answerer: {args.answerer}; answer questions: {len(questions)} x {args.repeat}")
    print(f"model load (s)                   {load_s:.1f}")
    print(f"time to first token p50/p95 (ms) {pct(ttft, 50):.0f} / {pct(ttft, 95):.0f}")
    print(f"total reply p50/p95 (ms)         {pct(total, 50):.0f} / {pct(total, 95):.0f}")
    print(f"extractive reply p50/p95 (ms)    {pct(quote_ms, 50):.1f} / {pct(quote_ms, 95):.1f}"
          f"   (ratio of p50s {pct(total, 50) / pct(quote_ms, 50):.0f}x)")
    print(f"prompt tokens/s median           {pct(prompt_tps, 50):.1f}")
    print(f"generation tokens/s median       {pct(gen_tps, 50):.1f}")
    print(f"written answers used             {used}/{n} (others fell back to quotes)")
    share = removed / (kept + removed) if kept + removed else 0.0
    print(f"sentences removed by the check   {removed}/{kept + removed} ({share:.0%})")
    print(f"facts present / citations valid  {facts}/{n} / {valid}/{n}")


if __name__ == "__main__":
    main()
