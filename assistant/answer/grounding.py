"""The check on a written answer: every sentence must be supported by the passage it cites.

It runs after generation and calls no language model. A sentence is kept only when it cites
an existing source, each of its figures and names appears in the cited text, and its content
words or its meaning (embedding similarity, same model as retrieval) match the cited text.
Anything else is removed, with the reason, so staff can see what the model wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.search.retrieval import GENERIC_STEMS, TermMatcher, expand_query
from assistant.text.analysis import lexical_tokens
from assistant.text.language import Lang, fold
from assistant.text.tables import load_yaml

TABLES_FILE = Path(__file__).with_name("grounding.yaml")


def _load_tables(path: Path = TABLES_FILE) -> dict[str, Any]:
    return load_yaml(path)


# Number words, names that aren't, contact, negation and meta wording: data, in grounding.yaml.
_T = _load_tables()

MARKERS = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_LEADING_MARKERS = re.compile(r"^(\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])+")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])[\"”»’)]*\s+|\n+")
# Contact details come only from the checked care directory, never from the model.
_CONTACT = re.compile(
    "|".join(_T["contact"]["patterns"]) + r"|\b(" + "|".join(_T["contact"]["words"]) + r")\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"[^\W\d_][\w'’-]*")

_UNITS: dict[str, int] = dict(_T["units"])
_SCALES: dict[str, int] = dict(_T["scales"])
# Ordinals as written in either language ("18th", "18e", "XXth") name the same number.
_ORDINAL = re.compile(r"^(\d+)(" + "|".join(_T["ordinal_suffixes"]) + ")$")
_ROMAN = re.compile(
    r"^(?=[ivxlc]+(th|e|eme)?$)(c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})(th|e|eme)?$"
)
# Capitalised words that are not names: sentence openers and words models capitalise.
_NOT_NAMES = frozenset(_T["not_names"])


def _roman(token: str) -> int | None:
    m = _ROMAN.match(token)
    if not m or not (m.group(2) or m.group(3) or m.group(4)):
        return None
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
    core = token[: len(token) - len(m.group(5) or "")]
    total = 0
    for a, b in zip(core, core[1:] + " ", strict=True):
        v = values[a]
        total += -v if b != " " and values[b] > v else v
    return total


def numbers_in(text: str, *, romans: bool = False) -> set[int]:
    """Every figure a text states: digits, ordinals and number words ("two dozen" = 24)."""
    out: set[int] = set()
    folded = fold(text)
    for m in re.finditer(r"\d[\d,. ]*\d|\d", folded):
        raw = m.group()
        # "1,500" and "2 000" are one number; "2016." is a year before a full stop.
        digits = re.sub(r"[,. ](?=\d{3}\b)", "", raw)
        for part in re.split(r"[,. ]+", digits):
            if part.isdigit():
                out.add(int(part))
    pending: int | None = None
    for token in re.findall(r"[a-z0-9]+", folded):
        ordinal = _ORDINAL.match(token)
        if ordinal:
            out.add(int(ordinal.group(1)))
        if romans and len(token) > 1:
            value = _roman(token)
            if value:
                out.add(value)
        if token in _UNITS:
            pending = (pending or 0) + _UNITS[token] if pending and pending >= 20 else _UNITS[token]
            out.add(pending)
        elif token in _SCALES and pending is not None:
            out.add(pending * _SCALES[token])
            pending = None
        elif token in _SCALES:
            out.add(_SCALES[token])
        else:
            pending = None
    return out


@dataclass
class Source:
    """A numbered passage given to the model; its text is an exact span of a document."""

    n: int
    doc_id: str
    title: str
    start: int
    end: int
    text: str
    score: float


@dataclass
class CheckedSentence:
    text: str  # as the model wrote it, markers included
    cites: list[int]
    kept: bool
    reason: str
    overlap: float = 0.0
    cosine: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "cites": self.cites,
            "kept": self.kept,
            "reason": self.reason,
            "overlap": round(self.overlap, 3),
            "cosine": round(self.cosine, 3),
        }


@dataclass
class Verdict:
    kept: bool
    reason: str
    overlap: float = 0.0
    cosine: float = 0.0


@dataclass
class CheckResult:
    sentences: list[CheckedSentence] = field(default_factory=list)

    @property
    def kept(self) -> list[CheckedSentence]:
        return [s for s in self.sentences if s.kept]

    @property
    def removed(self) -> list[CheckedSentence]:
        return [s for s in self.sentences if not s.kept]


def split_sentences(text: str) -> list[str]:
    """Sentences of a written answer; a marker placed after the full stop stays with its
    sentence ("… in 2022. [1] Next …")."""
    parts = [p.strip() for p in _SENTENCE_BREAK.split(text.strip()) if p and p.strip()]
    out: list[str] = []
    for part in parts:
        lead = _LEADING_MARKERS.match(part)
        if lead and out:
            out[-1] = f"{out[-1]} {lead.group().strip()}"
            part = part[lead.end() :].strip()
        if part and (not out or not _LEADING_MARKERS.fullmatch(part)):
            out.append(part)
    return out


def marker_numbers(marker_body: str) -> list[int]:
    """The numbers inside one marker: "1, 3" -> [1, 3]."""
    return [int(n) for n in re.split(r"\s*[,;]\s*", marker_body)]


def cited_numbers(sentence: str) -> list[int]:
    found: list[int] = []
    for m in MARKERS.finditer(sentence):
        for n in marker_numbers(m.group(1)):
            if n not in found:
                found.append(n)
    return found


def strip_markers(sentence: str) -> str:
    return re.sub(r"\s+([.,;:!?])", r"\1", MARKERS.sub("", sentence)).strip()


def _names(claim: str, known_names: frozenset[str] = frozenset()) -> list[str]:
    """Capitalised words, acronyms included: what must be in the source. The first word
    counts only when the corpus uses it as a name (every sentence starts with a capital)."""
    names = []
    for i, m in enumerate(_NAME.finditer(claim)):
        word = m.group()
        if not word[0].isupper() or fold(word) in _NOT_NAMES:
            continue
        if i == 0 and not (len(word) > 1 and word.isupper()) and fold(word) not in known_names:
            continue
        names.append(word)
    return names


def corpus_names(texts: list[str]) -> frozenset[str]:
    """Folded words a corpus capitalises in mid-sentence: its people, places and bodies."""
    found: set[str] = set()
    for text in texts:
        for m in re.finditer(r"(?<=[a-z,;:’'\"”)] )([A-Z][\w’'-]+)", text):
            found.add(fold(m.group(1)))
    return frozenset(found - _NOT_NAMES)


_CLAUSE = re.compile(r"\s*[,;:()“”\"—–]\s*|\s+-\s+")


def windows(text: str, min_words: int = 4) -> list[str]:
    """The passage and its runs of one to three clauses: a sentence that states one part of a
    long passage is compared with that part, not diluted by the rest."""
    clauses = [c for c in _CLAUSE.split(text) if c.strip()]
    out = [text]
    for size in (1, 2, 3):
        for i in range(len(clauses) - size + 1):
            w = " ".join(clauses[i : i + size])
            if len(w.split()) >= min_words and w not in out:
                out.append(w)
    return out


class GroundingCheck:
    """Decides, sentence by sentence, what of a written answer the cited sources support."""

    def __init__(
        self,
        embeddings: Embeddings,
        *,
        min_overlap: float = 0.5,
        min_cosine: float = 0.45,
        strong_cosine: float = 0.7,
        names: frozenset[str] = frozenset(),
    ) -> None:
        self.embeddings = embeddings
        self.names = names
        self.min_overlap = min_overlap
        self.min_cosine = min_cosine
        self.strong_cosine = strong_cosine

    def check(
        self, written: str, sources: list[Source], lang: Lang, question: str = ""
    ) -> CheckResult:
        by_n = {s.n: s for s in sources}
        asked = set(lexical_tokens(self._comparable(question, lang))) | GENERIC_STEMS
        result = CheckResult()
        pending: list[tuple[CheckedSentence, str]] = []
        for sentence in split_sentences(written):
            sentence = _drop_meta_lead(sentence)
            cites = cited_numbers(sentence)
            claim = strip_markers(sentence)
            checked = CheckedSentence(sentence, cites, False, "")
            result.sentences.append(checked)
            missing = [n for n in cites if n not in by_n]
            if missing:
                checked.reason = f"cites [{missing[0]}], which is not a source"
            elif _CONTACT.search(claim):
                checked.reason = "gives contact details (only the care directory may)"
            elif _META.search(claim):
                checked.reason = "talks about the passages instead of stating facts"
            else:
                pending.append((checked, claim))
        if not pending:
            return result
        windows_of = {s.n: windows(s.text) for s in sources}
        flat = list(dict.fromkeys(w for ws in windows_of.values() for w in ws))
        comparables = [self._comparable(claim, lang) for _, claim in pending]
        vectors = np.asarray(self.embeddings.embed_documents(comparables + flat), np.float32)
        window_vec = dict(zip(flat, vectors[len(comparables) :], strict=True))
        rows = zip(pending, comparables, vectors[: len(comparables)], strict=True)
        for (checked, claim), comparable, vec in rows:
            said = [t for t in dict.fromkeys(lexical_tokens(comparable)) if t not in GENERIC_STEMS]

            def judge(cited: list[Source], claim: str = claim, said: list[str] = said,
                      vec: np.ndarray = vec) -> Verdict:
                return self._judge(claim, said, vec, cited, windows_of, window_vec)

            if checked.cites:
                verdict = judge([by_n[n] for n in checked.cites])
            else:
                verdict = Verdict(False, "cites no source")
            if not verdict.kept:
                # A supported sentence with a wrong or missing number gets the right one;
                # staff see the correction.
                was = f"cited [{checked.cites[0]}]" if checked.cites else "cited nothing"
                for alt in sources:
                    if alt.n not in checked.cites and (other := judge([alt])).kept:
                        other.reason = f"{other.reason}; {was}, supported by [{alt.n}]: " + (
                            "citation corrected" if checked.cites else "citation added")
                        checked.text = _recite(checked.text, alt.n)
                        checked.cites = [alt.n]
                        verdict = other
                        break
            if verdict.kept and question and set(said) <= asked:
                verdict = Verdict(False, "only restates the question", verdict.overlap,
                                  verdict.cosine)
            checked.kept, checked.reason = verdict.kept, verdict.reason
            checked.overlap, checked.cosine = verdict.overlap, verdict.cosine
        return result

    def _judge(
        self,
        claim: str,
        said: list[str],
        vec: np.ndarray,
        cited: list[Source],
        windows_of: dict[int, list[str]],
        window_vec: dict[str, np.ndarray],
    ) -> Verdict:
        """`said`: the claim's content stems (for French, those of its glossary English)."""
        cited_text = " ".join(s.text for s in cited)
        unsupported = numbers_in(claim) - numbers_in(cited_text, romans=True)
        if unsupported:
            return Verdict(False, f"figure {sorted(unsupported)[0]} is not in the cited source")
        # Names must be in the cited text itself: a name from elsewhere in the document is
        # how a statement gets attributed to the wrong person.
        folded_source = fold(cited_text)
        absent = [w for w in _names(claim, self.names) if fold(w) not in folded_source]
        if absent:
            return Verdict(False, f"'{absent[0]}' is not in the cited source")
        # Nothing specific claimed beyond the names and figures checked above: no word gap.
        overlap = TermMatcher(said).share(set(lexical_tokens(cited_text))) if said else 1.0
        scored = [(w, float(np.dot(vec, window_vec[w]))) for s in cited for w in windows_of[s.n]]
        cosine = max(c for _, c in scored)
        # Polarity is read from the shortest window that matches about as well as the best:
        # an unrelated "not" elsewhere in a long sentence must not count.
        best = min((w for w, c in scored if c >= cosine - 0.05), key=len)
        if negated(claim) != negated(best):
            return Verdict(False, "says the opposite of the cited source (negation differs)",
                           overlap, cosine)
        if cosine >= self.strong_cosine:
            return Verdict(True, "supported (meaning)", overlap, cosine)
        if overlap >= self.min_overlap and cosine >= self.min_cosine:
            return Verdict(True, "supported (words and meaning)", overlap, cosine)
        return Verdict(
            False,
            f"not supported by the cited source (words {overlap:.0%}, similarity {cosine:.2f})",
            overlap,
            cosine,
        )

    def _comparable(self, claim: str, lang: Lang) -> str:
        """What is compared with the (English) source: for French, the glossary's English."""
        if lang != "fr":
            return claim
        expansion, _ = expand_query(claim)
        names = " ".join(_names(claim, self.names))
        return " ".join(t for t in (expansion, names) if t) or claim


_NEGATION = re.compile(
    r"\b(" + "|".join(_T["negation"]["words"]) + r")\b|" + "|".join(_T["negation"]["patterns"]),
    re.IGNORECASE,
)


def negated(text: str) -> bool:
    """Whether the text holds a negation (grounding.yaml `negation`)."""
    return bool(_NEGATION.search(text))


_META = re.compile(r"\b(" + "|".join(_T["meta"]) + r")\b", re.I)
_META_LEAD = re.compile(r"^(" + "|".join(_T["meta_lead"]) + r")\s*", re.IGNORECASE)


def _drop_meta_lead(sentence: str) -> str:
    """"The passage states that X [1]." reads as "X [1].": the lead-in adds nothing."""
    rest = _META_LEAD.sub("", sentence, count=1)
    if rest == sentence or not rest:
        return sentence
    return rest[0].upper() + rest[1:]


def _recite(sentence: str, n: int) -> str:
    """The sentence with its markers replaced by [n], placed before the final stop."""
    claim = strip_markers(sentence)
    stop = claim[-1] if claim[-1:] in ".!?" else ""
    return f"{claim[: len(claim) - len(stop)].rstrip()} [{n}]{stop}"
