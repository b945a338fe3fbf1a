"""Text folding, tokens and English/French detection shared by retrieval and guardrails."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from assistant.text.tables import load_yaml

Lang = Literal["en", "fr"]

TABLES_FILE = Path(__file__).with_name("language.yaml")


def _load_tables(path: Path = TABLES_FILE) -> dict[str, Any]:
    return load_yaml(path)


def _word_list(key: str) -> frozenset[str]:
    """A language.yaml list: words separated by spaces or new lines."""
    return frozenset(_TABLES[key].split())


# Stop words, elisions and language markers are data (language.yaml), read once here.
_TABLES = _load_tables()

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def fold(text: str) -> str:
    """Lower case without accents, typographic apostrophes made plain."""
    if text.isascii():  # most questions and passages: no accents to strip
        return text.lower().replace("`", "'")
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'")
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("œ", "oe")


_ROMAN = {"I": 1, "V": 5, "X": 10}
# Roman ordinals are read in capitals only: folded, "vie" and "lie" would be numbers too.
_ROMAN_ORDINAL = re.compile(r"\b([IVX]{1,5})(?:th|e|ème|eme|er)\b")
_ORDINAL_WORDS: dict[str, int] = {str(k): int(v) for k, v in _TABLES["ordinal_words"].items()}
_ORDINAL = re.compile(
    r"\b(?:(\d{1,3})(?:st|nd|rd|th|e|er|ere|eme|em)|("
    + "|".join(sorted(_ORDINAL_WORDS, key=len, reverse=True)) + r"))\b")


def _roman(numeral: str) -> int | None:
    values = [_ROMAN[c] for c in numeral]
    total = sum(-v if i + 1 < len(values) and v < values[i + 1] else v
                for i, v in enumerate(values))
    return total if 0 < total <= 30 else None


def ordinals(text: str) -> str:
    """Ordinals as one token, the number and "e": "20th", "20ème", "XXth", "twentieth" and
    "vingtième" are all "20e" (the arrondissements are written every way)."""
    def roman(m: re.Match[str]) -> str:
        n = _roman(m.group(1))
        return m.group() if n is None else f"{n}e"

    text = _ROMAN_ORDINAL.sub(roman, text)
    return _ORDINAL.sub(lambda m: f"{m.group(1) or _ORDINAL_WORDS[m.group(2)]}e", fold(text))


def words(text: str) -> list[str]:
    """Folded word tokens, ordinals as "20e"; French elisions (l', d', qu') are split off;
    informal spellings read as the words they stand for ("wat" -> "what")."""
    out: list[str] = []
    for tok in _WORD.findall(ordinals(text)):
        if "'" in tok:
            head, tail = tok.split("'", 1)
            if head in _ELISIONS:
                out.append(tail)
                continue
            out.extend(t for t in (head, tail) if t)
            continue
        standard = _INFORMAL.get(tok)
        if standard is None:
            out.append(tok)
        else:
            out.extend(standard)
    return out


_INFORMAL: dict[str, list[str]] = {k: str(v).split() for k, v in _TABLES["informal"].items()}

_CAPITALISED = re.compile(r"(?<![\w-])[A-ZÀ-Ý][\w-]*")  # "l'Inserm" too


def capitalised_words(text: str) -> list[str]:
    """The folded words of the text's capitalised words (names, in a question)."""
    return [w for m in _CAPITALISED.finditer(text) for w in words(m.group())]


_CALENDAR: dict[str, str] = {}
for _pair in str(_TABLES["calendar_pairs"]).split():
    _en, _fr = _pair.split(":")
    _CALENDAR[_en], _CALENDAR[_fr] = _fr, _en


def calendar_translation(word: str) -> str | None:
    """The month or day in the other language ("September" -> "septembre"), folded."""
    return _CALENDAR.get(fold(word))


_ABBREVIATIONS: dict[str, list[str]] = {k: list(v) for k, v in _TABLES["abbreviations"].items()}


def spelled_out(word: str) -> list[str]:
    """The words an abbreviation stands for ("PM" -> prime, minister, ...), or []."""
    return _ABBREVIATIONS.get(fold(word), [])


_BRITISH = sorted((tuple(p.split(":")) for p in str(_TABLES["british_starts"]).split()),
                  key=lambda p: -len(p[0]))
_IRREGULAR = dict(p.split(":") for p in str(_TABLES["irregular_verbs"]).split())
_ISE = re.compile(r"^(\w{3,})is(e|es|ed|ing|ation|ations|er|ers)$")
_YSE = re.compile(r"^(\w+)ys(e|es|ed|ing|er|ers)$")


@lru_cache(maxsize=50_000)
def american(word: str) -> str:
    """A folded English word in American spelling ("neighbourhood" -> "neighborhood",
    "recognised" -> "recognized"), an irregular verb form in its base form ("wrote" ->
    "write"), so the forms stem alike. Applied to questions and passages alike, a word that
    only looks British ("promise" -> "promize") still meets itself."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    for british, us in _BRITISH:
        if word.startswith(british):
            word = us + word[len(british):]
            break
    return _YSE.sub(r"\1yz\2", _ISE.sub(r"\1iz\2", word))


_ELISIONS = _word_list("elisions")

EN_STOP = _word_list("en_stop")
FR_STOP = _word_list("fr_stop")

# Words that mark a language strongly even in one short sentence.
_FR_MARKERS = _word_list("fr_markers")
_EN_MARKERS = _word_list("en_markers")
# Elided heads (l', d', j', qu') that mark French; accented letters typical of French.
_FR_ELIDED = _word_list("fr_elided_markers")
_FR_ACCENT = re.compile("[" + "".join(_TABLES["fr_accents"].split()) + "]")


def detect_language(text: str, default: Lang = "en") -> Lang:
    """English or French from function words and accents; cheap enough for every message."""
    if not text:
        return default
    folded = fold(text)
    tokens = re.findall(r"[a-z']+", folded)
    fr = sum(1 for t in tokens if t in _FR_MARKERS or t.split("'")[0] in _FR_ELIDED)
    en = sum(1 for t in tokens if t in _EN_MARKERS)
    # Accented letters typical of French tip the balance.
    fr += 0.5 * len(_FR_ACCENT.findall(text.lower()))
    if fr == en:
        return default
    return "fr" if fr > en else "en"


def content_words(text: str) -> list[str]:
    """Tokens minus English and French function words."""
    return [w for w in words(text) if w not in EN_STOP and w not in FR_STOP and len(w) > 1]


def format_int(n: int, lang: str) -> str:
    """A whole number as the language writes it: "5,000" in English, "5 000" in French
    (a narrow no-break space, so the figure never breaks across lines)."""
    text = f"{int(n):,}"
    return text.replace(",", "\u202f") if lang == "fr" else text
