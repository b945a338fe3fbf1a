"""The guard's readable rules: message normalisation (folding, slang, typos) and the patterns
in English and French that name what must never be missed or misread.

The rules are overrides and evidence: assistant/safety/guardrails.py decides with them and
the classifier together, and staff see which rule fired. The classifier also reads which
rules fired, as features.

The tables themselves (aliases, lexicon, rules, word sets, topics) are data, in rules.yaml
beside this file; this module loads them once and compiles them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from assistant.text.language import fold
from assistant.text.tables import load_yaml

TABLES_FILE = Path(__file__).with_name("rules.yaml")


def _load_tables(path: Path = TABLES_FILE) -> dict[str, Any]:
    return load_yaml(path)


_T = _load_tables()


def _any_of(alternatives: list[str]) -> str:
    """'(?:a|b|c)': a YAML list of patterns as one group."""
    return "(?:" + "|".join(alternatives) + ")"


# -- text normalisation ----------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+")

# Slang and frequent misspellings mapped to one spelling, so the patterns stay short.
ALIASES: dict[str, str] = dict(_T["aliases"])

# Words worth correcting when misspelled by one letter (6+ letters only: see rules.yaml).
LEXICON: list[str] = list(_T["lexicon"])


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


_CORRECTIONS: dict[str, str] = {}
for _w in LEXICON:
    for _d in _deletes(_w):
        _CORRECTIONS.setdefault(_d, _w)
_LEXICON_SET = set(LEXICON)


def _correct(token: str) -> str:
    """One-edit typo correction towards LEXICON (insertion, deletion or substitution)."""
    if len(token) < 6 or token in _LEXICON_SET:
        return token
    if token in _CORRECTIONS:  # one letter too many
        return _CORRECTIONS[token]
    for d in _deletes(token):  # one letter missing or wrong
        if d in _LEXICON_SET:
            return d
        if d in _CORRECTIONS and len(_CORRECTIONS[d]) == len(token):
            return _CORRECTIONS[d]
    return token


# Contractions from rules.yaml (pattern, replacement), applied in order.
_CONTRACTIONS = [(re.compile(p), r) for p, r in _T["contractions"]]


# French SMS drops the "e" of "je" before a verb: "jcherche", "jsais", "jme" -> "je cherche".
_J_VERB = re.compile(r"^j((?:[bcdfghklmnpqrstvwxz])[a-z]+)$")


def normalise(text: str) -> str:
    """Folded, de-elongated, alias-mapped, typo-corrected tokens joined by single spaces."""
    folded = fold(text)
    folded = re.sub(r"(.)\1{2,}", r"\1\1", folded)  # "heeeelp" -> "heelp"
    for pattern, repl in _CONTRACTIONS:  # don't -> do not, before apostrophes are split
        folded = pattern.sub(repl, folded)
    folded = re.sub(r"(\w)'(\w)", r"\1 \2", folded)  # j'ai -> j ai
    out = []
    for tok in _TOKEN.findall(folded):
        tok = ALIASES.get(tok, _J_VERB.sub(r"je \1", tok))
        out.append(_correct(tok) if " " not in tok else tok)
    return " " + " ".join(out) + " "


# -- rules -----------------------------------------------------------------------------------

# Pieces shared by several patterns, written {name} in rules.yaml.
_SHARED: dict[str, str] = {name: _any_of(alts) for name, alts in _T["shared"].items()}
DRUG = _SHARED["drug"]
SUBJ = _SHARED["subject"]
CLOSE = _SHARED["close"]
BENIGN_OBJECT = _SHARED["benign_object"]
HOT_SPOTS = _SHARED["hot_spots"]


def _pattern(alternatives: list[str]) -> str:
    """One pattern from a YAML list of alternatives, shared pieces filled in. Only the known
    names are replaced, so regex counts such as {0,3} stay as they are."""
    joined = "|".join(alternatives)
    for name, piece in _SHARED.items():
        joined = joined.replace("{" + name + "}", piece)
    # A misspelt {name} would otherwise stay in the regex as literal text and never match.
    if unknown := re.search(r"\{[a-z_]+\}", joined):
        raise ValueError(f"rules.yaml: {unknown.group()} is not one of the shared pieces")
    return joined


# (kind, name, pattern). Patterns match the normalised text; names are shown to staff.
RULES: list[tuple[str, str, str]] = [
    (rule["kind"], rule["name"], _pattern(rule["pattern"])) for rule in _T["rules"]
]


def _word_set(key: str) -> re.Pattern[str]:
    """One of the words of a set, spaces around it (the normalised text has them)."""
    return re.compile(" " + _any_of(_T[key]) + " ")


# What each word set means is written beside it in rules.yaml.
SCOPE = _word_set("scope")
POLICY = _word_set("policy")
DRUG_CORE = _word_set("drug_core")
OFF_TOPIC = re.compile(r"\b" + _any_of(_T["off_topic"]))
NAMED = _word_set("named")
PERSONAL = _word_set("personal")
FACTUAL_QUESTION = re.compile(r"^ (?:\w+ ){0,3}" + _any_of(_T["factual_question"]) + r"\b")

# Topic words for choosing care-directory entries.
TOPICS: list[tuple[str, str]] = [(name, _pattern(alts)) for name, alts in _T["topics"].items()]

# "kind: name" of every rule, in order: the classifier's rule features follow this order.
RULE_NAMES = [f"{kind}: {name}" for kind, name, _ in RULES]

# Matches start on a word boundary so stems ("suicid", "collaps") never fire mid-word.
_COMPILED = [(kind, name, re.compile(rf"\b(?:{pat})")) for kind, name, pat in RULES]
_TOPICS = [(name, re.compile(pat)) for name, pat in TOPICS]
_FOLLOW = _T["follow_up"]
FOLLOW_UP = re.compile(
    r"^ " + _any_of(_FOLLOW["openers"]) + r"\b|^ (?:\w+ ){0,2}" + _any_of(_FOLLOW["for"])
    + " " + _any_of(_FOLLOW["whom"]) + r"\b")


def rule_hits(text: str) -> list[tuple[str, str]]:
    """Every (kind, rule name) whose pattern matches the normalised message."""
    return [(kind, name) for kind, name, pat in _COMPILED if pat.search(text)]


def topics_of(text: str) -> list[str]:
    """Care-directory topics the normalised message touches, in rules.yaml order."""
    return [name for name, pat in _TOPICS if pat.search(text)]
