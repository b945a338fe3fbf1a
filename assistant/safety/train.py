"""Train the guard's head: `python -m assistant train-guard` (or `make train-guard`).

Reads the labelled messages in assistant/safety/training/train_*.jsonl, embeds them with the
guard's encoder, adds character n-gram TF-IDF features of the folded text, fits one
multinomial logistic regression over both (scikit-learn, deterministic), then calibrates it
and sets the thresholds:

- a temperature fitted on 5-fold out-of-fold logits (the probabilities staff see mean what
  they say);
- thresholds on probability mass per group (classifier.GROUPS): for emergencies and
  distress, the highest threshold that keeps RECALL of them on the out-of-fold messages and
  the separately written validation set (training/validation.jsonl) together; for
  refusals, the lowest that flags at most FP_BUDGET of the other out-of-fold messages, and
  never under FLOOR.

A long message is also read sentence by sentence (classifier.units_of), and a sentence taken
out of a story or a calm post ("Après je ferai la suite moi-même.") can read like a crisis.
So the sentences of the long care, subject and unrelated posts are learned too (not
distress posts': learning them as distress cost short crises their emergency reply),
with their post's label at UNIT_WEIGHT (their posts hold no crisis, so none of their
sentences does), and the sentence thresholds are set on out-of-fold sentence scores: each
post's sentences are scored by a head that saw neither the post nor them.

The test split (tests/data/guard_test.jsonl) is never read here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.safety.classifier import (
    GROUPS,
    HEAD_PATH,
    KIND_OF,
    LABELS,
    Head,
    MessageClassifier,
    lexical_vectorizer,
    sparse_features,
    units_of,
)
from assistant.safety.rules import RULE_NAMES, normalise, rule_hits
from assistant.text.language import fold

DATA_DIR = Path(__file__).resolve().parent / "training"
VALIDATION = DATA_DIR / "validation.jsonl"
ENCODER = "use:multilingual-v3"
C = 8.0
FOLDS = 5
# Emergencies and distress: the share of them the threshold must catch, out of fold and on
# the validation set together.
RECALL = {"emergency": 0.95, "care_distress": 0.97}
# Refusal: the share of other messages its threshold may flag.
FP_BUDGET = {"refusal": 0.015}
UNIT_FP_BUDGET = 0.05  # long messages flagged by one sentence when the whole says otherwise
# The labels whose long posts' sentences are learned with the post's label, and their weight.
UNIT_LABELS = ("care", "pass", "out_of_scope")
UNIT_WEIGHT = 0.5
# A refusal is only given on a clear majority reading: over-refusing a question about
# risks turns away the people harm reduction is for.
FLOOR = {"refusal": 0.6}


def read_rows(paths: list[Path]) -> list[dict]:
    rows = []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("label") not in LABELS or not str(row.get("text", "")).strip():
                raise ValueError(f"{path.name}:{n}: bad label or empty text")
            rows.append(row)
    return rows


def training_paths(data_dir: Path = DATA_DIR) -> list[Path]:
    return sorted(data_dir.glob("train_*.jsonl"))


def digest(rows: list[dict]) -> str:
    """SHA-256 of the (label, text) pairs, order-free: what the head was trained on."""
    lines = sorted(f"{r['label']}\t{r['text']}" for r in rows)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def _features(dense: np.ndarray, texts: list[str], vectorizer: Any) -> Any:
    from scipy.sparse import csr_matrix, hstack

    return hstack([csr_matrix(dense), sparse_features(texts, vectorizer)]).tocsr()


def _fit(dense: np.ndarray, texts: list[str], y: np.ndarray, c: float,
         weight: np.ndarray | None = None) -> tuple[Any, Any]:
    """(vectorizer, model) fitted on these messages."""
    from sklearn.linear_model import LogisticRegression

    vectorizer = lexical_vectorizer().fit([fold(t) for t in texts])
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000, tol=1e-6)
    model.fit(_features(dense, texts, vectorizer), y, sample_weight=weight)
    return vectorizer, model


@dataclass
class Units:
    """The sentences of the long training messages, embedded once."""

    texts: list[str]
    dense: np.ndarray
    owner: np.ndarray  # index of the message each sentence comes from
    learned: np.ndarray  # bool: learned with its message's label (UNIT_LABELS)

    @classmethod
    def of(cls, encoder: Any, rows: list[dict]) -> Units:
        per_row = [units_of(r["text"]) for r in rows]
        texts = [u for us in per_row for u in us]
        owner = np.repeat(np.arange(len(rows)), [len(us) for us in per_row]).astype(int)
        dense = encoder.embed_array(texts) if texts else np.zeros((0, 1), np.float32)
        learned = np.asarray([rows[i]["label"] in UNIT_LABELS for i in owner], dtype=bool)
        return cls(texts, dense, owner, learned)


def _with_units(dense: np.ndarray, texts: list[str], y: np.ndarray, units: Units,
                keep: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """The messages, plus the learned sentences of those among them (`keep`: bool per
    message), with their sample weights."""
    pick = units.learned & keep[units.owner] if len(units.texts) else np.zeros(0, bool)
    idx = np.flatnonzero(pick)
    rows = np.flatnonzero(keep)
    all_dense = np.vstack([dense[rows], units.dense[idx]]) if len(idx) else dense[rows]
    all_texts = [texts[i] for i in rows] + [units.texts[i] for i in idx]
    all_y = np.concatenate([y[rows], y[units.owner[idx]]])
    weight = np.concatenate([np.ones(len(rows)), np.full(len(idx), UNIT_WEIGHT)])
    return all_dense, all_texts, all_y, weight


def _oof_logits(dense: np.ndarray, texts: list[str], y: np.ndarray, c: float,
                units: Units) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold logits of the messages and of their sentences: each scored by a head that
    saw neither the message nor any of its sentences."""
    from joblib import Parallel, delayed
    from sklearn.model_selection import StratifiedKFold

    out = np.zeros((len(y), len(LABELS)), dtype=np.float64)
    unit_out = np.zeros((len(units.texts), len(LABELS)), dtype=np.float64)
    folds = list(StratifiedKFold(FOLDS, shuffle=True, random_state=0).split(dense, y))
    # The folds are independent fits: one per core (the same numbers as one after another).
    scored = Parallel(n_jobs=min(FOLDS, os.cpu_count() or 1))(
        delayed(_fold)(dense, texts, y, c, units, fit_idx, held) for fit_idx, held in folds)
    for (_, held), (held_logits, mine, mine_logits) in zip(folds, scored, strict=True):
        out[held] = held_logits
        if len(mine):
            unit_out[mine] = mine_logits
    return out, unit_out


def _fold(dense: np.ndarray, texts: list[str], y: np.ndarray, c: float, units: Units,
          fit_idx: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One fold: the held-out messages' logits, and those of the sentences of held-out
    messages (their indexes, their logits)."""
    keep = np.zeros(len(y), dtype=bool)
    keep[fit_idx] = True
    d, tx, yy, w = _with_units(dense, texts, y, units, keep)
    vec, model = _fit(d, tx, yy, c, w)
    held_logits = model.decision_function(_features(dense[held], [texts[i] for i in held], vec))
    mine = np.flatnonzero(~keep[units.owner]) if len(units.texts) else np.zeros(0, np.int64)
    mine_logits = model.decision_function(
        _features(units.dense[mine], [units.texts[i] for i in mine], vec)) if len(mine) else \
        np.zeros((0, len(LABELS)))
    return held_logits, mine, mine_logits


def _softmax(logits: np.ndarray, t: float) -> np.ndarray:
    z = logits / t
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def _temperature(logits: np.ndarray, y: np.ndarray) -> float:
    grid = np.round(np.arange(0.3, 3.01, 0.05), 2)
    nll = [-np.log(_softmax(logits, t)[np.arange(len(y)), y] + 1e-12).mean() for t in grid]
    return float(grid[int(np.argmin(nll))])


def _mass(p: np.ndarray, labels: tuple[str, ...]) -> np.ndarray:
    return p[:, [LABELS.index(m) for m in labels]].sum(axis=1)


def lowest_within(mass: np.ndarray, negative: np.ndarray, budget: float) -> float:
    """The lowest threshold (two decimals) flagging at most `budget` of the negatives."""
    for t in np.round(np.arange(0.05, 0.96, 0.01), 2):
        if not negative.any() or (mass[negative] >= t).mean() <= budget:
            return float(t)
    return 0.95


def highest_keeping(mass: np.ndarray, positive: np.ndarray, recall: float) -> float:
    """The highest threshold (two decimals) that still flags `recall` of the positives."""
    for t in np.round(np.arange(0.95, 0.04, -0.01), 2):
        if not positive.any() or (mass[positive] >= t).mean() >= recall:
            return float(t)
    return 0.05


def _thresholds(p: np.ndarray, y: np.ndarray, p_val: np.ndarray | None,
                y_val: np.ndarray | None) -> dict[str, float]:
    """Emergency and distress: the highest threshold keeping RECALL of them on the
    out-of-fold messages and the validation set (written apart from the training data)
    together. Refusal: the lowest threshold within its false-alarm budget, never under its
    floor."""
    out = {}
    for group, members in GROUPS:
        inside = np.isin(y, [LABELS.index(m) for m in members])
        if group in RECALL:
            # Out-of-fold and validation together: a threshold set on the validation set's
            # 135 emergencies alone moved from 0.34 to 0.56 when two rules were added.
            pp, yy = (np.vstack([p, p_val]), np.concatenate([y, y_val])) \
                if p_val is not None else (p, y)
            inside_v = np.isin(yy, [LABELS.index(m) for m in members])
            out[group] = highest_keeping(_mass(pp, members), inside_v, RECALL[group])
        else:
            out[group] = max(FLOOR.get(group, 0.0),
                             lowest_within(_mass(p, members), ~inside, FP_BUDGET[group]))
    return out


@dataclass
class Report:
    rows: int
    validation: int
    seconds: float
    oof_accuracy: float
    validation_accuracy: float
    head: Head

    def lines(self) -> list[str]:
        h = self.head
        return [
            f"trained on {self.rows} messages in {self.seconds:.1f} s "
            f"(encoder {h.meta['encoder']}, data sha256 {h.meta['data_sha256'][:12]})",
            f"temperature {h.temperature}; thresholds {h.thresholds}",
            f"rules that decide alone: {', '.join(h.meta['override_rules']) or 'none'}",
            f"out-of-fold accuracy {self.oof_accuracy:.3f}; "
            f"validation ({self.validation} messages) accuracy {self.validation_accuracy:.3f}",
        ]


def train(encoder: Any, data_dir: Path = DATA_DIR, c: float = C,
          encoder_name: str = ENCODER) -> Report:
    """Fit, calibrate and set thresholds; returns the head (not saved) and its figures."""
    t0 = time.perf_counter()
    rows = read_rows(training_paths(data_dir))
    val_path = data_dir / VALIDATION.name
    val_rows = read_rows([val_path]) if val_path.exists() else []
    texts = [r["text"] for r in rows]
    dense = encoder.embed_array(texts)
    y = np.asarray([LABELS.index(r["label"]) for r in rows])
    units = Units.of(encoder, rows)
    oof, unit_oof = _oof_logits(dense, texts, y, c, units)
    t = _temperature(oof, y)
    every = np.ones(len(y), dtype=bool)
    d, tx, yy, w = _with_units(dense, texts, y, units, every)
    vectorizer, model = _fit(d, tx, yy, c, w)
    head = Head(model.coef_.astype(np.float32), model.intercept_.astype(np.float32), LABELS, t,
                {}, [str(v) for v in vectorizer.get_feature_names_out()],
                vectorizer.idf_.astype(np.float32),
                {"encoder": encoder_name, "data_sha256": digest(rows), "rows": len(rows), "C": c,
                 "units_learned": int(units.learned.sum())})
    p_val = y_val = None
    if val_rows:
        v_texts = [r["text"] for r in val_rows]
        p_val = head.probabilities(encoder.embed_array(v_texts), v_texts)
        y_val = np.asarray([LABELS.index(r["label"]) for r in val_rows])
    head.thresholds = _thresholds(_softmax(oof, t), y, p_val, y_val)
    head.meta["override_rules"] = override_rules(rows + val_rows)
    classifier = MessageClassifier(encoder, head)
    val_units = Units.of(encoder, val_rows)
    unit_p = np.vstack([_softmax(unit_oof, t).reshape(-1, len(LABELS)),
                        head.probabilities(val_units.dense, val_units.texts)
                        if len(val_units.texts) else np.zeros((0, len(LABELS)))])
    owners = np.concatenate([units.owner, val_units.owner + len(rows)])
    _unit_thresholds(head, rows + val_rows, unit_p, owners)
    oof_acc = float((np.argmax(oof, axis=1) == y).mean())
    val_acc = float(np.mean([classifier.classify(r["text"]).label == r["label"]
                             for r in val_rows])) if val_rows else float("nan")
    return Report(len(rows), len(val_rows), time.perf_counter() - t0, oof_acc, val_acc, head)


# Reply kinds from most to least severe: a rule whose kind is less severe than the truth does
# no harm (the more severe kind is decided first).
_SEVERITY = ("emergency", "refusal", "care", "out_of_scope", "pass")
OVERRIDE_PRECISION = 0.95
OVERRIDE_MIN_HITS = 5


def override_rules(rows: list[dict]) -> list[str]:
    """Rules precise enough on the labelled messages to decide alone: at least
    OVERRIDE_MIN_HITS hits, and at least OVERRIDE_PRECISION of them with the rule's kind or a
    more severe one. The other rules are features and explanations only."""
    hits: dict[str, list[bool]] = {name: [] for name in RULE_NAMES}
    for r in rows:
        truth = _SEVERITY.index(KIND_OF[r["label"]])
        for kind, name in set(rule_hits(normalise(r["text"]))):
            hits[f"{kind}: {name}"].append(truth <= _SEVERITY.index(kind))
    return [name for name, ok in hits.items()
            if len(ok) >= OVERRIDE_MIN_HITS and np.mean(ok) >= OVERRIDE_PRECISION]


def _unit_thresholds(head: Head, rows: list[dict], p: np.ndarray, owner: np.ndarray) -> None:
    """Sentence-level thresholds: the lowest that flag at most UNIT_FP_BUDGET of the long
    messages outside the group through any one of their sentences (never under the
    whole-message threshold). `p`: each sentence's probabilities from a head that did not
    learn it (out of fold, or the validation set's); `owner`: its message in `rows`."""
    long_rows = np.unique(owner)
    if not len(long_rows):
        return
    where = {r: i for i, r in enumerate(long_rows)}
    slot = np.asarray([where[o] for o in owner])
    for group, members in GROUPS:
        best = np.zeros(len(long_rows))
        np.maximum.at(best, slot, _mass(p, members))
        negative = np.asarray([rows[r]["label"] not in members for r in long_rows])
        head.thresholds[f"unit:{group}"] = max(
            head.thresholds[group], lowest_within(best, negative, UNIT_FP_BUDGET))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="assistant train-guard", description=__doc__)
    parser.add_argument("--out", type=Path, default=HEAD_PATH)
    parser.add_argument("--c", type=float, default=C, help="inverse regularisation strength")
    parser.add_argument("--encoder", default=ENCODER, help="the sentence encoder to train on")
    args = parser.parse_args(argv)
    from assistant.store.embeddings import get_embeddings

    report = train(get_embeddings(args.encoder), c=args.c, encoder_name=args.encoder)
    report.head.save(args.out)
    print("\n".join(report.lines()))
    print(f"saved {args.out}")
    return 0
