"""Scoring the assistant on a question file (format: ../shared/eval/README.md)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.models import Answer
from assistant.text.language import fold


@dataclass
class Question:
    id: str
    question: str
    lang: str
    expect: str
    evidence: list[str] = field(default_factory=list)
    facts: list[list[str]] = field(default_factory=list)
    history: list[dict[str, str]] = field(default_factory=list)


def load_questions(path: Path) -> list[Question]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            out.append(
                Question(
                    id=str(raw["id"]),
                    question=str(raw["question"]),
                    lang=str(raw.get("lang", "en")),
                    expect=str(raw["expect"]),
                    evidence=list(raw.get("evidence") or []),
                    facts=[list(alts) for alts in raw.get("facts") or []],
                    history=list(raw.get("history") or []),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a question line ({exc})") from None
    return out


def retrieval_hit(q: Question, answer: Answer, k: int = 5) -> bool | None:
    """Some evidence phrase in the top-k passages (case and accents ignored)."""
    if q.expect != "answer" or not q.evidence:
        return None
    passages = [fold(p.text) for p in answer.retrieved[:k]]
    return any(fold(e) in p for e in q.evidence for p in passages)


def facts_ok(q: Question, answer: Answer) -> bool | None:
    if not q.facts:
        return None
    text = fold(answer.text)
    return all(any(fold(alt) in text for alt in alts) for alts in q.facts)


def citations_valid(answer: Answer, documents: dict[str, dict[str, Any]]) -> bool:
    """Every quote is exactly its document's slice, and every [n] has its citation."""
    ns = {c.n for c in answer.citations}
    for c in answer.citations:
        doc = documents.get(c.doc_id)
        if doc is None or doc["text"][c.start : c.end] != c.quote or not c.quote:
            return False
        if f"[{c.n}]" not in answer.text:
            return False
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", answer.text)}
    return markers <= ns


@dataclass
class Row:
    question: Question
    answer: Answer
    hit: bool | None
    facts: bool | None
    kind_ok: bool
    citations_ok: bool


@dataclass
class Summary:
    rows: list[Row]

    def _rate(self, values: list[bool]) -> float | None:
        return sum(values) / len(values) if values else None

    def metrics(self) -> dict[str, Any]:
        rows = self.rows
        latencies = [r.answer.timings_ms.get("total", 0.0) for r in rows]
        by_kind: dict[str, list[bool]] = {}
        for r in rows:
            by_kind.setdefault(r.question.expect, []).append(r.kind_ok)
        return {
            "questions": len(rows),
            "retrieval_hit_rate_at_5": self._rate([r.hit for r in rows if r.hit is not None]),
            "fact_accuracy": self._rate([r.facts for r in rows if r.facts is not None]),
            "kind_accuracy": self._rate([r.kind_ok for r in rows]),
            "kind_accuracy_by_expect": {k: self._rate(v) for k, v in sorted(by_kind.items())},
            "citation_validity": self._rate([r.citations_ok for r in rows]),
            # Of the replies that said "the sources don't say", the share that should have.
            "no_answer_precision": self._rate(
                [r.question.expect == "no_answer" for r in rows if r.answer.kind == "no_answer"]
            ),
            **self._written(),
            "latency_ms_p50": float(np.percentile(latencies, 50)) if latencies else None,
            "latency_ms_p95": float(np.percentile(latencies, 95)) if latencies else None,
        }

    def _written(self) -> dict[str, Any]:
        """For a language-model answerer: how often it was used and what the check removed."""
        traces = [r.answer.trace.get("written") for r in self.rows]
        traces = [t for t in traces if t]
        if not traces:
            return {}
        kept = sum(t["kept"] for t in traces)
        removed = sum(t["removed"] for t in traces)
        return {
            "written_answers": sum(1 for t in traces if not t["fallback"]),
            "written_fallbacks": sum(1 for t in traces if t["fallback"]),
            "written_sentences": kept + removed,
            "sentences_removed_share": removed / (kept + removed) if kept + removed else None,
        }

    def report(self) -> str:
        m = self.metrics()

        def pct(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.0%}"

        lines = [
            f"questions                 {m['questions']}",
            f"retrieval hit rate @5     {pct(m['retrieval_hit_rate_at_5'])}  (answer questions)",
            f"fact accuracy             {pct(m['fact_accuracy'])}",
            f"kind accuracy             {pct(m['kind_accuracy'])}",
        ]
        for kind, rate in m["kind_accuracy_by_expect"].items():
            lines.append(f"  {kind:<23} {pct(rate)}")
        lines += [
            f"citation validity         {pct(m['citation_validity'])}",
            f"no_answer precision       {pct(m['no_answer_precision'])}",
            f"latency p50 / p95         {m['latency_ms_p50']:.1f} / {m['latency_ms_p95']:.1f} ms",
        ]
        if "written_sentences" in m:
            lines += [
                f"written answers used      {m['written_answers']} "
                f"(fell back to quotes: {m['written_fallbacks']})",
                f"sentences removed         {pct(m['sentences_removed_share'])} "
                f"of {m['written_sentences']} written",
            ]
        failures = [r for r in self.rows if not (r.kind_ok and r.facts is not False
                                                  and r.hit is not False and r.citations_ok)]
        for r in failures:
            lines.append(
                f"MISS {r.question.id}: expected {r.question.expect}, got {r.answer.kind}; "
                f"hit={r.hit} facts={r.facts} citations_ok={r.citations_ok}"
            )
        return "\n".join(lines)


def evaluate(assistant: Any, questions: list[Question]) -> Summary:
    rows = []
    for q in questions:
        answer = assistant.ask(q.question, q.history or None)
        rows.append(
            Row(
                question=q,
                answer=answer,
                hit=retrieval_hit(q, answer),
                facts=facts_ok(q, answer),
                kind_ok=answer.kind == q.expect,
                citations_ok=citations_valid(answer, assistant.documents),
            )
        )
    return Summary(rows)
