"""Does the quoted draft answer the question? A learned check before the reply is given.

The term and meaning gates let through a sentence on the right subject that does not hold
the answer: "How much money, in euros, is Hidalgo asking for?" quotes her "four solutions";
"Combien d'associations ont participé ?" the same sentence, for its "associations". What an
entailment model would judge is learned here from the tuning questions: a logistic
regression over a few features of the draft (how the best sentence scored, how much of the
question the quoted sentences themselves hold, whether a figure asked for counts the
question's own noun...), trained by `python -m assistant train-check`
(assistant/training/check.py) and saved beside this file as `check.npz`. Below its floor
the reply says the sources do not answer.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from assistant.answer.answer_types import asks_for_figure
from assistant.text.language import fold

CHECK_PATH = Path(__file__).resolve().parent / "check.npz"

# Only how the quotes meet the question: what kind of question it is was tried as well and
# learned the tuning set's mix instead ("how many" questions are often unanswerable there).
CHECK_FEATURES = (
    "top_score", "top_meaning", "top_cosine", "top_overlap", "top_match", "margin",
    "quoted_terms", "coverage", "best", "n_terms", "n_quoted", "figure_missing",
)
_WORD = re.compile(r"[a-z0-9]+")
_FIGURE = re.compile(
    r"^(\d[\d.,]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
    r"dozens?|hundreds?|thousands?|millions?|un|une|deux|trois|quatre|cinq|sept|huit|neuf|"
    r"dix|onze|douze|vingt|cent|centaines?|milliers?|millions?)$")


def figure_counts(sentence: str, terms: set[str], window: int = 2) -> bool:
    """A figure in the sentence is followed closely by one of `terms` (folded word starts):
    "200 places" counts places, "four solutions" does not count associations."""
    words = _WORD.findall(fold(sentence))
    for i, w in enumerate(words):
        if _FIGURE.match(w):
            after = words[i + 1:i + 1 + window]
            if any(a.startswith(t) or t.startswith(a) for a in after if len(a) > 2
                   for t in terms):
                return True
    return False


def question_nouns(question: str) -> set[str]:
    """The question's longer words, folded and cut to a stem-like start (5 letters), for
    `figure_counts` across singular and plural, English and French ("association(s)")."""
    return {w[:5] for w in _WORD.findall(fold(question)) if len(w) > 3}


def check_features(question: str, top: list[tuple[float, float, float, float, float]],
                   quoted_terms: float, coverage: float, best: float, n_terms: int,
                   quoted: list[str]) -> np.ndarray:
    """One row in CHECK_FEATURES order. `top`: (score, meaning, cosine, overlap, match) of
    the first two candidates, best first; `quoted`: the quoted sentences' texts."""
    first = top[0]
    second = top[1][0] if len(top) > 1 else 0.0
    nouns = question_nouns(question) if asks_for_figure(question) else None
    columns = {
        "top_score": first[0], "top_meaning": first[1], "top_cosine": first[2],
        "top_overlap": first[3], "top_match": first[4], "margin": first[0] - second,
        "quoted_terms": quoted_terms, "coverage": coverage, "best": best,
        "n_terms": float(np.log1p(n_terms)), "n_quoted": float(len(quoted)),
        # A figure is asked for and no quoted figure counts what the question names.
        "figure_missing": float(nouns is not None and not any(
            figure_counts(q, nouns) for q in quoted)),
    }
    return np.asarray([columns[f] for f in CHECK_FEATURES], dtype=np.float64)
