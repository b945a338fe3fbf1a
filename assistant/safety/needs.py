"""What a care message asks for, and which directory entries answer it.

`detect_needs` reads a message (English or French, typos, no accents, SMS spellings) and
returns the need tags of CARE_NEEDS.md it expresses, in the order they are first said, plus
what decides who an entry is for (smokes or injects, a minor, an age) and the services it
names. `choose_entries` turns that into the directory entries a care reply shows (up to 4
besides Drogues Info Service), never a suspended one and only entries for that person.

The word tables and the entry lists are data, in needs.yaml beside this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.safety.care import POINTER_ID, CareDirectory, CareEntry
from assistant.text.language import fold
from assistant.text.tables import load_yaml

TABLES_FILE = Path(__file__).with_name("needs.yaml")
NEEDS = ("stop_treatment", "substitution", "harm_reduction_kit", "naloxone", "injection_room",
         "rest_sleep", "shelter", "women", "young_people", "relative", "testing", "listening")
# A reply shows at most this many entries besides the Drogues Info Service line: fewer for a
# single need, so the reply stays short.
MAX_ENTRIES = 4
MAX_ENTRIES_ONE_NEED = 3
FUZZY_MIN = 6  # words this long (or longer) also match with one typo
GAP_WORDS = 3  # what `...` in a phrase stands for

_T: dict[str, Any] = load_yaml(TABLES_FILE)
_NON_WORD = re.compile(r"[^a-z0-9]+")
_REPEATS = re.compile(r"([a-z])\1{2,}")  # "dormiiiir" -> "dormir"
_SMS: dict[str, list[str]] = {k: str(v).split() for k, v in _T["sms"].items()}
_REAL_WORDS = frozenset(_T["real_words"].split())
_GROUPS: dict[str, list[str]] = {k: v.split() for k, v in _T["groups"].items()}


def message_words(text: str) -> list[str]:
    """Folded words, punctuation and apostrophes as spaces, SMS spellings expanded."""
    folded = _REPEATS.sub(r"\1", fold(text))
    out: list[str] = []
    for word in _NON_WORD.sub(" ", folded).split():
        out.extend(_SMS.get(word, [word]))
    return out


# -- phrases ---------------------------------------------------------------------------------
GAP = None  # a `...` in a phrase


def _spec(word: str) -> frozenset[str] | None:
    """A phrase word as the set of keys it accepts: words, and prefixes written `p*`."""
    if word == "...":
        return GAP
    keys: set[str] = set()
    for alt in word.split("|"):
        if alt.startswith("{") and alt.endswith("}"):
            keys.update(_GROUPS[alt[1:-1]])
        else:
            keys.add(alt)
    return frozenset(keys)


def _phrases(lines: list[str]) -> list[tuple[frozenset[str] | None, ...]]:
    out = []
    for line in lines:
        for phrase in line.split(" | "):
            specs = tuple(_spec(w) for w in phrase.split())
            if not specs or specs[0] is GAP or specs[-1] is GAP:
                raise ValueError(f"needs.yaml: bad phrase {phrase!r}")
            out.append(specs)
    return out


def _all_tables() -> list[list[str]]:
    tables = [t[k] for t in [*_T["needs"].values(), *_T["traits"].values()]
              for k in ("say", "unless") if k in t]
    return [*tables, *_T["named"].values()]


def _vocabulary() -> tuple[dict[str, set[str]], list[str]]:
    """Long phrase words by their one-deletion forms, and the long prefixes: the typo index."""
    by_delete: dict[str, set[str]] = {}
    prefixes: set[str] = set()
    for lines in _all_tables():
        for specs in _phrases(lines):
            for spec in specs:
                for key in spec or ():
                    if key.endswith("*") and len(key) > FUZZY_MIN:
                        prefixes.add(key)
                    elif not key.endswith("*") and len(key) >= FUZZY_MIN:
                        for form in {key} | _deletes(key):
                            by_delete.setdefault(form, set()).add(key)
    return by_delete, sorted(prefixes)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def _one_edit(a: str, b: str) -> bool:
    """At most one insertion, deletion, substitution or swap of two neighbours."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1:] == b[i + 1:] or (a[i:i + 2] == b[i:i + 2][::-1] and a[i + 2:] == b[i + 2:])
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[i + 1:] == shorter[i:]


_BY_DELETE, _LONG_PREFIXES = _vocabulary()
_ALL_KEYS = {k for lines in _all_tables() for specs in _phrases(lines) for spec in specs
             for k in spec or ()}
_PREFIXES = sorted(k for k in _ALL_KEYS if k.endswith("*"))
# A word that is itself a phrase word is never read as another's typo ("testing" is not
# "resting").
_NOT_TYPOS = _REAL_WORDS | {k for k in _ALL_KEYS if not k.endswith("*")}


@lru_cache(maxsize=8192)
def _keys(word: str) -> frozenset[str]:
    """Every phrase key this message word stands for: itself, the prefixes it starts with,
    and (for long words that are not real words) the phrase words one typo away."""
    keys = {word, *(p for p in _PREFIXES if word.startswith(p[:-1]))}
    if len(word) >= FUZZY_MIN - 1 and word not in _NOT_TYPOS:
        for form in {word} | _deletes(word):
            keys.update(k for k in _BY_DELETE.get(form, ()) if _one_edit(k, word))
        for p in _LONG_PREFIXES:
            stem = p[:-1]
            if p not in keys and word[0] == stem[0] and any(
                    _one_edit(stem, word[:n]) for n in (len(stem) - 1, len(stem), len(stem) + 1)):
                keys.add(p)
    return frozenset(keys)


class PhraseSet:
    """Phrases indexed by the keys of their first word, matched over a message's words."""

    def __init__(self, lines: list[str]) -> None:
        self._by_first: dict[str, list[tuple[frozenset[str] | None, ...]]] = {}
        for specs in _phrases(lines):
            for key in specs[0] or ():
                self._by_first.setdefault(key, []).append(specs)

    def spans(self, keys: list[frozenset[str]]) -> list[tuple[int, int]]:
        """(start, end) word positions of every phrase found."""
        out = []
        for start, word_keys in enumerate(keys):
            tried: set[int] = set()
            for key in word_keys:
                for specs in self._by_first.get(key, ()):
                    if id(specs) in tried:
                        continue
                    tried.add(id(specs))
                    end = _match(specs, 1, keys, start + 1)
                    if end is not None:
                        out.append((start, end))
        return out


def _match(specs: tuple[frozenset[str] | None, ...], k: int, keys: list[frozenset[str]],
           pos: int) -> int | None:
    if k == len(specs):
        return pos
    spec = specs[k]
    if spec is GAP:
        for skip in range(GAP_WORDS + 1):
            end = _match(specs, k + 1, keys, pos + skip)
            if end is not None:
                return end
        return None
    if pos < len(keys) and not spec.isdisjoint(keys[pos]):
        return _match(specs, k + 1, keys, pos + 1)
    return None


@dataclass
class _Table:
    """One need or trait: what says it, and what cancels a match inside it."""

    say: PhraseSet
    unless: PhraseSet

    @classmethod
    def of(cls, raw: dict[str, Any]) -> _Table:
        return cls(PhraseSet(raw.get("say", [])), PhraseSet(raw.get("unless", [])))

    def first(self, keys: list[frozenset[str]]) -> int | None:
        """Where it is first said (not overlapping an `unless` phrase), or None."""
        vetoes = self.unless.spans(keys)
        kept = [s for s, e in self.say.spans(keys)
                if not any(s < ve and vs < e for vs, ve in vetoes)]
        return min(kept) if kept else None


_NEED_TABLES = {name: _Table.of(_T["needs"][name]) for name in NEEDS}
_TRAIT_TABLES = {name: _Table.of(raw) for name, raw in _T["traits"].items()}
_NAMED = {entry_id: PhraseSet(lines) for entry_id, lines in _T["named"].items()}
_AGES = _T["ages"]
_AGE_PATTERNS = [re.compile(p) for p in _AGES["patterns"]]


# -- reading a message -----------------------------------------------------------------------
@dataclass
class CareNeeds:
    """What a care message asks for (need tags, first said first) and who is asking."""

    needs: list[str] = field(default_factory=list)
    traits: frozenset[str] = frozenset()  # smokes, injects, minor
    named: list[str] = field(default_factory=list)  # directory ids the message names
    age: int | None = None

    @property
    def smokes_only(self) -> bool:
        """Smokes and does not inject: the injection-only halte is not for them."""
        return "smokes" in self.traits and "injects" not in self.traits

    def fits(self, condition: str) -> bool:
        """Whether a need or trait of an `only_for` / `never_for` rule holds."""
        if condition == "smokes":
            return self.smokes_only
        return condition in self.traits or condition in self.needs


def _age(text: str) -> int | None:
    """The age a message gives, if any ("j'ai 19 ans", "my 16-year-old", "(17)"), not a
    duration ("depuis 15 ans", "for 15 years", "15 years ago")."""
    folded = fold(text)
    for pattern in _AGE_PATTERNS:
        for m in pattern.finditer(folded):
            before = re.findall(r"[a-z]+", folded[:m.start()])[-2:]
            after = re.findall(r"[a-z]+", folded[m.end():])[:1]
            if (before and before[-1] in _AGES["duration_after"]) or before == ["y", "a"] or \
                    (after and after[0] in _AGES["duration_before"]):
                continue
            return int(m.group(1))
    return None


def detect_needs(message: str) -> CareNeeds:
    """The need tags a care message expresses, who is asking, and the services it names."""
    keys = [_keys(w) for w in message_words(message)]
    found = {name: at for name, table in _NEED_TABLES.items()
             if (at := table.first(keys)) is not None}
    needs = sorted(found, key=lambda n: (found[n], NEEDS.index(n)))
    traits = {name for name, table in _TRAIT_TABLES.items() if table.first(keys) is not None}
    age = _age(message)
    if age is not None:
        low, high = _AGES["young"]
        if low <= age <= high and "young_people" not in needs:
            needs.append("young_people")  # an age qualifies the ask, so it comes last
        if age < _AGES["minor_below"]:
            traits.add("minor")
    named = [entry_id for entry_id, phrases in _NAMED.items() if phrases.spans(keys)]
    return CareNeeds(needs, frozenset(traits), named, age)


def needs_from_topics(topics: list[str]) -> CareNeeds:
    """For a decision made without a reading of its message: the rules' topics as needs."""
    needs: list[str] = []
    for topic in topics:
        need = _T["from_topics"].get(topic)
        if need and need not in needs:
            needs.append(need)
    return CareNeeds(needs)


# -- choosing entries ------------------------------------------------------------------------
@dataclass
class Choice:
    """The entries a care reply shows (besides Drogues Info Service), and its notes:
    "halte_smokers" (the Paris halte does not admit people who smoke) and the suspended
    entries the message asked about."""

    entries: list[CareEntry]
    halte_smokers: bool = False
    suspended: list[CareEntry] = field(default_factory=list)


def is_for(entry: CareEntry, reading: CareNeeds) -> bool:
    """Whether a reply may send this person to this entry: open or intake_paused (never
    suspended), for them (women-only, young people) and not closed to them (the
    injection-only, adults-only halte for someone who smokes or a minor)."""
    if not entry.showable or entry.id == POINTER_ID:
        return False
    only = _T["only_for"].get(entry.id)
    if only and not reading.fits(only):
        return False
    return not any(reading.fits(c) for c in _T["never_for"].get(entry.id, []))


def _ranked(needs: list[str]) -> list[str]:
    """Entry ids for the needs: those meeting more of them first, then the most fitting
    (position in its need's list), then the need said first."""
    score: dict[str, tuple[int, int, int]] = {}
    for n, need in enumerate(needs):
        for pos, entry_id in enumerate(_T["show"].get(need, [])):
            served, best, first = score.get(entry_id, (0, pos, n))
            score[entry_id] = (served - 1, min(best, pos), min(first, n))
    return sorted(score, key=score.__getitem__)


def choose_entries(care: CareDirectory, reading: CareNeeds, *,
                   distress: bool = False) -> Choice:
    """The entries that fit the reading (up to 4, 3 for a single need), most fitting first:
    services it names, then someone to talk to for a person in distress, then by need."""
    known = {e.id for e in care.entries}
    named = [care.get(i) for i in reading.named if i in known]
    by_need = [care.get(i) for i in _ranked(reading.needs) if i in known]
    if not any(is_for(e, reading) for e in [*named, *by_need]):
        by_need = [care.get(i) for i in _T["default"] if i in known]
    pool = [*named, *(care.get(i) for i in _T["distress"] if distress), *by_need]
    limit = MAX_ENTRIES_ONE_NEED if len(reading.needs) <= 1 else MAX_ENTRIES
    entries: list[CareEntry] = []
    for entry in pool:
        if is_for(entry, reading) and entry not in entries and not _twin_shown(entry, entries):
            entries.append(entry)
    halte = "injection_room" in reading.needs or "halte-paris-lhomme" in reading.named
    return Choice(entries[:limit], halte_smokers=halte and reading.smokes_only,
                  suspended=[e for e in named if not e.showable])


def _twin_shown(entry: CareEntry, shown: list[CareEntry]) -> bool:
    """Whether another entry for the same place is already shown."""
    ids = {e.id for e in shown}
    return any(entry.id in group and ids & (set(group) - {entry.id})
               for group in _T["same_place"])
