"""What a person sees in the chat and the sources panel, as escaped HTML/Markdown.

Nothing a user types and no document text is ever inserted as live HTML: every piece is escaped
here before it reaches the page, and the chatbot sanitises on top of that.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from assistant.models import Citation
from assistant.safety.care import CareDirectory
from assistant.settings import get_settings
from assistant.text.language import format_int
from assistant.text.tables import load_yaml

STRINGS_FILE = Path(__file__).resolve().parent / "strings.yaml"
MAX_SHOWN_USER_CHARS = 1500  # a 20,000-character paste is acknowledged, not re-displayed
CONTEXT_CHARS = 320  # document text shown around a cited passage, each side


@lru_cache(maxsize=1)
def _load_strings() -> dict[str, dict[str, Any]]:
    raw = load_yaml(STRINGS_FILE)
    # Gradio's choice lists are (label, value) pairs.
    return {lang: {k: [tuple(c) for c in v] if k.endswith("_choices") else v
                   for k, v in table.items()} for lang, table in raw.items()}


T: dict[str, dict[str, Any]] = _load_strings()


class HasCare(Protocol):
    """Anything with the checked care directory (the Assistant)."""

    care: CareDirectory


# `$` too: the chatbot renders $$…$$ as LaTeX.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>$])")
_CITE = re.compile(r"\[(\d{1,3})\]")
# GFM turns a bare "http://…" into a link, and keeps the backslashes of its escapes inside it.
_AUTOLINK = re.compile(r":(?=//)")


# -- escaping ----------------------------------------------------------------------------------
def esc(text: Any) -> str:
    """Text for an HTML context: tags and entities become visible characters."""
    return html.escape("" if text is None else str(text), quote=True)


def esc_md(text: str) -> str:
    """Text for the chatbot's Markdown+HTML renderer: shown exactly as typed, never markup.

    HTML is escaped without touching quotes (so no '#' appears that Markdown would mangle),
    then every Markdown punctuation character is backslash-escaped, and the colon of "://"
    becomes an entity so no address is auto-linked: a typed URL stays visible text.
    """
    escaped = _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))
    return _AUTOLINK.sub("&#58;", escaped)


def render_user(message: str, lang: str) -> str:
    text = message if message is not None else ""
    note = ""
    if len(text) > MAX_SHOWN_USER_CHARS:
        note = "\n\n_" + esc_md(T[lang]["you_sent"].format(n=format_int(len(text), lang))) + "_"
        text = text[:MAX_SHOWN_USER_CHARS] + " …"
    if not text.strip():
        text = "␣" * max(1, min(len(text), 3))  # an empty bubble would look like a glitch
    return esc_md(text) + note


def render_reply(text: str, kind: str, turn: int, citations: list[Citation], lang: str,
                 *, phones: Iterable[str] | None = None) -> str:
    """Escaped reply text whose [n] markers link to the sources panel and whose care numbers
    are tel: links (kind decides the frame). `phones`: the checked care directory's numbers."""
    known = {c.n for c in citations}
    links = [(m.start(), m.end(),
              f'<a class="cite" href="#src-{turn}-{n}" title="source {n}">[{n}]</a>')
             for m in _CITE.finditer(text) if (n := int(m.group(1))) in known]
    links += _phone_links(text, kind, citations, links,
                          directory_phones() if phones is None else tuple(phones))
    out: list[str] = []
    pos = 0
    for start, end, link in sorted(links):
        out.append(esc_md(text[pos:start]))
        out.append(link)
        pos = end
    out.append(esc_md(text[pos:]))
    body = "".join(out)
    if kind == "emergency":
        head = "🚨 " + ("URGENCE" if lang == "fr" else "EMERGENCY")
        return (f'<div class="emergency-reply"><div class="emergency-head">{head}</div>\n\n'
                f"{body}\n\n</div>")
    if kind == "care":
        return f'<div class="care-reply">\n\n{body}\n\n</div>'
    return body


# -- phone numbers -----------------------------------------------------------------------------
# Reply kinds whose text the guardrails write from the care directory. Elsewhere a short
# number ("15", "112") is more likely a count or a date in a quoted document than a phone.
_FIXED_TEXT_KINDS = frozenset({"emergency", "care", "refusal", "out_of_scope"})
_SPACE = "[ \u00a0\u202f]"
# Not part of a longer figure: "2015", "15:00", "11–15", "1.15", "15 000", "+3114".
_BEFORE = rf"(?<![\w+])(?<!\d[.,:/\-–])(?<!\d{_SPACE})"
_AFTER = rf"(?![\w])(?![.,:/\-–]\d)(?!{_SPACE}\d)"


def phones_of(care: CareDirectory) -> tuple[str, ...]:
    """Every phone number of a care directory, as written there."""
    return tuple(sorted({e.phone for e in care.entries if e.phone}))


@lru_cache(maxsize=1)
def directory_phones() -> tuple[str, ...]:
    """The numbers of the settings' care directory (the app passes its own Assistant's)."""
    return phones_of(CareDirectory.load(get_settings().paths.care_directory))


@lru_cache(maxsize=8)
def _phone_pattern(phones: tuple[str, ...]) -> re.Pattern[str] | None:
    if not phones:
        return None
    # Longest first, so "3114" wins over "114"; spaces may be any space the text uses.
    alts = [_SPACE.join(map(re.escape, p.split())) for p in sorted(phones, key=len, reverse=True)]
    return re.compile(_BEFORE + "(" + "|".join(alts) + ")" + _AFTER)


def _phone_links(text: str, kind: str, citations: list[Citation],
                 taken: list[tuple[int, int, str]],
                 phones: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """(start, end, tel: link) for each directory number in the text, outside other links.

    A grouped number ("0 800 23 13 13") is linked anywhere; a short one only in the
    guardrails' own text, never in a line that cites a document or inside a quote.
    """
    pattern = _phone_pattern(tuple(sorted(set(phones))))
    if pattern is None:
        return []
    quoted = _quoted_spans(text, citations)
    linked = [(s, e) for s, e, _ in taken]
    found = []
    for m in pattern.finditer(text):
        a, b, number = m.start(), m.end(), m.group(0)
        if _overlaps(a, b, linked):
            continue
        short = not re.search(_SPACE, number)
        if short and (kind not in _FIXED_TEXT_KINDS or _overlaps(a, b, quoted)):
            continue
        dial = re.sub(r"[^0-9+]", "", number)
        found.append((a, b, f'<a class="tel" href="tel:{dial}">{esc(number)}</a>'))
    return found


def _overlaps(a: int, b: int, spans: list[tuple[int, int]]) -> bool:
    return any(a < e and s < b for s, e in spans)


def _quoted_spans(text: str, citations: list[Citation]) -> list[tuple[int, int]]:
    """Where the reply quotes a document: each citation's quote, and each line with a [n]."""
    spans = []
    for c in citations:
        at = text.find(c.quote) if c.quote else -1
        while at >= 0:
            spans.append((at, at + len(c.quote)))
            at = text.find(c.quote, at + 1)
    pos = 0
    for line in text.split("\n"):
        if _CITE.search(line):
            spans.append((pos, pos + len(line)))
        pos += len(line) + 1
    return spans


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


def _known(value: Any) -> str:
    """A document field, or "" when it only says it is not known (older front matter wrote
    "unknown", sometimes followed by why)."""
    text = " ".join(str(value or "").split())
    return "" if text.split(" (")[0].lower() in ("", "unknown", "inconnu", "inconnue") else text


def source_reference(c: Citation, doc: Mapping[str, Any], lang: str) -> str:
    """A reference a journalist can publish: title. Author, outlet, date. [id, characters a–b]

    Unknown fields are left out; an unknown date is written "n.d." ("s.d." in French).
    """
    t = T[lang]
    title = _known(doc.get("title")) or _known(c.title) or c.doc_id
    parts = [p for p in (_known(doc.get("author")), _known(doc.get("outlet"))) if p]
    parts.append(_known(doc.get("published")) or t["no_date"])
    end = "" if title.endswith((".", "?", "!", "…")) else "."
    return (f"{title}{end} {', '.join(parts)}{'' if parts[-1].endswith('.') else '.'} "
            f"[{c.doc_id}, {t['chars']} {c.start}–{c.end}]")


def _labelled(label: str, value: str, lang: str, tag: str = "span") -> str:
    return f"<{tag}>{esc(label)}{esc(T[lang]['colon'])}{esc(value)}</{tag}>"


def _details(doc: Mapping[str, Any], lang: str) -> str:
    """The collapsed fold with where the document comes from and what cleaning changed."""
    t = T[lang]
    rows = [_labelled(t[key], value, lang, "p") for key in ("source", "provenance")
            if (value := _known(doc.get(key)))]
    if not rows:
        return ""
    return (f'<details class="src-details"><summary>{esc(t["src_details"])}</summary>'
            f'{"".join(rows)}</details>')


def render_source_card(
    turn: int, c: Citation, doc: Mapping[str, Any], lang: str
) -> str:
    """One cited passage in its context, with its reference and a button that copies both."""
    t = T[lang]
    text = str(doc.get("text", ""))
    if text[c.start: c.end] == c.quote:
        before, passage, after = _context(text, c.start, c.end)
    else:  # offsets disagree with the document: show the quote alone, never a wrong slice
        before, passage, after = "", c.quote, ""
    title = _known(doc.get("title")) or _known(c.title) or c.doc_id
    meta = [_labelled(t[key], value, lang) for key in ("author", "outlet")
            if (value := _known(doc.get(key)))]
    meta.append(_labelled(t["published"], _known(doc.get("published")) or t["no_date"], lang))
    meta.append(_labelled(t["document"], f"{c.doc_id}, {t['chars']} {c.start}–{c.end}", lang))
    copy = t["cite_format"].format(quote=c.quote, reference=source_reference(c, doc, lang))
    return (
        f'<article class="source" id="src-{turn}-{c.n}" data-doc="{esc(c.doc_id)}">'
        f'<div class="src-head">[{c.n}] {esc(title)}</div>'
        f'<div class="src-meta">{"".join(meta)}</div>'
        f'<div class="src-context">{esc(before)}<mark class="quote">{esc(passage)}</mark>'
        f"{esc(after)}</div>"
        f'<button type="button" class="copy-quote" data-copy="{esc(copy)}" '
        f'data-done="{esc(t["copied"])}">{esc(t["copy"])}</button>'
        f"{_details(doc, lang)}</article>"
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


