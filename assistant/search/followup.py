"""Follow-up questions rewritten with the conversation history, without a language model.

An elliptical question ("and in the 19th?", "et pour Marseille ?", "who runs it?") gets the
previous user turn's topic carried over, so retrieval sees a self-contained question:

    "Which sites did Hidalgo propose?" + "and in the 19th?"
        -> "Which sites did Hidalgo propose in the 19th?"
    "How many places are open in the 18th arrondissement?" + "what about the 19th?"
        -> "How many places are open in the 19th arrondissement?"

Entities of a kind the previous question already has (an arrondissement, a year, a city)
replace it; anything else is appended. Self-contained questions are returned unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assistant.text.language import content_words, detect_language, words
from assistant.text.tables import load_yaml

History = list[dict[str, str]]

TABLES_FILE = Path(__file__).parent / "data" / "followup.yaml"


def _load_tables(path: Path = TABLES_FILE) -> dict[str, Any]:
    return load_yaml(path)


def _any_of(alternatives: list[str]) -> str:
    return "(?:" + "|".join(alternatives) + ")"


# The word tables are data (data/followup.yaml, each explained there); built once here.
_T = _load_tables()

_OPENERS: list[str] = list(_T["openers"])
# Longest first: the first match wins. A straight apostrophe also matches a curly one.
_OPENER_RE = re.compile(
    r"^\s*(?:"
    + "|".join(re.escape(o).replace("'", "['’]") for o in sorted(_OPENERS, key=len, reverse=True))
    + r")\b[\s,:]*",
    re.IGNORECASE,
)
# Group 1 is the preposition the fragment keeps ("and in the 19th" -> "in the 19th").
_KEEP_PREP = re.compile(
    r"^\s*" + _any_of(_T["keep_preposition"]["after"])
    + r"\s+(" + "|".join(_T["keep_preposition"]["prepositions"]) + r")\b\s*",
    re.IGNORECASE,
)
_ALWAYS_FOLLOW_UP: tuple[str, ...] = tuple(_T["always_follow_up"])
_PREPOSITIONS: set[str] = set(_T["prepositions"])
_PRONOUNS: set[str] = set(_T["pronouns"])
_QUESTION_WORDS: set[str] = set(_T["question_words"])
_EXISTENTIAL = re.compile("|".join(_T["existential"]), re.IGNORECASE)


def _slot(spec: dict[str, Any]) -> re.Pattern[str]:
    """A slot's regex: its patterns, or its names as whole words."""
    pattern = "|".join(spec["patterns"]) if "patterns" in spec else (
        r"\b" + _any_of(spec["names"]) + r"\b")
    return re.compile(pattern, re.IGNORECASE if spec["ignore_case"] else 0)


_SLOTS: dict[str, re.Pattern[str]] = {name: _slot(spec) for name, spec in _T["slots"].items()}
_WHOLE_FRAGMENT = {name for name, spec in _T["slots"].items() if spec.get("whole_fragment")}
_ARTICLE_BEFORE = re.compile(r"(?:\b(?:the|le|la|les)\s+|\bl['’])$", re.IGNORECASE)
_TOPIC_NOUNS: set[str] = set(_T["topic_nouns"])

_MAX_SHORT_CONTENT = 2  # a question with this few content words can't stand alone
_MAX_PRONOUN_CONTENT = 3  # with a pronoun, a question this thin leans on the previous turn


def rewrite_question(question: str, history: History | None) -> tuple[str, str]:
    """(question to retrieve with, why). Self-contained questions are returned unchanged."""
    previous = _previous_question(history or [])
    if not previous:
        return question, "no earlier question in the conversation"
    return _rewrite_against(question, previous)


def with_topic(question: str, history: History | None) -> tuple[str, str] | None:
    """(the question with the previous turn's topic carried over, why), for a question that
    reads as self-contained but that the sources do not answer alone ("was the trial meant
    to be permanent?" after a question on the consumption rooms); None without a topic."""
    previous = _previous_question(history or [])
    carried = _carry_topic(question.strip(), previous) if previous else None
    if carried is None:
        return None
    return carried[0], f"not answered alone; carried over topic: {', '.join(carried[1])}"


def _carry_topic(q: str, previous: str) -> tuple[str, list[str]] | None:
    """The question with the previous question's topic words in brackets, and those words;
    None when the previous question adds none."""
    topic = _topic(previous, exclude=content_words(q))
    if not topic:
        return None
    lang = detect_language(q, default=detect_language(previous))
    return _end(f"{_strip_end(q)} ({' '.join(topic)})", lang), topic


def _previous_question(history: History) -> str:
    """The last user question, itself rewritten against the ones before it."""
    users = [
        str(t.get("content") or "").strip()
        for t in history
        if t.get("role") == "user" and str(t.get("content") or "").strip()
    ]
    resolved = ""
    for q in users:
        resolved = _rewrite_against(q, resolved)[0] if resolved else q
    return resolved


def _rewrite_against(question: str, previous: str) -> tuple[str, str]:
    q = question.strip()
    reason = _elliptical(q)
    if not reason:
        return question, "self-contained question: unchanged"
    fragment = _fragment(q)
    base = _strip_end(previous)
    lang = detect_language(previous)
    rewritten = _swap_or_complete(fragment, base, lang, reason, own=_own_question(fragment))
    if rewritten is not None:
        return rewritten

    # A full question with a pronoun: keep it, add the previous turn's topic words.
    carried = _carry_topic(q, previous)
    if carried is None:
        return question, f"{reason}; nothing to carry over"
    return carried[0], f"{reason}; carried over topic: {', '.join(carried[1])}"


def _own_question(fragment: str) -> bool:
    """The fragment asks its own question about something it names ("how many did the
    observatory get?"), rather than only a question word ("and when?")."""
    tokens = fragment.lower().split()
    return bool(tokens) and tokens[0] in _QUESTION_WORDS and bool(content_words(fragment))


def _swap_or_complete(fragment: str, base: str, lang: str, reason: str, *,
                      own: bool) -> tuple[str, str] | None:
    """The previous question with the fragment's entity swapped in, or the fragment added
    to it; None when the fragment is neither. A fragment that is a question of its own
    (`own`) only swaps a place or a date ("and how many in the 19th?")."""
    # Same kind of entity as the previous question: swap it in.
    for slot, pattern in _SLOTS.items():
        if own and slot in _WHOLE_FRAGMENT:
            continue
        new = pattern.search(fragment)
        old = pattern.search(base)
        if new and old:
            value, start = new.group(0), old.start()
            if slot == "arrondissement" and "arrondissement" in old.group(0).lower():
                value = re.sub(r"\s+arrondissement\b", "", value, flags=re.IGNORECASE)
                value += " arrondissement"
            if slot in _WHOLE_FRAGMENT:
                value = _strip_end(fragment)
                article = _ARTICLE_BEFORE.search(base[:start])
                start = article.start() if article else start
            rewritten = base[:start] + value + base[old.end():]
            return _end(rewritten, lang), f"{reason}; {slot} '{base[start:old.end()]}' -> '{value}'"

    words = fragment.split()
    if words and not own and not _has_pronoun(fragment) and (
        words[0].lower() in _PREPOSITIONS or len(content_words(fragment)) <= _MAX_SHORT_CONTENT
    ):
        # A fragment ("in the 19th", "the Grands Boulevards") completes the previous question.
        joiner = " " if words[0].lower() in _PREPOSITIONS else ", "
        rewritten = f"{base}{joiner}{_strip_end(fragment)}"
        return _end(rewritten, lang), f"{reason}; completed the previous question"
    return None


def _elliptical(q: str) -> str:
    """Why the question leans on the previous turn, or '' when it stands alone."""
    if not q:
        return ""
    n_content = len(content_words(q))
    if _OPENER_RE.match(q) and (
        n_content <= 4 or _KEEP_PREP.match(q) or q.lower().startswith(_ALWAYS_FOLLOW_UP)
    ):
        return "starts like a follow-up"
    if _has_pronoun(q) and n_content <= _MAX_PRONOUN_CONTENT:
        return "refers back with a pronoun"
    if _TOPIC_NOUNS & set(content_words(q)):
        return ""
    if n_content <= _MAX_SHORT_CONTENT and not _EXISTENTIAL.search(q):
        # "19th?", "Marseille?", "who runs it?"
        return "too short to stand alone"
    return ""


def _has_pronoun(text: str) -> bool:
    cleaned = _EXISTENTIAL.sub(" ", text)
    tokens = re.findall(r"[\wàâçéèêëîïôûùüÿ-]+", cleaned.lower())
    # French "la"/"le" are articles; only the accented "là" is a pronoun.
    return any(t in _PRONOUNS for t in tokens)


def _fragment(q: str) -> str:
    """The question without its follow-up opener, keeping a needed preposition."""
    keep = _KEEP_PREP.match(q)
    if keep:
        return q[keep.end(1) - len(keep.group(1)):].strip()
    m = _OPENER_RE.match(q)
    return q[m.end():].strip() if m else q


def _topic(previous: str, exclude: list[str]) -> list[str]:
    """Entities (capitalised words, numbers) and content words of the previous question."""
    seen = set(exclude)
    out: list[str] = []
    for w in content_words(previous):
        if w not in seen:
            seen.add(w)
            out.append(w)
    # Restore the original spelling of names so both retrievers see them as typed.
    # (content words are folded, and ordinals canonical: "18e" is restored as "18th")
    originals: dict[str, str] = {}
    for typed in re.findall(r"[\w'-]+", previous):
        folded = words(typed)
        if len(folded) == 1:
            originals.setdefault(folded[0], typed)
    return [originals.get(w, w) for w in out][:8]


def _strip_end(text: str) -> str:
    return text.strip().rstrip("?!. \u00a0").strip()


def _end(text: str, lang: str) -> str:
    return f"{text} ?" if lang == "fr" else f"{text}?"
