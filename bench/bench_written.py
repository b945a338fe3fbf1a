"""Written answers from the local language model, through the whole assistant, on 2 cores.

For each dev question the corpus can answer: time to first token, total reply time, prompt and
generated tokens, prompt and generation speed, and what the check did. The extractive reply of
the same question, in the same run, is the baseline.

    .venv/bin/python bench/bench_written.py [--repeat 1] [--answerer local|openai]
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from common import DEV, Timer, key_figures, p50_p95, percentile

from assistant.evaluation import Question, citations_valid, facts_ok, load_questions
from assistant.service import Assistant
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.models import Answer


@dataclass
class Tally:
    """What the run adds up, question after question."""

    ttft: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    quote_ms: list[float] = field(default_factory=list)
    prompt_tps: list[float] = field(default_factory=list)
    gen_tps: list[float] = field(default_factory=list)
    used: int = 0
    kept: int = 0
    removed: int = 0
    facts: int = 0
    valid: int = 0
    n: int = 0

    def add(self, q: Question, a: Answer, written: Assistant) -> None:
        w = a.trace["written"]
        self.n += 1
        self.total.append(a.timings_ms["total"])
        if w["ttft_ms"] is not None:
            self.ttft.append(w["ttft_ms"])
            if w["tokens_in"]:
                self.prompt_tps.append(w["tokens_in"] / (w["ttft_ms"] / 1000))
            gen_s = (w["generate_ms"] - w["ttft_ms"]) / 1000
            if w["tokens_out"] and w["tokens_out"] > 1 and gen_s > 0:
                self.gen_tps.append((w["tokens_out"] - 1) / gen_s)
        self.used += not w["fallback"]
        self.kept += w["kept"]
        self.removed += w["removed"]
        self.facts += bool(facts_ok(q, a))
        self.valid += citations_valid(a, written.documents)


def summary(t: Tally, load_s: float) -> list[str]:
    (ttft50, ttft95), (total50, total95) = p50_p95(t.ttft), p50_p95(t.total)
    quote50, quote95 = p50_p95(t.quote_ms)
    share = t.removed / (t.kept + t.removed) if t.kept + t.removed else 0.0
    return key_figures((
        ("model load (s)", f"{load_s:.1f}"),
        ("time to first token p50/p95 (ms)", f"{ttft50:.0f} / {ttft95:.0f}"),
        ("total reply p50/p95 (ms)", f"{total50:.0f} / {total95:.0f}"),
        ("extractive reply p50/p95 (ms)", f"{quote50:.1f} / {quote95:.1f}"
         f"   (ratio of p50s {total50 / quote50:.0f}x)"),
        ("prompt tokens/s median", f"{percentile(t.prompt_tps, 50):.1f}"),
        ("generation tokens/s median", f"{percentile(t.gen_tps, 50):.1f}"),
        ("written answers used", f"{t.used}/{t.n} (others fell back to quotes)"),
        ("sentences removed by the check",
         f"{t.removed}/{t.kept + t.removed} ({share:.0%})"),
        ("facts present / citations valid", f"{t.facts}/{t.n} / {t.valid}/{t.n}"),
    ), width=33)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--answerer", default="local", choices=("local", "openai"))
    args = parser.parse_args()
    questions = [q for q in load_questions(DEV) if q.expect == "answer"]

    quotes = Assistant(Settings())
    s = Settings()
    s.llm.backend = args.answerer
    with Timer() as load:
        written = Assistant(s)
    # Warm-up with a question outside the timed set: the first call pays for lazy set-up, and
    # a timed question must not find its own prompt in llama.cpp's cache.
    written.ask("What is the Paris crack plan?")

    tally = Tally()
    print(f"{'id':6}{'first token':>12}{'total':>9}{'in':>5}{'out':>5}  outcome")
    for _ in range(args.repeat):
        for q in questions:
            tally.quote_ms.append(quotes.ask(q.question, q.history or None).timings_ms["total"])
            a = written.ask(q.question, q.history or None)
            tally.add(q, a, written)
            w = a.trace["written"]
            outcome = "written" if not w["fallback"] else f"quotes ({w['fallback']})"
            print(f"{q.id:6}{w['ttft_ms'] or float('nan'):>10.0f}ms{a.timings_ms['total']:>7.0f}ms"
                  f"{w['tokens_in'] or 0:>5}{w['tokens_out'] or 0:>5}  {outcome}")
    print()
    print(f"answerer: {args.answerer}; answer questions: {len(questions)} x {args.repeat}")
    print("\n".join(summary(tally, load.s)))


if __name__ == "__main__":
    main()
