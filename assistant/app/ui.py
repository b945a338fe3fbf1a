"""The web app: a thin Gradio 6 layer over `Assistant`.

The chat renders the reply text; the sources panel renders the evidence; the staff tab renders
the trace. Nothing a user types and no document text is ever inserted as live HTML: every piece
is escaped here before it reaches the page, and the chatbot sanitises on top of that.

Named API endpoints (for gradio_client): "ask" returns the reply JSON, "feedback" stores
feedback on a reply.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
import os
import re
import threading
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import Any

# The app runs offline: no analytics calls (set before gradio is imported).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from assistant.app.feedback import Feedback, FeedbackStore, default_db_path  # noqa: E402
from assistant.models import Answer, Citation, Passage  # noqa: E402
from assistant.service import Assistant, Done, DraftDelta, Evidence, TextDelta  # noqa: E402
from assistant.settings import Settings, get_settings  # noqa: E402

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
CSS = (STATIC_DIR / "ui.css").read_text(encoding="utf-8")
HEAD = f"<script>{(STATIC_DIR / 'ui.js').read_text(encoding='utf-8')}</script>"

MAX_HISTORY_MESSAGES = 12  # the follow-up rewriter only needs the last few turns
MAX_SHOWN_USER_CHARS = 1500  # a 20,000-character paste is acknowledged, not re-displayed
CONTEXT_CHARS = 320  # document text shown around a cited passage, each side

LIKE, DISLIKE = "Like", "Dislike"
WRONG_SOURCE, MISSING_INFO = "Wrong source", "Missing information"

T: dict[str, dict[str, Any]] = {
    "en": {
        "title": "## Paris crack policy & care: ask the sources\n"
        "Answers quote the documents word for word; each **[n]** opens its source.",
        "placeholder": "Ask about crack policy or care services in Paris…",
        "ask": "Ask",
        "clear": "New conversation",
        "public": "For the public",
        "journalists": "For journalists",
        "examples_public": [
            "Where can I get help to stop using crack in Paris?",
            "Why are people scared to go outside in some areas?",
            "What does Charonnes hand out from his van?",
        ],
        "examples_journalists": [
            "Which sites did Anne Hidalgo propose for crack users' care?",
            "What did the health ministry conclude about the consumption rooms tested since 2016?",
            "According to Dagnaud, why was the crack plan created?",
        ],
        "sources": "Sources",
        "sources_empty": "The passages a reply cites appear here. Click a [n] in a reply.",
        "reply": "Reply",
        "copy": "Copy quote",
        "copied": "Copied",
        "published": "Published",
        "provenance": "Provenance",
        "source": "Source",
        "chars": "characters",
        "feedback": "Feedback on a reply",
        "rating": "Was this reply useful?",
        "rating_choices": [("👍 Yes", "up"), ("👎 No", "down")],
        "flags": "Problems",
        "flag_choices": [("Wrong source", "wrong_source"),
                         ("Missing information", "missing_information")],
        "comment": "Comment (optional)",
        "send_feedback": "Send feedback",
        "fb_thanks": "Thank you: your feedback on reply {n} is saved.",
        "fb_nothing": "Choose 👍/👎, a problem or write a comment first.",
        "fb_no_reply": "Ask a question first; feedback is about a reply.",
        "care_title": "Need help now?",
        "emergency_alert": ("Emergency: call {phone} now.",
                            "Stay with the person and follow what the call handler tells you."),
        "lang": "Interface language",
        "you_sent": "(message of {n:,} characters, shown shortened)",
        "checking": "Checking every sentence against its source…",
        "error": "Sorry, something went wrong on our side; please ask again. If someone is in "
        "danger, call 15 or 112.",
    },
    "fr": {
        "title": "## Crack à Paris, politiques et soins : interrogez les sources\n"
        "Les réponses citent les documents mot pour mot ; chaque **[n]** ouvre sa source.",
        "placeholder": "Posez une question sur le crack ou l'aide à Paris…",
        "ask": "Envoyer",
        "clear": "Nouvelle conversation",
        "public": "Pour le public",
        "journalists": "Pour les journalistes",
        "examples_public": [
            "Où trouver de l'aide pour arrêter le crack à Paris ?",
            "Pourquoi les gens ont-ils peur de sortir dans certains quartiers ?",
            "Que distribue Charonnes depuis sa camionnette ?",
        ],
        "examples_journalists": [
            "Quels sites Anne Hidalgo a-t-elle proposés pour la prise en charge des usagers "
            "de crack ?",
            "Qu'a conclu le ministère de la santé sur les salles de consommation testées "
            "depuis 2016 ?",
            "Selon Dagnaud, pourquoi le plan crack a-t-il été créé ?",
        ],
        "sources": "Sources",
        "sources_empty": "Les passages cités par une réponse s'affichent ici. "
        "Cliquez sur un [n] dans une réponse.",
        "reply": "Réponse",
        "copy": "Copier la citation",
        "copied": "Copié",
        "published": "Publication",
        "provenance": "Provenance",
        "source": "Source",
        "chars": "caractères",
        "feedback": "Votre avis sur une réponse",
        "rating": "Cette réponse vous a-t-elle été utile ?",
        "rating_choices": [("👍 Oui", "up"), ("👎 Non", "down")],
        "flags": "Problèmes",
        "flag_choices": [("Mauvaise source", "wrong_source"),
                         ("Information manquante", "missing_information")],
        "comment": "Commentaire (facultatif)",
        "send_feedback": "Envoyer l'avis",
        "fb_thanks": "Merci : votre avis sur la réponse {n} est enregistré.",
        "fb_nothing": "Choisissez 👍/👎, un problème ou écrivez un commentaire.",
        "fb_no_reply": "Posez d'abord une question : l'avis porte sur une réponse.",
        "care_title": "Besoin d'aide maintenant ?",
        "emergency_alert": ("Urgence : appelez le {phone} maintenant.",
                            "Restez avec la personne et suivez les consignes de l'opérateur."),
        "lang": "Langue de l'interface",
        "you_sent": "(message de {n:,} caractères, affiché en partie)",
        "checking": "Vérification de chaque phrase dans sa source…",
        "error": "Désolé, une erreur s'est produite de notre côté ; reposez la question. Si "
        "quelqu'un est en danger, appelez le 15 ou le 112.",
    },
}

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
_CITE = re.compile(r"\[(\d{1,3})\]")


# -- escaping ----------------------------------------------------------------------------------
def esc(text: Any) -> str:
    """Text for an HTML context: tags and entities become visible characters."""
    return html.escape("" if text is None else str(text), quote=True)


def esc_md(text: str) -> str:
    """Text for the chatbot's Markdown+HTML renderer: shown exactly as typed, never markup.

    HTML is escaped without touching quotes (so no '#' appears that Markdown would mangle),
    then every Markdown punctuation character is backslash-escaped.
    """
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def render_user(message: str, lang: str) -> str:
    text = message if message is not None else ""
    note = ""
    if len(text) > MAX_SHOWN_USER_CHARS:
        note = "\n\n_" + esc_md(T[lang]["you_sent"].format(n=len(text))) + "_"
        text = text[:MAX_SHOWN_USER_CHARS] + " …"
    if not text.strip():
        text = "␣" * max(1, min(len(text), 3))  # an empty bubble would look like a glitch
    return esc_md(text) + note


def render_reply(text: str, kind: str, turn: int, citations: list[Citation], lang: str) -> str:
    """Escaped reply text whose [n] markers link to the sources panel (kind decides the frame)."""
    known = {c.n for c in citations}
    out: list[str] = []
    pos = 0
    for m in _CITE.finditer(text):
        out.append(esc_md(text[pos: m.start()]))
        n = int(m.group(1))
        if n in known:
            out.append(f'<a class="cite" href="#src-{turn}-{n}" title="source {n}">[{n}]</a>')
        else:
            out.append(esc_md(m.group(0)))
        pos = m.end()
    out.append(esc_md(text[pos:]))
    body = "".join(out)
    if kind == "emergency":
        head = "🚨 " + ("URGENCE" if lang == "fr" else "EMERGENCY")
        return (f'<div class="emergency-reply"><div class="emergency-head">{head}</div>\n\n'
                f"{body}\n\n</div>")
    if kind == "care":
        return f'<div class="care-reply">\n\n{body}\n\n</div>'
    return body


def render_draft(text: str, lang: str) -> str:
    """A model's unchecked draft: plain escaped text (no source links), marked as checking."""
    return (f'<div class="draft">\n\n{esc_md(text)}\n\n'
            f'<p class="checking">{esc(T[lang]["checking"])}</p></div>')


# -- panels ------------------------------------------------------------------------------------
def render_banner(assistant: Assistant, lang: str, *, emergency: bool = False) -> str:
    rows = assistant.care.banner(lang)  # type: ignore[arg-type]
    checked = assistant.care.checked_note(lang)  # type: ignore[arg-type]
    items = []
    for r in rows:
        # The date is shown once for the whole banner, not after every number.
        note = str(r.get("note", "")).removesuffix(f" ({checked})")
        phone = esc(r.get("phone", ""))
        tel = re.sub(r"[^0-9+]", "", str(r.get("phone", "")).split("/")[0])
        items.append(
            f'<span class="care-item">{esc(r.get("label", ""))} '
            f'<a class="care-phone" href="tel:{esc(tel)}">{phone}</a> '
            f'<span class="care-note">{esc(note)}</span></span>'
        )
    cls = "care-banner emergency" if emergency else "care-banner"
    return (
        f'<div class="{cls}" role="complementary" aria-label="{esc(T[lang]["care_title"])}">'
        f'<span class="care-title">{esc(T[lang]["care_title"])}</span>{"".join(items)}'
        f'<span class="care-checked">{esc(checked)}</span></div>'
    )


def render_emergency_alert(assistant: Assistant, lang: str) -> str:
    # The number comes from the care directory (its most urgent banner row), never from here.
    rows = assistant.care.banner(lang)  # type: ignore[arg-type]
    phone = rows[0]["phone"] if rows else "15 / 112"
    head, rest = T[lang]["emergency_alert"]
    return (f'<div class="emergency-alert" role="alert">'
            f"<strong>{esc(head.format(phone=phone))}</strong> {esc(rest)}</div>")


def _context(doc_text: str, start: int, end: int) -> tuple[str, str, str]:
    """(before, passage, after) with the surrounding text cut at word boundaries."""
    a = max(0, start - CONTEXT_CHARS)
    b = min(len(doc_text), end + CONTEXT_CHARS)
    if a > 0:
        space = doc_text.find(" ", a)
        a = space + 1 if 0 <= space < start else a
    if b < len(doc_text):
        space = doc_text.rfind(" ", end, b)
        b = space if space > end else b
    before = ("… " if a > 0 else "") + doc_text[a:start]
    after = doc_text[end:b] + (" …" if b < len(doc_text) else "")
    return before, doc_text[start:end], after


def render_source_card(
    turn: int, c: Citation, doc: dict[str, Any], lang: str
) -> str:
    t = T[lang]
    text = str(doc.get("text", ""))
    if text[c.start: c.end] == c.quote:
        before, passage, after = _context(text, c.start, c.end)
    else:  # offsets disagree with the document: show the quote alone, never a wrong slice
        before, passage, after = "", c.quote, ""
    title = doc.get("title") or c.title or c.doc_id
    published = doc.get("published") or "unknown"
    ref = f"{title}. {doc.get('source', '')} ({t['published']}: {published}). " \
          f"[{c.doc_id}, {t['chars']} {c.start}-{c.end}]"
    copy = f"“{c.quote}” — {ref}"
    return (
        f'<article class="source" id="src-{turn}-{c.n}" data-doc="{esc(c.doc_id)}">'
        f'<div class="src-head">[{c.n}] {esc(title)}</div>'
        f'<div class="src-meta"><span>{esc(t["published"])}: {esc(published)}</span>'
        f'<span>{esc(t["source"])}: {esc(doc.get("source", ""))}</span>'
        f'<span>{esc(t["provenance"])}: {esc(doc.get("provenance", ""))}</span>'
        f'<span>{esc(c.doc_id)}, {esc(t["chars"])} {c.start}–{c.end}</span></div>'
        f'<div class="src-context">{esc(before)}<mark class="quote">{esc(passage)}</mark>'
        f"{esc(after)}</div>"
        f'<button type="button" class="copy-quote" data-copy="{esc(copy)}" '
        f'data-done="{esc(t["copied"])}">{esc(t["copy"])}</button>'
        f"</article>"
    )


def render_sources(turns: list[dict[str, Any]], documents: dict[str, Any], lang: str) -> str:
    """Every reply's citations, the latest open; older replies folded."""
    t = T[lang]
    cited = [tr for tr in turns if tr.get("citations")]
    if not cited:
        return (f'<div class="sources"><h3>{esc(t["sources"])}</h3>'
                f'<p class="empty">{esc(t["sources_empty"])}</p></div>')
    parts = [f'<div class="sources"><h3>{esc(t["sources"])}</h3>']
    for i, tr in enumerate(reversed(cited)):
        cards = "".join(
            render_source_card(tr["turn"], Citation(**c), documents.get(c["doc_id"], {}), lang)
            for c in tr["citations"]
        )
        label = f'{t["reply"]} {tr["turn"] + 1}: {tr["question"][:90]}'
        parts.append(
            f'<details class="turn" id="turn-{tr["turn"]}"{" open" if i == 0 else ""}>'
            f"<summary>{esc(label)}</summary>{cards}</details>"
        )
    parts.append("</div>")
    return "".join(parts)


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
            f'<td class="num">{_fmt(p["score"])}</td>'
            f"<td>{esc(p['text'][:400])}{'…' if len(p['text']) > 400 else ''}</td></tr>"
        )
    parts.append(
        f"<h4>Retrieved passages ({len(rows)})</h4>"
        "<table><tr><th>#</th><th>document / chunk</th><th>dense</th><th>rank</th>"
        "<th>BM25</th><th>rank</th><th>fused (RRF)</th><th>terms</th><th>score</th>"
        "<th>text</th></tr>"
        + ("".join(rows) or '<tr><td colspan="10">none: no retrieval for this reply</td></tr>')
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
        "coverage": p.coverage,
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


# -- the app -----------------------------------------------------------------------------------
class _RecentReplies:
    """reply_id -> summary, so API feedback can name a reply by id (bounded, thread-safe)."""

    def __init__(self, size: int = 2000) -> None:
        self._d: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def put(self, reply_id: str, record: dict[str, Any]) -> None:
        with self._lock:
            self._d[reply_id] = record
            while len(self._d) > self._size:
                self._d.popitem(last=False)

    def get(self, reply_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._d.get(reply_id)


def _feedback_from_record(record: dict[str, Any] | None, **kw: Any) -> Feedback:
    r = record or {}
    return Feedback(
        reply_id=r.get("reply_id", kw.pop("reply_id", "")),
        question=r.get("question", kw.pop("question", "")),
        rewritten=r.get("rewritten", ""),
        reply=r.get("text", kw.pop("reply", "")),
        kind=r.get("kind", ""),
        lang=r.get("lang", ""),
        citations=r.get("citations", []),
        **{k: v for k, v in kw.items() if k not in ("reply_id", "question", "reply")},
    )


def build_app(
    assistant: Assistant,
    settings: Settings | None = None,
    feedback_store: FeedbackStore | None = None,
) -> gr.Blocks:
    """The Blocks app; `serve()` adds the queue, CSS and JS and launches it."""
    settings = settings or assistant.settings
    store = feedback_store or FeedbackStore(default_db_path(settings.paths.data_dir))
    password = settings.ui.staff_password or None
    recent = _RecentReplies()
    documents = assistant.documents
    limit = settings.ui.concurrency_limit

    def effective_lang(choice: str, detected: str) -> str:
        return choice if choice in ("en", "fr") else (detected or "en")

    # -- chat ----------------------------------------------------------------------------------
    def respond(
        message: str | None,
        chat: list[dict[str, Any]] | None,
        history: list[dict[str, str]] | None,
        turns: list[dict[str, Any]] | None,
        staff_ok: bool,
        lang_choice: str,
        ui_lang: str,
    ):  # generator of output tuples
        message = "" if message is None else str(message)
        chat = list(chat or [])
        history = list(history or [])
        turns = list(turns or [])
        lang = effective_lang(lang_choice, ui_lang)
        n = len(turns)
        chat.append({"role": "user", "content": render_user(message, lang)})
        chat.append({"role": "assistant", "content": "…"})
        skip = gr.skip()
        yield chat, "", skip, skip, skip, skip, skip, skip, skip

        # The Assistant decides everything; events arrive on separate channels. They are
        # gathered first because the reply's kind (known at Done) decides how it is shown:
        # an emergency is shown whole and at once, never trickled in.
        # A language model's draft is shown as it is written, marked as unchecked; the checked
        # reply replaces it, so no unsupported sentence stays on screen.
        events: list[Any] = []
        try:
            draft = ""
            for ev in assistant.stream(message, history[-MAX_HISTORY_MESSAGES:]):
                events.append(ev)
                if isinstance(ev, DraftDelta):
                    draft += ev.text
                    chat[-1]["content"] = render_draft(draft, lang)
                    yield chat, skip, skip, skip, skip, skip, skip, skip, skip
        except Exception:
            log.exception("the assistant failed on a message of %d characters", len(message))
            chat[-1]["content"] = esc_md(T[lang]["error"])
            yield chat, skip, skip, skip, skip, skip, skip, skip, skip
            return
        done = next(e for e in events if isinstance(e, Done))
        answer = done.answer
        lang = effective_lang(lang_choice, answer.lang)
        if answer.kind == "emergency":
            # Emergency replies are shown whole, at once, framed, with an alert on top.
            chat[-1]["content"] = render_reply(answer.text, answer.kind, n, [], lang)
            yield (chat, skip, skip, skip, skip, render_emergency_alert(assistant, lang),
                   render_banner(assistant, lang, emergency=True), skip, skip)
        else:
            text = ""
            for ev in events:
                if isinstance(ev, TextDelta):
                    text += ev.text
                    chat[-1]["content"] = render_reply(text, answer.kind, n, [], lang)
                    yield chat, skip, skip, skip, skip, skip, skip, skip, skip
        citations = next((e.citations for e in events if isinstance(e, Evidence)), [])
        chat[-1]["content"] = render_reply(answer.text, answer.kind, n, citations, lang)

        reply_id = uuid.uuid4().hex
        record = turn_record(n, message, answer, reply_id)
        recent.put(reply_id, record)
        turns.append(record)
        history += [{"role": "user", "content": message},
                    {"role": "assistant", "content": answer.text}]
        staff = render_staff(record) if staff_ok else skip
        alert = render_emergency_alert(assistant, lang) if answer.kind == "emergency" else ""
        banner = render_banner(assistant, lang, emergency=answer.kind == "emergency")
        yield (chat, skip, history, turns, render_sources(turns, documents, lang), alert, banner,
               staff, answer.lang)

    def clear(lang_choice: str, ui_lang: str):
        lang = effective_lang(lang_choice, ui_lang)
        return ([], "", [], [], render_sources([], documents, lang), "",
                render_banner(assistant, lang), None, "")

    # -- feedback ------------------------------------------------------------------------------
    def _turn_for_index(turns: list[dict[str, Any]], index: Any) -> dict[str, Any] | None:
        # Chat messages alternate user/assistant, two per turn.
        i = index[0] if isinstance(index, list | tuple) else index
        if not isinstance(i, int) or not turns:
            return None
        t = i // 2
        return turns[t] if 0 <= t < len(turns) else None

    def on_like(turns: list[dict[str, Any]], lang_choice: str, ui_lang: str,
                data: gr.LikeData, request: gr.Request):
        lang = effective_lang(lang_choice, ui_lang)
        record = _turn_for_index(turns or [], data.index)
        if record is None:
            return gr.skip(), gr.skip()
        liked = data.liked
        fb = _feedback_from_record(
            record,
            rating="up" if liked is True or liked == LIKE else
            "down" if liked is False or liked == DISLIKE else "",
            wrong_source=liked == WRONG_SOURCE,
            missing_information=liked == MISSING_INFO,
            session=getattr(request, "session_hash", "") or "",
            source="ui",
        )
        if fb.is_empty():  # a thumb taken back: nothing to store
            return gr.skip(), gr.skip()
        store.add(fb)
        n = record["turn"] + 1
        return record["turn"], T[lang]["fb_thanks"].format(n=n)

    def send_feedback(turns: list[dict[str, Any]], target: int | None, rating: str | None,
                      flags: list[str] | None, comment: str | None, lang_choice: str,
                      ui_lang: str, request: gr.Request):
        lang = effective_lang(lang_choice, ui_lang)
        turns = turns or []
        if not turns:
            return T[lang]["fb_no_reply"], gr.skip(), gr.skip(), gr.skip()
        record = turns[target] if isinstance(target, int) and 0 <= target < len(turns) \
            else turns[-1]
        flags = flags or []
        fb = _feedback_from_record(
            record, rating=rating or "", wrong_source="wrong_source" in flags,
            missing_information="missing_information" in flags, comment=comment or "",
            session=getattr(request, "session_hash", "") or "", source="ui",
        )
        if fb.is_empty():
            return T[lang]["fb_nothing"], gr.skip(), gr.skip(), gr.skip()
        store.add(fb)
        return T[lang]["fb_thanks"].format(n=record["turn"] + 1), None, [], ""

    # -- staff ---------------------------------------------------------------------------------
    def unlock(pw: str | None, turns: list[dict[str, Any]]):
        ok = password is None or hmac.compare_digest(
            (pw or "").encode("utf-8"), password.encode("utf-8"))
        if not ok:
            return False, "Wrong password.", gr.update(visible=False), "", None
        last = (turns or [None])[-1]
        note = "Unlocked." if password else "No staff password is set " \
            "(ASSISTANT_UI__STAFF_PASSWORD): the staff view is open."
        return True, note, gr.update(visible=True), render_staff(last), \
            (last or {}).get("trace")

    def refresh_staff(staff_ok: bool, turns: list[dict[str, Any]]):
        if not staff_ok:
            return gr.skip(), gr.skip()
        last = (turns or [None])[-1]
        return render_staff(last), (last or {}).get("trace")

    # -- language ------------------------------------------------------------------------------
    def apply_language(lang_choice: str, ui_lang: str, turns: list[dict[str, Any]],
                       emergency: str):
        lang = effective_lang(lang_choice, ui_lang)
        t = T[lang]
        last_kind = (turns or [{}])[-1].get("kind") if turns else None
        return (
            t["title"],
            render_banner(assistant, lang, emergency=last_kind == "emergency"),
            gr.update(placeholder=t["placeholder"]),
            gr.update(value=t["ask"]),
            gr.update(value=t["clear"]),
            f"**{t['public']}**",
            f"**{t['journalists']}**",
            *[gr.update(value=q) for q in t["examples_public"]],
            *[gr.update(value=q) for q in t["examples_journalists"]],
            gr.update(label=t["rating"], choices=t["rating_choices"]),
            gr.update(label=t["flags"], choices=t["flag_choices"]),
            gr.update(label=t["comment"]),
            gr.update(value=t["send_feedback"]),
            render_sources(turns or [], documents, lang),
            render_emergency_alert(assistant, lang) if emergency else "",
            gr.update(label=t["lang"]),
        )

    # -- API endpoints -------------------------------------------------------------------------
    def ask(question: str, history: list[dict[str, str]] | None = None) -> dict[str, Any]:
        """Ask a question; returns the reply JSON (kind, lang, text, citations, retrieved,
        resources, timings_ms) plus reply_id (for feedback) and the rewritten question."""
        hist = [h for h in (history or []) if isinstance(h, dict)][-MAX_HISTORY_MESSAGES:]
        answer = assistant.ask(question if question is not None else "", hist)
        reply_id = uuid.uuid4().hex
        record = turn_record(0, question or "", answer, reply_id)
        recent.put(reply_id, record)
        return {**answer.to_json(), "reply_id": reply_id, "rewritten": record["rewritten"]}

    def feedback(
        reply_id: str = "",
        rating: str = "",
        wrong_source: bool = False,
        missing_information: bool = False,
        comment: str = "",
        question: str = "",
        reply: str = "",
    ) -> dict[str, Any]:
        """Store feedback on a reply (reply_id from "ask"); rating is "up", "down" or ""."""
        try:
            fb = _feedback_from_record(
                recent.get(reply_id or ""), reply_id=reply_id or "", question=question or "",
                reply=reply or "", rating=rating or "", wrong_source=bool(wrong_source),
                missing_information=bool(missing_information), comment=comment or "",
                source="api",
            )
        except ValueError as exc:
            return {"ok": False, "error": str(exc)}
        if fb.is_empty():
            return {"ok": False, "error": "give a rating, a flag or a comment"}
        return {"ok": True, "id": store.add(fb), "reply_id": fb.reply_id}

    # -- layout --------------------------------------------------------------------------------
    t = T["en"]
    with gr.Blocks(title="Paris crack policy & care assistant", fill_width=True) as demo:
        history = gr.State([])
        turns = gr.State([])
        staff_ok = gr.State(password is None)
        ui_lang = gr.State("en")
        fb_target = gr.State(None)

        banner = gr.HTML(render_banner(assistant, "en"), elem_id="care-banner",
                         js_on_load=None)
        with gr.Row(equal_height=False):
            title = gr.Markdown(t["title"], elem_id="title")
            lang_choice = gr.Radio(
                [("Auto", "auto"), ("English", "en"), ("Français", "fr")], value="auto",
                label=t["lang"], elem_id="lang-choice", scale=0, min_width=340,
            )
        with gr.Tabs():
            with gr.Tab("Chat / Conversation", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    alert = gr.HTML("", elem_id="emergency-alert", js_on_load=None)
                    chatbot = gr.Chatbot(
                        elem_id="chat", height=520, show_label=False,
                        feedback_options=(LIKE, DISLIKE, WRONG_SOURCE, MISSING_INFO),
                        sanitize_html=True, allow_tags=False, render_markdown=True,
                        buttons=["copy"], autoscroll=True,
                    )
                    with gr.Row():
                        msg = gr.Textbox(
                            show_label=False, placeholder=t["placeholder"], lines=1,
                            max_lines=6, scale=6, elem_id="question", autofocus=True,
                        )
                        send = gr.Button(t["ask"], variant="primary", scale=1,
                                         elem_id="ask-btn", min_width=90)
                        clear_btn = gr.Button(t["clear"], scale=1, min_width=90,
                                              elem_id="clear-btn")
                    # Outside the folded form: a thumb on a reply must show its thank-you.
                    fb_note = gr.Markdown("", elem_id="fb-note")
                    pub_head = gr.Markdown(f"**{t['public']}**",
                                           elem_classes=["example-heading"])
                    with gr.Row():
                        pub_btns = [gr.Button(q, size="sm", elem_classes=["example"])
                                    for q in t["examples_public"]]
                    jour_head = gr.Markdown(f"**{t['journalists']}**",
                                            elem_classes=["example-heading"])
                    with gr.Row():
                        jour_btns = [gr.Button(q, size="sm", elem_classes=["example"])
                                     for q in t["examples_journalists"]]
                    with gr.Accordion(t["feedback"], open=False, elem_id="feedback"):
                        rating = gr.Radio(t["rating_choices"], label=t["rating"],
                                          value=None, elem_id="fb-rating")
                        flags = gr.CheckboxGroup(t["flag_choices"], label=t["flags"],
                                                 elem_id="fb-flags")
                        comment = gr.Textbox(label=t["comment"], lines=2, max_lines=6,
                                             elem_id="fb-comment")
                        fb_send = gr.Button(t["send_feedback"], elem_id="fb-send")
                with gr.Column(scale=2):
                    sources = gr.HTML(render_sources([], documents, "en"),
                                      elem_id="sources-panel", js_on_load=None)
            with gr.Tab("Staff", id="staff"):
                gr.Markdown("Guardrail decision, rewritten question, retrieved passages with "
                            "their dense, BM25, fused and term-coverage scores, and timings for "
                            "the last reply in this session.")
                with gr.Row(visible=password is not None):
                    pw = gr.Textbox(label="Staff password", type="password", scale=3,
                                    elem_id="staff-password")
                    unlock_btn = gr.Button("Unlock", scale=1, elem_id="staff-unlock")
                staff_note = gr.Markdown("" if password else
                                         "No staff password is set: the staff view is open.")
                with gr.Column(visible=password is None) as staff_box:
                    staff_html = gr.HTML(render_staff(None), elem_id="staff-view",
                                         js_on_load=None)
                    with gr.Accordion("Full trace (JSON)", open=False):
                        staff_json = gr.JSON(label="trace")

        # -- wiring ----------------------------------------------------------------------------
        chat_outputs = [chatbot, msg, history, turns, sources, alert, banner, staff_html, ui_lang]
        chat_inputs = [chatbot, history, turns, staff_ok, lang_choice, ui_lang]
        lang_outputs = [title, banner, msg, send, clear_btn, pub_head, jour_head, *pub_btns,
                        *jour_btns, rating, flags, comment, fb_send, sources, alert, lang_choice]
        common = {"concurrency_id": "assistant", "concurrency_limit": limit,
                  "api_visibility": "private"}

        def reset_target() -> tuple[None, str]:
            # A new reply becomes the default target of the feedback form.
            return None, ""

        def after_reply(event: Any) -> None:
            event.then(
                reset_target, None, [fb_target, fb_note],
                api_visibility="private", queue=False,
            ).then(refresh_staff, [staff_ok, turns], [staff_html, staff_json],
                   api_visibility="private", queue=False
            ).then(apply_language, [lang_choice, ui_lang, turns, alert], lang_outputs,
                   api_visibility="private", queue=False)

        after_reply(msg.submit(respond, [msg, *chat_inputs], chat_outputs, **common))
        after_reply(send.click(respond, [msg, *chat_inputs], chat_outputs, **common))
        for b in [*pub_btns, *jour_btns]:
            after_reply(b.click(respond, [b, *chat_inputs], chat_outputs, **common))
        clear_outputs = [chatbot, msg, history, turns, sources, alert, banner, fb_target,
                         fb_note]
        clear_btn.click(clear, [lang_choice, ui_lang], clear_outputs, api_visibility="private",
                        queue=False)
        # The chatbot's own trash icon must forget the conversation too, not just hide it.
        chatbot.clear(clear, [lang_choice, ui_lang], clear_outputs, api_visibility="private",
                      queue=False)
        lang_choice.change(apply_language, [lang_choice, ui_lang, turns, alert], lang_outputs,
                           api_visibility="private", queue=False)
        chatbot.like(on_like, [turns, lang_choice, ui_lang], [fb_target, fb_note],
                     api_visibility="private", concurrency_id="feedback",
                     concurrency_limit=4)
        fb_send.click(send_feedback,
                      [turns, fb_target, rating, flags, comment, lang_choice, ui_lang],
                      [fb_note, rating, flags, comment], api_visibility="private",
                      concurrency_id="feedback", concurrency_limit=4)
        unlock_btn.click(unlock, [pw, turns], [staff_ok, staff_note, staff_box, staff_html,
                                               staff_json], api_visibility="private",
                         queue=False)
        pw.submit(unlock, [pw, turns], [staff_ok, staff_note, staff_box, staff_html,
                                        staff_json], api_visibility="private", queue=False)

        gr.api(ask, api_name="ask", concurrency_id="assistant", concurrency_limit=limit)
        gr.api(feedback, api_name="feedback", concurrency_id="feedback", concurrency_limit=4)
    return demo


def launch(demo: gr.Blocks, settings: Settings, **kwargs: Any) -> Any:
    """Queue sized for the host (settings.ui) and launch with the app's CSS and JS."""
    demo.queue(
        default_concurrency_limit=settings.ui.concurrency_limit,
        max_size=settings.ui.max_queue,
    )
    return demo.launch(
        server_name=settings.ui.host,
        server_port=settings.ui.port,
        css=CSS,
        head=HEAD,
        theme=gr.themes.Soft(),
        show_error=False,
        footer_links=["api"],
        **kwargs,
    )


def _size_torch_threads(settings: Settings) -> None:
    """One worker per core: each worker's model calls get cores // workers threads.

    Two workers each spinning two torch threads on two cores fight each other; measured with
    bench/bench_ui_concurrency.py, one thread per worker serves ~30% more requests per second.
    """
    if settings.embedding.backend != "torch":
        return  # the ONNX backend never loads torch: importing it here would cost ~1.6 s
    import torch

    workers = max(1, settings.ui.concurrency_limit)
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def serve(settings: Settings | None = None, **kwargs: Any) -> Any:
    """Load the Assistant once (shared by every session) and serve the app."""
    settings = settings or get_settings()
    _size_torch_threads(settings)
    assistant = Assistant(settings)
    demo = build_app(assistant, settings)
    log.info("serving on http://%s:%s", settings.ui.host, settings.ui.port)
    return launch(demo, settings, **kwargs)
