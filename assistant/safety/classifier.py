"""The learned core of the guard: a small linear head over multilingual sentence embeddings.

The head is trained by `python -m assistant train-guard` (assistant/safety/train.py) on
the labelled messages in assistant/safety/training/ and saved beside this file as
`guard_head.npz`. Here it is only applied: one matrix product and a softmax per unit.

A long message is scored whole and sentence by sentence: a person may write 300 words about
their week with one line that says they want to die, and the whole-message vector dilutes
that line. A label is taken from any unit whose probability clears that label's threshold,
the most severe label first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.safety.rules import RULE_NAMES, normalise, rule_hits
from assistant.text.language import fold

HEAD_PATH = Path(__file__).resolve().parent / "guard_head.npz"

# Most severe first: when several labels clear their thresholds, the first one wins.
LABELS = ("emergency_medical", "emergency_suicide", "refusal", "care_distress", "care", "pass",
          "out_of_scope")
EMERGENCY = ("emergency_medical", "emergency_suicide")
# What each label means for the reply.
KIND_OF = {"emergency_medical": "emergency", "emergency_suicide": "emergency",
           "refusal": "refusal", "care_distress": "care", "care": "care", "pass": "pass",
           "out_of_scope": "out_of_scope"}

# Threshold groups, most severe first: a group wins when its probability mass clears its
# threshold. Distress counts the emergency mass too: unsure between "at risk" and "upset",
# the reply is still care with the crisis lines.
GROUPS = (
    ("emergency", ("emergency_medical", "emergency_suicide")),
    ("refusal", ("refusal",)),
    ("care_distress", ("care_distress", "emergency_medical", "emergency_suicide")),
)
GROUP_LABELS = (*EMERGENCY, "refusal", "care_distress")
FALLBACK = ("care", "pass", "out_of_scope")

_SENTENCE = re.compile(r"(?<=[.!?…;])\s+|\n+|(?<=\S)\s+-\s+(?=\S)")
# Messages shorter than this many words are scored whole only.
UNIT_MIN_WORDS = 25
UNIT_MAX = 64  # units scored per message (a huge paste is scanned in wider windows)
UNIT_WORDS = 40  # longest unit before widening


def lexical_vectorizer(vocabulary: list[str] | None = None, idf: np.ndarray | None = None,
                       min_df: int = 2) -> Any:
    """TF-IDF of character 2- to 5-grams inside words of the folded text (scikit-learn):
    "respire", "respirer" and "respire pas" share most n-grams, so typos, missing accents and
    word forms the training set never spelled that way still count. With `vocabulary` and
    `idf` given, it is the trained one, ready to transform."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                          min_df=min_df, vocabulary=vocabulary, dtype=np.float32)
    if idf is not None:
        vec.idf_ = idf
    return vec


def rule_features(texts: list[str], hits: list[list[tuple[str, str]]] | None = None,
                  columns: dict[str, int] | None = None) -> np.ndarray:
    """One column per rule (`columns`: rule name -> column; by default rules.RULES order):
    1 where the rule fires on the message."""
    columns = columns if columns is not None else _RULE_COLUMN
    out = np.zeros((len(texts), len(columns)), dtype=np.float32)
    for i, text in enumerate(texts):
        fired = hits[i] if hits is not None and hits[i] is not None else \
            rule_hits(normalise(text))
        for kind, name in fired:
            j = columns.get(f"{kind}: {name}")
            if j is not None:
                out[i, j] = 1.0
    return out


_RULE_COLUMN = {name: i for i, name in enumerate(RULE_NAMES)}


def char_wb_ngrams(text: str, low: int = 2, high: int = 5) -> list[str]:
    """scikit-learn's "char_wb" analyzer: n-grams inside each space-padded word."""
    grams = []
    for word in text.lower().split():
        w = f" {word} "
        for n in range(low, high + 1):
            grams.extend(w[i:i + n] for i in range(max(1, len(w) - n + 1)))
            if len(w) <= n:  # a short word counts once, whole
                break
    return grams


def sparse_features(texts: list[str], vectorizer: Any) -> Any:
    from scipy.sparse import csr_matrix, hstack

    lexical = vectorizer.transform([fold(t) for t in texts])
    return hstack([lexical, csr_matrix(rule_features(texts))]).tocsr()


@dataclass
class Head:
    """A linear head over [sentence embedding ; character n-gram TF-IDF ; rules fired], a
    temperature and per-group thresholds."""

    weights: np.ndarray  # labels x (embedding dim + vocabulary size + number of rules)
    bias: np.ndarray
    labels: tuple[str, ...]
    temperature: float
    thresholds: dict[str, float]
    vocabulary: list[str]
    idf: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The rules the head was trained with, by name: a rule added since reads as absent
        # until the head is retrained (a test says so).
        self.rule_names: list[str] = list(self.meta.setdefault("rule_names", RULE_NAMES))
        self._rule_column = {name: i for i, name in enumerate(self.rule_names)}
        dim = self.weights.shape[1] - len(self.vocabulary) - len(self.rule_names)
        self._dense_w = np.ascontiguousarray(self.weights[:, :dim].T)
        v = len(self.vocabulary)
        # Each n-gram's idf-weighted row of weights, so a message costs one gather.
        self._gram_w = np.ascontiguousarray(self.weights[:, dim:dim + v].T)
        self._rule_w = np.ascontiguousarray(self.weights[:, dim + v:].T)
        self._column = {g: i for i, g in enumerate(self.vocabulary)}

    def lexical_logits(self, text: str) -> np.ndarray:
        """The n-gram part of the logits: scikit-learn's char_wb TF-IDF (sublinear tf, L2
        norm) of the folded text, computed directly (tests check it equals the vectorizer's
        transform)."""
        counts: dict[int, int] = {}
        column = self._column
        for gram in char_wb_ngrams(fold(text)):
            j = column.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return np.zeros(len(self.labels), dtype=np.float32)
        cols = np.fromiter(counts, dtype=np.int64, count=len(counts))
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))
        x = tf * self.idf[cols]
        x /= np.sqrt(np.dot(x, x))
        return x @ self._gram_w[cols]

    def logits(self, vectors: np.ndarray, texts: list[str],
               hits: list[list[tuple[str, str]]] | None = None) -> np.ndarray:
        """Raw scores; `hits` are the texts' rule hits when already known."""
        rules = rule_features(texts, hits, self._rule_column)
        lexical = np.vstack([self.lexical_logits(t) for t in texts])
        return vectors @ self._dense_w + lexical + rules @ self._rule_w + self.bias

    def probabilities(self, vectors: np.ndarray, texts: list[str],
                      hits: list[list[tuple[str, str]]] | None = None) -> np.ndarray:
        """Calibrated label probabilities, one row per (vector, text)."""
        logits = self.logits(vectors, texts, hits) / self.temperature
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def save(self, path: Path = HEAD_PATH) -> None:
        meta = {**self.meta, "labels": list(self.labels), "temperature": self.temperature,
                "thresholds": self.thresholds}
        np.savez_compressed(
            path, weights=self.weights.astype(np.float32), bias=self.bias.astype(np.float32),
            idf=self.idf.astype(np.float32), vocabulary=np.asarray(self.vocabulary, dtype=str),
            meta=np.asarray(json.dumps(meta, sort_keys=True)))

    @classmethod
    def load(cls, path: Path = HEAD_PATH) -> Head:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: z[k] for k in ("weights", "bias", "idf")}
            vocabulary = [str(v) for v in z["vocabulary"]]
        return cls(arrays["weights"], arrays["bias"], tuple(meta.pop("labels")),
                   float(meta.pop("temperature")), dict(meta.pop("thresholds")), vocabulary,
                   arrays["idf"], meta)


@dataclass
class Verdict:
    """What the classifier read in a message."""

    label: str
    probabilities: dict[str, float]  # of the whole message
    unit: str | None = None  # the sentence that decided, when it was not the whole message
    unit_probabilities: dict[str, float] | None = None
    units: int = 1
    # The whole message's embedding: the answerer's ranker reads it too, so the question is
    # embedded once by this encoder.
    vector: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "label": self.label,
            "probabilities": {k: round(v, 3) for k, v in self.probabilities.items()},
            "units": self.units,
        }
        if self.unit is not None:
            out["unit"] = self.unit[:200]
            out["unit_probabilities"] = {k: round(v, 3)
                                         for k, v in (self.unit_probabilities or {}).items()}
        return out


def units_of(text: str) -> list[str]:
    """The sentences of a long message (short fragments joined to the next), at most UNIT_MAX;
    beyond that, wider windows of consecutive sentences, so the whole text is still read."""
    if len(text.split()) < UNIT_MIN_WORDS:
        return []
    parts, buf = [], ""
    for piece in _SENTENCE.split(text):
        buf = f"{buf} {piece}".strip() if buf else piece.strip()
        if len(buf.split()) >= 4:
            parts.append(buf)
            buf = ""
    if buf:
        if parts:
            parts[-1] = f"{parts[-1]} {buf}"
        else:
            parts.append(buf)
    # A run-on "sentence" (no punctuation) is read in windows of UNIT_WORDS words.
    parts = [" ".join(words[i:i + UNIT_WORDS]) for p in parts
             for words in [p.split()] for i in range(0, len(words), UNIT_WORDS)]
    if len(parts) > UNIT_MAX:
        width = -(-len(parts) // UNIT_MAX)
        parts = [" ".join(parts[i:i + width]) for i in range(0, len(parts), width)]
    return parts


class MessageClassifier:
    """Labels a message with the head over an embedding model (any LangChain Embeddings)."""

    def __init__(self, encoder: Any, head: Head) -> None:
        self.encoder = encoder
        self.head = head

    def _embed(self, texts: list[str]) -> np.ndarray:
        if hasattr(self.encoder, "embed_array"):
            return np.asarray(self.encoder.embed_array(texts), dtype=np.float32)
        return np.asarray(self.encoder.embed_documents(texts), dtype=np.float32)

    def classify(self, text: str, vector: list[float] | np.ndarray | None = None,
                 hits: list[tuple[str, str]] | None = None) -> Verdict:
        """The label of `text`; `vector` is its embedding by this encoder if already made,
        `hits` its rule hits if already found."""
        units = units_of(text)
        if vector is None:
            vectors = self._embed([text, *units])
        else:
            rest = self._embed(units) if units else np.zeros((0, len(vector)), np.float32)
            vectors = np.vstack([np.asarray(vector, dtype=np.float32)[None, :], rest])
        probs = self.head.probabilities(vectors, [text, *units], [hits, *([None] * len(units))])
        labels = self.head.labels
        whole = dict(zip(labels, map(float, probs[0]), strict=True))
        verdict = Verdict(self._label(whole, ""), whole, units=len(units) + 1,
                          vector=vectors[0])
        if verdict.label in EMERGENCY or not units:
            return verdict
        # The most severe sentence, if it says more than the whole message does.
        rank = {label: i for i, label in enumerate(LABELS)}
        for i, row in enumerate(probs[1:]):
            unit = dict(zip(labels, map(float, row), strict=True))
            label = self._label(unit, "unit:")
            if label in GROUP_LABELS and rank[label] < rank[verdict.label]:
                verdict = Verdict(label, whole, units[i], unit, len(units) + 1, vectors[0])
        return verdict

    def _label(self, p: dict[str, float], prefix: str) -> str:
        """The most severe group whose probability mass clears its threshold, else the
        likeliest of care, pass and out_of_scope."""
        th = self.head.thresholds
        for group, members in GROUPS:
            if sum(p[m] for m in members) >= th.get(prefix + group, th[group]):
                return max(EMERGENCY, key=p.__getitem__) if group == "emergency" else group
        return max(FALLBACK, key=p.__getitem__)
