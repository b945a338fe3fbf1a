"""Answer types: what kind of answer a question asks for, and which sentences hold one.

"How often are the officers on call?" asks for a frequency: "they are on call 24 hours a
day, every day" holds one, "officers patrol the neighborhood regularly" a vague one, and a
sentence that only repeats the question's words holds none. The extractive answerer adds
the match to each sentence's score (`AnswerSettings.answer_type_weight`).

Both halves read word tables (answer_types.yaml), English and French, written folded so
one entry covers accented, unaccented and SMS spellings ("qui"/"ki", "quand"/"kan").
Names cannot rely on capitals (one source is all lower case): each document teaches its
own names, from the words around reporting verbs ("says dagnaud") and, where it has
capitals, its capitalised words (`learn_names`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from assistant.text.language import (
    EN_STOP,
    FR_STOP,
    capitalised_words,
    content_words,
    fold,
    words,
)
from assistant.text.tables import load_yaml

TABLES_FILE = Path(__file__).with_name("answer_types.yaml")

AnswerType = Literal[
    "when", "until", "how_often", "how_long", "how_many", "who", "where", "why", "said",
    "which", "yes_no", "",
]


def _load_tables(path: Path = TABLES_FILE) -> dict[str, Any]:
    return load_yaml(path)


def _whole(entry: str) -> str:
    """A table entry as a whole-word pattern: it neither starts nor ends inside a word, unless
    that end is itself punctuation ("est-ce qu'" runs into "il", a quote mark into a word)."""
    return r"(?:(?<!\w)|(?=\W))(?:" + entry + r")(?:(?!\w)|(?<=\W))"


def _patterns(entries: list[str] | None) -> tuple[re.Pattern[str], ...]:
    """One pattern per entry (question cues: each one's place and length count)."""
    return tuple(re.compile(_whole(e)) for e in entries or [])


def _any_of(entries: list[str] | None) -> tuple[re.Pattern[str], ...]:
    """All entries as one pattern (sentence kinds: any hit will do, and one scan is faster)."""
    return (re.compile("|".join(_whole(e) for e in entries)),) if entries else ()


_T = _load_tables()

_QUESTION: dict[str, tuple[re.Pattern[str], ...]] = {
    kind: _patterns(entries) for kind, entries in _T["question"].items()
}
_EMBEDDED = re.compile(r"^\s*(?:" + "|".join(_T["embedded"]) + r")\b[\s,:]*")
_YES_NO_START = _patterns(_T["yes_no"]["start"])
_YES_NO_ANYWHERE = _patterns(_T["yes_no"]["anywhere"])
_ACCENTED_WHERE = re.compile(r"(?<!\w)où(?!\w)")


_ASIDE = re.compile(r"\([^)]*\)")
_CLAUSE_BREAK = re.compile(r"[,;:]")


def question_text(question: str) -> str:
    """The question as the tables read it: folded, without "do you know" and the like, and
    without asides in brackets (a follow-up's carried topic: "are they on call (patrols)?")."""
    # "où" is only ever "where"; folded, it is also "ou" ("or").
    text = fold(_ACCENTED_WHERE.sub("where", _ASIDE.sub(" ", question).strip().lower()))
    return _EMBEDDED.sub("", text)


def question_type(question: str) -> AnswerType:
    """What the question asks for; "" when nothing in the tables says (a plain "what").

    The last clause with a cue decides: "Selon la maire, qu'est-ce qui ...", and a follow-up
    rewritten as "<previous question>, especially when?". In it the cue that starts first
    wins; at the same place the longer one, then table order. French inversion ("a-t-il",
    "voulait-elle") makes a yes-no question only when no other cue is found: French asks
    "ils arrivent avec qui ?" after the verb.
    """
    text = question_text(question)
    breaks = [m.start() for m in _CLAUSE_BREAK.finditer(text)]
    best: tuple[int, int, int, int, str] | None = None
    cues = [*_QUESTION.items(), ("yes_no", _YES_NO_START)]
    for order, (kind, patterns) in enumerate(cues):
        for p in patterns:
            for m in p.finditer(text):
                clause = sum(1 for b in breaks if b < m.end() - 1)
                cand = (-clause, m.start(), m.start() - m.end(), order, kind)
                best = cand if best is None or cand < best else best
    if best is not None:
        return best[4]  # type: ignore[return-value]
    if any(p.search(text) for p in _YES_NO_ANYWHERE):
        return "yes_no"
    return ""


_NOT_A_COUNT = ("how_long", "how_often", "until")


def asks_for_figure(question: str) -> bool:
    """A "how many" cue anywhere in the question ("which sites, and how many?"), unless it
    is part of a longer cue of another type ("combien de temps", "how many times")."""
    text = question_text(question)
    others = [m.span() for kind in _NOT_A_COUNT for p in _QUESTION[kind] for m in p.finditer(text)]
    for p in _QUESTION["how_many"]:
        for m in p.finditer(text):
            if not any(s <= m.start() < e for s, e in others):
                return True
    return False


_COUNTED_MAX = 2  # "how many square metres", "how many new places"


def counted_words(question: str) -> list[str]:
    """What a "how many" question counts: the first content words after its cue ("How many
    beds will..." -> beds; "Combien d'associations ont participé" -> associations), folded;
    [] when the cue ends the question ("which sites, and how many?")."""
    text = question_text(question)
    # A name is not what is counted: "how many of Hidalgo's proposed sites" counts sites.
    names = set(capitalised_words(question))
    others = [m.span() for kind in _NOT_A_COUNT for p in _QUESTION[kind] for m in p.finditer(text)]
    for p in _QUESTION["how_many"]:
        for m in p.finditer(text):
            if any(s <= m.start() < e for s, e in others):
                continue
            return _first_noun_group([w for w in words(text[m.end():]) if w not in names])
    return []


def _first_noun_group(tokens: list[str]) -> list[str]:
    """The first content word and the one right after it, when it is one too ("new places",
    "square metres"; not "beds will the site")."""
    content = [i for i, w in enumerate(tokens) if w not in _STOP and len(w) > 1]
    if not content:
        return []
    first = content[0]
    return [tokens[i] for i in content[:_COUNTED_MAX] if i - first < _COUNTED_MAX]


_FIGURE_WORD = re.compile(
    r"^(\d[\d.,]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
    r"thirty|forty|fifty|hundred|dozens?|hundreds?|thousands?|millions?|un|une|deux|trois|"
    r"quatre|cinq|sept|huit|neuf|dix|onze|douze|vingt|trente|cent|centaines?|milliers?|"
    r"millions?|dizaines?|douzaines?)$")
_COUNT_WINDOW = 3  # "200 places", "two dozen complaints", "5 millions d'euros"


_MONEY = frozenset(_T["money_words"].split())
_CURRENCY = frozenset(_T["currency_words"].split())


_VAGUE = frozenset(_T["vague_quantities"].split())
_EXACT = frozenset(_T["exact_words"].split())


def asks_exact(question: str) -> bool:
    """The question wants the exact figure ("how many, exactly?", "combien précisément")."""
    return bool(_EXACT & set(words(question_text(question))))


def _quantity(token: str, vague: bool) -> bool:
    return bool(_FIGURE_WORD.match(token)) or (vague and token in _VAGUE)


def _count_tokens(sentence: str) -> list[str]:
    """The sentence's folded words with its dates and durations taken out and "€" spelled
    "euros": the figures that count something, and the words after them."""
    return words(_not_counts(_folded(sentence)).replace("€", " euros "))


def figure_followers(sentence: str, *, vague: bool = False) -> list[str]:
    """The words right after each figure of the sentence (with `vague`, each quantity word
    too: "many complaints"), folded: what they count."""
    tokens = _count_tokens(sentence)
    return [w for i, t in enumerate(tokens) if _quantity(t, vague)
            for w in tokens[i + 1:i + 1 + _COUNT_WINDOW]]


_COUNTS_THINGS = _patterns(_T["how_many_things"])


def counts_things(question: str) -> bool:
    """The question counts things ("how many signatories"), not an amount that may be money
    ("how much had been planned?")."""
    text = question_text(question)
    return any(p.search(text) for p in _COUNTS_THINGS)


def only_sums(sentence: str) -> bool:
    """Every figure of the sentence is a sum of money ("3 millions d'euros ont été
    engagés"): it counts no signatories, sites or people."""
    tokens = _count_tokens(sentence)
    figures = [i for i, t in enumerate(tokens) if _quantity(t, False)]
    return bool(figures) and all(_CURRENCY & set(tokens[i + 1:i + 1 + _COUNT_WINDOW])
                                 for i in figures)


def gives_quantity(text: str) -> bool:
    """The text states a figure, or a quantity in words ("many", "de nombreuses")."""
    return gives_count(text) or bool(_VAGUE & set(words(_folded(text))))


def asks_money(counted: list[str]) -> bool:
    """The question counts money ("how much money", "combien d'argent", "what budget")."""
    return bool(_MONEY & set(counted))


def asks_sum(question: str) -> bool:
    """A "how much" question about money, whatever follows its cue: "combien le plan
    a-t-il coûté ?", "how much did it end up costing?" (not "how many euros-worth of
    kits", which counts things)."""
    return not counts_things(question) and bool(_MONEY & set(words(question_text(question))))


def counts_money(followers: list[str]) -> bool:
    """A figure is a sum of money, in any currency word (`figure_followers`)."""
    return bool(_CURRENCY & set(followers))


# -- figures --------------------------------------------------------------------------------
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|dozens?|"
    r"hundreds?|thousands?|millions?|half|un|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|"
    r"douzaines?|centaines?|milliers?)\b",
    re.IGNORECASE,
)
# A year or a day of a month states when, not how many: "démantelé le 5 octobre 2022" does
# not answer "how many people lived in the camp".
_DATE = re.compile(
    r"\b(1[89]|20)\d\d\b|\b\d{1,2}(er)? (jan|feb|fev|mar|apr|avr|may|mai|jun|juin|jul|juil|aug|"
    r"aou|sep|oct|nov|dec)\w*|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w* \d{1,2}\b",
    re.IGNORECASE)


# Nor does a length of time: "on call 24 hours a day" counts no officers ("how many
# hours" asks how long, not how many).
_TIME_SPAN = re.compile(
    r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty(-four)?|un|une|"
    r"deux|trois|quatre|cinq|six|sept|huit|neuf|dix|douze|vingt|several|many|plusieurs|"
    r"quelques|nombreux|nombreuses)[ -]?(h|hours?|heures?|days?|"
    r"jours?|nights?|nuits?|weeks?|semaines?|months?|mois|years?|ans|annees|minutes?|min)\b",
    re.IGNORECASE)


def _not_counts(folded: str) -> str:
    return _TIME_SPAN.sub(" ", _DATE.sub(" ", folded))


@lru_cache(maxsize=16_384)  # the corpus sentences come back question after question
def gives_count(text: str) -> bool:
    """The text states a figure (digits or number words) that is not a date or a length of
    time."""
    return bool(_NUMBER.search(_not_counts(_folded(text))))


@lru_cache(maxsize=4096)
def _folded(text: str) -> str:
    """`fold`, kept for the sentences that come back question after question."""
    return fold(text)


_TOKEN = re.compile(r"[a-z0-9]+")


def _new_figure(folded: str, question_words: frozenset[str]) -> bool:
    """A figure the question does not already give ("one" answers "of the two sites")."""
    text = _not_counts(folded)
    for m in _NUMBER.finditer(text):
        word = re.match(r"[\w,.]+", text[m.start():])
        if word is None or word.group().strip(",.") not in question_words:
            return True
    return False


# -- names ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Names:
    """A document's names, folded: people and organisations, and places."""

    people: frozenset[str] = frozenset()
    places: frozenset[str] = frozenset()


_N = _T["names"]
_SAID_BEFORE = re.compile(r"(?<!\w)(?:" + "|".join(_N["said_before"])
                          + r")\s+(?:(?:the|le|la|l')\s*)?(?P<name>[a-z][\w'-]*)")
_SAID_AFTER = re.compile(
    r"(?:^|[.,;:!?\n]\s*)(?P<name>[a-z][\w'-]*)\s+(?:" + "|".join(_N["said_after"]) + r")(?!\w)",
    re.MULTILINE)
_PLACE_BEFORE = re.compile(
    r"(?<!\w)(?:" + "|".join(_N["places_after"]) + r")\s+(?:(?:the|la|le|les|l')\s*)?$")
_JOINED_BEFORE = re.compile(r"(?:\band|\bet|,)\s*$")
_CAPITALISED_RUN = re.compile(r"(?<![\w'’-])[A-ZÀ-Ý][\w'’-]*(?:[ -][A-ZÀ-Ý][\w'’-]*)*")
_OPENS_SENTENCE = re.compile(r"(?:^|[.!?:;\n“\"«(\[]\s*)$")
_STOP = EN_STOP | FR_STOP


def _name_words(text: str) -> set[str]:
    return {w for w in words(text) if len(w) > 1 and w not in _STOP and not w.isdigit()}


def _is_date_word(word: str) -> bool:
    """Months and days are capitalised in English but name no one."""
    return any(p.search(word) for p in _KINDS["date"].strong)


def learn_names(text: str) -> Names:
    """The names a document uses, learned from the document itself."""
    folded = fold(text)
    people: set[str] = set()
    for m in (*_SAID_BEFORE.finditer(folded), *_SAID_AFTER.finditer(folded)):
        people |= _name_words(m.group("name"))
    places: set[str] = set()
    last_place_end = -1
    for m in _CAPITALISED_RUN.finditer(text):
        before = text[max(0, m.start() - 40) : m.start()]
        if _OPENS_SENTENCE.search(before) and " " not in m.group():
            continue  # one capitalised word opening a sentence is no name
        found = {w for w in _name_words(m.group()) if not _is_date_word(w)}
        lead = fold(before)
        between = text[last_place_end : m.start()] if last_place_end >= 0 else ""
        joined = 0 < len(between) <= 6 and _JOINED_BEFORE.search(between)
        if _PLACE_BEFORE.search(lead) or joined:
            places |= found
            last_place_end = m.end()
        else:
            people |= found
    return Names(frozenset(people - places), frozenset(places))


# -- what a sentence holds ------------------------------------------------------------------
@dataclass(frozen=True)
class _Kind:
    new: bool  # a hit made only of the question's own words does not count
    strong: tuple[re.Pattern[str], ...]
    weak: tuple[re.Pattern[str], ...]


_KINDS: dict[str, _Kind] = {
    name: _Kind(bool(spec.get("new")), _any_of(spec.get("strong")), _any_of(spec.get("weak")))
    for name, spec in _T["sentence"].items()
}
_WANTS: dict[str, dict[str, float]] = {k: dict(v or {}) for k, v in _T["wants"].items()}
# A question with one of these asks who said something: then the speaker is the answer.
_SPEECH_WORDS = frozenset(_N["speech_questions"])


def _is_new(hit: str, question_words: frozenset[str]) -> bool:
    found = _content(hit)
    return not found or any(w not in question_words for w in found)


@lru_cache(maxsize=16_384)
def _content(hit: str) -> tuple[str, ...]:
    return tuple(content_words(hit))


def _named(names: frozenset[str], folded: str, question_words: frozenset[str]) -> bool:
    return any(w in names and w not in question_words for w in _tokens(folded))


# What a sentence holds does not depend on the question: each corpus sentence is read once
# (about 0.2 ms a sentence and kind, some 50 sentence-kinds a question), the question's own
# words are checked against what was found.
@lru_cache(maxsize=16_384)
def _tokens(folded: str) -> tuple[str, ...]:
    return tuple(_TOKEN.findall(folded))


@lru_cache(maxsize=65_536)
def _hits(kind: str, folded: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The strong and the weak answers of this kind the sentence states, in order."""
    spec = _KINDS[kind]
    return (tuple(m.group() for p in spec.strong for m in p.finditer(folded)),
            tuple(m.group() for p in spec.weak for m in p.finditer(folded)))


@lru_cache(maxsize=16_384)
def _unattributed(folded: str) -> str:
    """The sentence without who is quoted ("..., says dagnaud"): the speaker answers "who
    said it?", not "who does the plan target?"."""
    text = _SAID_BEFORE.sub(" ", folded)
    return _SAID_AFTER.sub(" ", text)


def _holds(kind: str, folded: str, question_words: frozenset[str], names: Names,
           vague: float) -> float:
    """1.0 when the sentence holds an answer of this kind, `vague` for a vague one, else 0."""
    if kind == "person" and not question_words & _SPEECH_WORDS:
        folded = _unattributed(folded)
    if kind == "figure":
        return 1.0 if gives_count(folded) and _new_figure(folded, question_words) else 0.0
    if kind == "person" and _named(names.people, folded, question_words):
        return 1.0
    if kind == "place" and _named(names.places, folded, question_words):
        return 1.0
    new = _KINDS[kind].new
    for strength, hits in zip((1.0, vague), _hits(kind, folded), strict=True):
        for hit in hits:
            if not new or _is_new(hit, question_words):
                return strength
    return 0.0


def answer_match(answer_type: AnswerType, sentence: str, question_words: frozenset[str],
                 names: Names | None = None, *, vague: float = 0.5) -> tuple[float, str]:
    """How well the sentence holds the kind of answer asked for (0 to 1), and which kind.

    `question_words` are the question's folded words (`question_words`): a date, a figure
    or a name the question itself gives is no answer to it. A vague answer of the kind
    ("regularly" for how often, "recently" for when) counts `vague`.
    """
    wants = _WANTS.get(answer_type) or {}
    if not wants:
        return 0.0, ""
    folded = _folded(sentence)
    best, which = 0.0, ""
    for kind, factor in wants.items():
        value = factor * _holds(kind, folded, question_words, names or Names(), vague)
        if value > best:
            best, which = value, kind
    return best, which


def question_words(question: str) -> frozenset[str]:
    """The folded words of a question, as `answer_match` compares them."""
    return frozenset(words(question))


# -- the thing a question asks for ----------------------------------------------------------
_A = _T["asked"]
_WHICH, _WHAT = frozenset(_A["which"]), frozenset(_A["what"])
_LINKING, _DETERMINERS = frozenset(_A["linking"]), frozenset(_A["determiners"])
_NOUN_FOLLOWERS, _GENERIC = frozenset(_A["noun_followers"]), frozenset(_A["generic"])
_ASKED_KINDS: dict[str, str] = {w: kind for kind, ws in _A["kinds"].items() for w in ws}
_WHAT_FR = frozenset({"quoi", "koi"})
_FRENCH_CUES = frozenset({"quel", "quelle", "quels", "quelles", "kel", "kelle", "kels",
                          "kelles"}) | _WHAT_FR


def _content_run(tokens: list[str], j: int) -> list[str]:
    """The content words from `j` on, up to the first other word (at most `max_words`)."""
    run: list[str] = []
    while j < len(tokens) and len(run) < _A["max_words"]:
        w = tokens[j]
        if w in _STOP or len(w) < 2 or _FIGURE_WORD.match(w):
            if run:
                break
            if not _FIGURE_WORD.match(w):  # "which two cities": the figure is skipped
                return run
        else:
            run.append(w)
        j += 1
    return run


def _asked_after(tokens: list[str], i: int) -> list[str]:
    """The words naming what the cue at `i` asks for; [] when it names nothing."""
    cue, j = tokens[i], i + 1
    linked = cue == "whats" or (j < len(tokens) and tokens[j] in _LINKING)
    if linked:
        j += cue != "whats"
        if j < len(tokens) and tokens[j] in _DETERMINERS:
            j += 1
        elif cue not in _FRENCH_CUES and cue != "which":
            return []  # "what is happening": no noun asked
    elif cue in _WHAT and cue not in _WHAT_FR:
        after = j + 1
        if after >= len(tokens) or tokens[after] not in _NOUN_FOLLOWERS:
            return []  # "what happened", "what does"
    elif cue in _WHAT_FR:
        if i == 0 or tokens[i - 1] not in {"est", "c", "cest"}:
            return []  # "c'est quoi l'adresse" asks a thing; "quoi côté argent" does not
        j += j < len(tokens) and tokens[j] in _DETERMINERS
    run = _content_run(tokens, j)
    if run and run[0] in _GENERIC:
        rest = tokens[j + 1:]
        if rest and rest[0] in {"of", "de"}:
            return _content_run(tokens, j + 2)
        return []
    return run


def asked_things(question: str) -> list[list[str]]:
    """What the question names as the thing it asks for, one word group per cue ("Quel est
    le nom de la salle, et quelle est son adresse ?" -> [[nom], [adresse]]), folded."""
    tokens = words(question_text(question))
    groups = []
    for i, t in enumerate(tokens):
        if t in _WHICH or t in _WHAT:
            found = _asked_after(tokens, i)
            if found:
                groups.append(found)
    return groups


def asked_kinds(group: list[str]) -> list[str]:
    """The kind of value that answers for these words ("cities" -> place; "phone number" ->
    phone, not any figure), as a list of one; [] when they name no kind."""
    kinds = {_ASKED_KINDS[w] for w in group if w in _ASKED_KINDS}
    return [k for k in _A["precedence"] if k in kinds][:1]


def kind_words(group: list[str], kind: str) -> list[str]:
    """The words of the group that name this kind ("price" in "average street price")."""
    return [w for w in group if _ASKED_KINDS.get(w) == kind]


def holds(kind: str, sentence: str, question_words: frozenset[str],
          names: Names | None = None) -> bool:
    """The sentence holds a value of this kind (strong or weak) that the question does not
    give itself."""
    return _holds(kind, _folded(sentence), question_words, names or Names(), 1.0) > 0


# -- who speaks -----------------------------------------------------------------------------
_OBJECT_PREPOSITIONS = frozenset(_T["object_prepositions"].split())
_SPEAKER_WINDOW = int(_T["speaker_window"])
_CLAUSE_TOKEN = re.compile(r"[a-z0-9]+|[,;:.!?()\"“”«»]")


_FAMILY = 6  # "ministry" and "minister" share their first six letters


def _same_family(a: str, b: str) -> bool:
    return a == b or (min(len(a), len(b)) >= _FAMILY and a[:_FAMILY] == b[:_FAMILY]) or (
        min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)))


def _subjects(folded: str, wanted: frozenset[str]) -> tuple[set[str], set[str]]:
    """The words of `wanted` the text has (or one of their family: "minister" for
    "ministry"), and those of them it has outside a phrase after an object preposition."""
    tokens = _CLAUSE_TOKEN.findall(folded)
    out: set[str] = set()
    seen: set[str] = set()
    for i, t in enumerate(tokens):
        if not t[0].isalnum() or not any(_same_family(t, w) for w in wanted):
            continue
        seen.add(t)
        before: list[str] = []
        for prev in reversed(tokens[max(0, i - _SPEAKER_WINDOW):i]):
            if not prev[0].isalnum():
                break  # a clause ends: what comes before it does not govern the name
            before.append(prev)
        if not _OBJECT_PREPOSITIONS & set(before):
            out.add(t)
    return seen, out


def speakers(question: str) -> tuple[frozenset[str], frozenset[str]]:
    """Who the question has speak, folded: its names, and its person words, that are not
    after an object preposition ("How did Jean Castex respond to Hidalgo's letter?" ->
    jean, castex; not hidalgo). Names are the same in every language; person words are not."""
    text = question_text(question)
    # Past the first letter: the first word's capital marks the sentence, not a name.
    named = {w for w in capitalised_words(_ASIDE.sub(" ", question)[1:]) if w not in _STOP}
    people = {w for hits in _hits("person", text) for h in hits for w in _content(h)}
    found = _subjects(text, frozenset(named | people))[1]
    return frozenset(w for w in found if w in named), frozenset(found - named)


def spoken_to_only(sentence: str, who: frozenset[str]) -> bool:
    """The sentence names some of `who`, but each only after an object preposition: they
    are spoken to or of, not speaking ("offers sites for Prime Minister Jean Castex")."""
    seen, speaking = _subjects(_folded(sentence), who)
    return bool(seen) and not speaking
