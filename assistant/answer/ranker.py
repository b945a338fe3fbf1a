"""A learned order for the candidate sentences of an answer.

The hand-set score (0.6 meaning + 0.4 terms + the answer-type match) picks the wrong one of
two close sentences when the question is worded unlike the source or asked in another
language. This ranker is a logistic regression over a few features of each sentence, among
them its meaning beside the question's in the guard's multilingual encoder and its place in
the hand-set order. It only orders sentences: whether the sources answer at all is still
judged on meaning and terms. (The neighbouring sentences' features were tried: 5-fold
cross-validated on the tuning questions they lost 4 of 125 best sentences.)

Trained by `python -m assistant train-ranker` (assistant/training/ranker.py) on the
tuning parts of the question sets; saved beside this file as `ranker.npz`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answer.grounding import negated

RANKER_PATH = Path(__file__).resolve().parent / "ranker.npz"

FEATURES = (
    "meaning", "meaning_gap", "cosine", "cosine_gap", "overlap", "overlap_gap", "base_gap",
    "answer_match", "match_quantity", "match_entity", "passage_rank", "order", "length",
    "negation_yes_no", "has_digit",
)
_QUANTITY = ("when", "until", "how_often", "how_long", "how_many")
_ENTITY = ("who", "said", "which", "where")


@dataclass
class Candidates:
    """The candidate sentences of one question, as arrays (one row each)."""

    texts: list[str]
    meaning: np.ndarray  # cosine with the question in the multilingual encoder
    cosine: np.ndarray  # the same in the retrieval model
    overlap: np.ndarray  # share of the question's specific terms
    match: np.ndarray  # answer-type match (0, 0.5, 1)
    passage: np.ndarray  # rank of the first retrieved passage holding it


def feature_matrix(c: Candidates, answer_type: str) -> np.ndarray:
    """(len(texts), len(FEATURES)) float64, in FEATURES order."""
    n = len(c.texts)
    if not n:
        return np.zeros((0, len(FEATURES)))
    base = 0.6 * c.cosine + 0.4 * c.overlap
    columns = {
        "meaning": c.meaning, "meaning_gap": c.meaning - c.meaning.max(),
        "cosine": c.cosine, "cosine_gap": c.cosine - c.cosine.max(),
        "overlap": c.overlap, "overlap_gap": c.overlap - c.overlap.max(),
        "base_gap": base - base.max(), "answer_match": c.match,
        "match_quantity": c.match * (answer_type in _QUANTITY),
        "match_entity": c.match * (answer_type in _ENTITY),
        "passage_rank": 1.0 / (1.0 + c.passage), "order": np.arange(n) / max(1, n),
        "length": np.log([max(len(t), 1) for t in c.texts]),
        "negation_yes_no": np.asarray([negated(t) for t in c.texts], float) *
        (answer_type == "yes_no"),
        "has_digit": np.asarray([any(ch.isdigit() for ch in t) for t in c.texts], float),
    }
    return np.column_stack([np.asarray(columns[f], dtype=np.float64) for f in FEATURES])


@dataclass
class SentenceRanker:
    """Standardised features, one weight each; the score is a probability of answering.
    (The answer check, check.py, is the same kind of head over other features.)"""

    coef: np.ndarray
    intercept: float
    mean: np.ndarray
    scale: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        z = ((features - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def fingerprint(self) -> str:
        """A hash of the weights: a head trained over this one's scores names it."""
        h = hashlib.sha256()
        for a in (self.coef, np.asarray([self.intercept]), self.mean, self.scale):
            h.update(np.ascontiguousarray(a, dtype=np.float64).tobytes())
        return h.hexdigest()[:16]

    def save(self, path: Path = RANKER_PATH) -> None:
        np.savez(path, coef=self.coef, intercept=np.asarray([self.intercept]), mean=self.mean,
                 scale=self.scale, meta=np.asarray(json.dumps(self.meta, sort_keys=True)))

    @classmethod
    def load(cls, path: Path = RANKER_PATH,
             features: tuple[str, ...] = FEATURES) -> SentenceRanker | None:
        """The saved head, or None when there is none or it was made for other features."""
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                if tuple(meta.get("features", ())) != features:
                    return None
                return cls(z["coef"], float(z["intercept"][0]), z["mean"], z["scale"], meta)
        except (OSError, KeyError, ValueError):
            return None
