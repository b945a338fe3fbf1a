"""What a person sees in the chat and the sources panel, as escaped HTML/Markdown.

Nothing a user types and no document text is ever inserted as live HTML: every piece is escaped
here before it reaches the page, and the chatbot sanitises on top of that.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import yaml

from assistant.models import Citation
from assistant.safety.care import CareDirectory
from assistant.text.language import format_int

STRINGS_FILE = Path(__file__).resolve().parent / "strings.yaml"
MAX_SHOWN_USER_CHARS = 1500  # a 20,000-character paste is acknowledged, not re-displayed
CONTEXT_CHARS = 320  # document text shown around a cited passage, each side


@lru_cache(maxsize=1)
def _load_strings() -> dict[str, dict[str, Any]]:
    raw = yaml.safe_load(STRINGS_FILE.read_text(encoding="utf-8"))
    # Gradio's choice lists are (label, value) pairs.
    return {lang: {k: [tuple(c) for c in v] if k.endswith("_choices") else v
                   for k, v in table.items()} for lang, table in raw.items()}


T: dict[str, dict[str, Any]] = _load_strings()


class HasCare(Protocol):
    """Anything with the checked care directory (the Assistant)."""

    care: CareDirectory


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
        note = "\n\n_" + esc_md(T[lang]["you_sent"].format(n=format_int(len(text), lang))) + "_"
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
def render_banner(assistant: HasCare, lang: str, *, emergency: bool = False) -> str:
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
        f'<div class="{cls}" role="complementary" data-lang="{esc(lang)}" '
        f'aria-label="{esc(T[lang]["care_title"])}">'
        f'<span class="care-title">{esc(T[lang]["care_title"])}</span>{"".join(items)}'
        f'<span class="care-checked">{esc(checked)}</span></div>'
    )


def render_emergency_alert(assistant: HasCare, lang: str) -> str:
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
    published = doc.get("published") or t["unknown"]
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


