"""The staff view of a reply (guard decision, rewrite, passages and their scores, timings) and
the record the session keeps of each reply."""

from __future__ import annotations

import json
from typing import Any

from assistant.answer.flow import AFTER_NEXT, NEXT, PART_QUOTED, REPEATED
from assistant.app.render import esc
from assistant.models import Answer, Passage


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.4f}"
    return esc(x)


def _kv_table(data: dict[str, Any]) -> str:
    rows = []
    for k, v in data.items():
        val = v if isinstance(v, str | int | float) or v is None else json.dumps(
            v, ensure_ascii=False)
        rows.append(f"<tr><th>{esc(k)}</th><td>{_fmt(val)}</td></tr>")
    return f'<table class="kv">{"".join(rows)}</table>'


def _render_classifier(c: dict[str, Any]) -> str:
    """The guard classifier's probabilities (whole message, and the sentence that decided)."""
    cols = [("whole message", c.get("probabilities") or {})]
    if c.get("unit_probabilities"):
        cols.append(("deciding sentence", c["unit_probabilities"]))
    labels = sorted(cols[0][1], key=lambda k: -cols[0][1][k])
    head = "".join(f"<th>{esc(name)}</th>" for name, _ in cols)
    body = "".join(
        f"<tr><th>{esc(label)}</th>" + "".join(f"<td>{p.get(label, 0):.3f}</td>" for _, p in cols)
        + "</tr>" for label in labels)
    unit = f"<p>Deciding sentence: {esc(c['unit'])}</p>" if c.get("unit") else ""
    return (f"<h4>Classifier: {esc(c.get('label', ''))} ({c.get('units', 1)} units read)</h4>"
            f'{unit}<table class="kv"><tr><th>label</th>{head}</tr>{body}</table>')


def render_staff(turn: dict[str, Any] | None) -> str:
    """The last reply as staff see it: guardrail decision, rewrite, passages, scores, timings."""
    if not turn:
        return '<div class="staff"><p>No reply yet in this session.</p></div>'
    trace = turn.get("trace", {})
    cited_chunks = {(c["doc_id"], c["start"]) for c in turn.get("citations", [])}
    parts = ['<div class="staff">']
    parts.append(f"<h4>Question</h4><p>{esc(turn['question'])}</p>")
    parts.append(f"<h4>Reply kind</h4><p><b>{esc(turn['kind'])}</b> ({esc(turn['lang'])})</p>")
    guard = dict(trace.get("guard") or {})
    classifier = guard.pop("classifier", None)
    parts.append("<h4>Guardrail decision</h4>" + _kv_table(guard))
    if classifier:
        parts.append(_render_classifier(classifier))
    rw = trace.get("rewrite") or {}
    parts.append("<h4>Rewritten question</h4>" + _kv_table(
        {"rewritten": rw.get("question", "(not rewritten: no retrieval)"),
         "why": rw.get("why", "")}))
    if trace.get("query"):
        parts.append("<h4>Query</h4>" + _kv_table(trace["query"]))
    if trace.get("answerer"):
        ans = {k: v for k, v in trace["answerer"].items() if k != "sentences"}
        # Why each quoted sentence won: meaning, terms, and whether it gives what is asked.
        ans["quoted sentences"] = "; ".join(
            f"{q['doc_id']} {q['start']}–{q['end']}: score {q['score']} (cosine {q['cosine']}, "
            f"meaning {q.get('meaning', 0.0)}, terms {q['overlap']}, "
            f"gives {q.get('answer_kind') or 'no asked-for answer'}{_flow_note(q)})"
            for q in trace["answerer"].get("sentences", [])) or "none"
        parts.append("<h4>Answerer</h4>" + _kv_table(ans))
    if trace.get("written"):
        parts.append(_render_written(trace["written"]))
    rows = []
    for i, p in enumerate(turn.get("passages", []), 1):
        cited = any(d == p["doc_id"] and p["start"] <= s < p["end"] for d, s in cited_chunks)
        rows.append(
            f'<tr class="{"cited" if cited else ""}"><td class="num">{i}</td>'
            f"<td>{esc(p['doc_id'])}<br><small>{esc(p['chunk_id'])}</small></td>"
            f'<td class="num">{_fmt(p["dense"])}</td><td class="num">{_fmt(p["dense_rank"])}</td>'
            f'<td class="num">{_fmt(p["bm25"])}</td><td class="num">{_fmt(p["bm25_rank"])}</td>'
            f'<td class="num">{_fmt(p.get("fused"))}</td>'
            f'<td class="num">{_fmt(p.get("coverage"))}</td>'
            f'<td class="num">{_fmt(p.get("meaning"))}</td>'
            f'<td class="num">{_fmt(p["score"])}</td>'
            f"<td>{esc(p['text'][:400])}{'…' if len(p['text']) > 400 else ''}</td></tr>"
        )
    parts.append(
        f"<h4>Retrieved passages ({len(rows)})</h4>"
        "<table><tr><th>#</th><th>document / chunk</th><th>dense</th><th>rank</th>"
        "<th>BM25</th><th>rank</th><th>fused (RRF)</th><th>terms</th><th>meaning</th>"
        "<th>score</th><th>text</th></tr>"
        + ("".join(rows) or '<tr><td colspan="11">none: no retrieval for this reply</td></tr>')
        + "</table>"
    )
    timings = {k: f"{v:.1f} ms" for k, v in (turn.get("timings_ms") or {}).items()}
    parts.append("<h4>Timings</h4>" + _kv_table(timings))
    parts.append("</div>")
    return "".join(parts)


def _render_written(written: dict[str, Any]) -> str:
    """What the language model wrote, and which sentences the check kept or removed, and why."""
    head = _kv_table({
        "used": "no: " + written["fallback"] if written.get("fallback") else "yes",
        "kept / removed": f"{written.get('kept', 0)} / {written.get('removed', 0)}",
        "first token": f"{written['ttft_ms']} ms" if written.get("ttft_ms") else "",
        "generation": f"{written.get('generate_ms', 0)} ms",
        "tokens in / out": f"{written.get('tokens_in')} / {written.get('tokens_out')}",
    })
    rows = "".join(
        f'<tr class="{"kept" if s["kept"] else "removed"}"><td>{"kept" if s["kept"] else "removed"}'
        f"</td><td>{esc(s['text'])}</td><td>{esc(s['reason'])}</td>"
        f'<td class="num">{_fmt(s["overlap"])}</td><td class="num">{_fmt(s["cosine"])}</td></tr>'
        for s in written.get("sentences", [])
    )
    sources = ", ".join(f"[{x['n']}] {x['doc_id']} {x['start']}-{x['end']}"
                        for x in written.get("sources", []))
    return (
        "<h4>Written answer check</h4>" + head
        + f"<p><small>passages given to the model: {esc(sources)}</small></p>"
        + f"<p><small>model output:</small></p><pre>{esc(written.get('raw', ''))}</pre>"
        + "<table><tr><th></th><th>sentence</th><th>why</th><th>words</th><th>meaning</th></tr>"
        + (rows or '<tr><td colspan="5">no sentence checked</td></tr>') + "</table>"
    )


def _passage_json(p: Passage) -> dict[str, Any]:
    return {
        "doc_id": p.doc_id, "chunk_id": p.chunk_id, "title": p.title, "text": p.text,
        "start": p.start, "end": p.end, "score": p.score, "dense": p.dense, "bm25": p.bm25,
        "dense_rank": p.dense_rank, "bm25_rank": p.bm25_rank, "fused": p.fused,
        "coverage": p.coverage, "meaning": p.meaning,
    }


def turn_record(turn: int, question: str, answer: Answer, reply_id: str) -> dict[str, Any]:
    """What the session keeps about one reply (server-side gr.State: never sent to the page)."""
    trace = {k: v for k, v in (answer.trace or {}).items() if not k.startswith("_")}
    return {
        "turn": turn,
        "reply_id": reply_id,
        "question": question,
        "rewritten": (trace.get("rewrite") or {}).get("question", ""),
        "kind": answer.kind,
        "lang": answer.lang,
        "text": answer.text,
        "citations": [c.to_json() for c in answer.citations],
        "passages": [_passage_json(p) for p in answer.retrieved],
        "timings_ms": dict(answer.timings_ms),
        "trace": trace,
    }


# A follow-up's sentence, by its place after the previous reply (PART_QUOTED and AFTER_NEXT
# are the same value: both "near").
_FLOW_NOTES = {REPEATED: "; quoted in the previous reply", AFTER_NEXT: "; near the previous quote",
               PART_QUOTED: "; near the previous quote", NEXT: "; right after the previous quote"}


def _flow_note(sentence: dict) -> str:
    return _FLOW_NOTES.get(float(sentence.get("flow") or 0.0), "")
