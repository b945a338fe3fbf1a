"""Train the answer check: `python -m assistant train-check`.

Asks the tuning questions (never a test part) over corpus/ (the English articles and the
French document), with the learned ranker and without the check, and records the check
features of every grounded draft. A draft is labelled as answering when its reply holds
every expected fact, as not answering when the question is one the documents do not answer;
answerable questions whose reply misses its facts are left out (neither label is true of
them). A logistic regression (scikit-learn, deterministic) is saved as
assistant/answer/check.npz with the floor: the highest one that, 5-fold cross-validated,
turns away at most `--max-lost` of the answering drafts.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from assistant.answer.check import CHECK_FEATURES, CHECK_PATH
from assistant.answer.ranker import SentenceRanker
from assistant.evaluation import Question, facts_ok
from assistant.training.ranker import bilingual_settings, digest, tuning_questions

C = 1.0
MAX_LOST = 0.0


def collect(assistant, questions: list[Question]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The check features of each question's grounded draft and whether it answers."""
    seen: list[np.ndarray] = []
    assistant.answerer.record_checks(lambda query, x: seen.append(x))
    xs, ys, ids = [], [], []
    for q in questions:
        seen.clear()
        answer = assistant.ask(q.question, q.history or None)
        if not seen or answer.kind != "answer":
            continue  # no grounded draft, or the reply is not an answer from the documents
        if q.expect == "answer":
            if not facts_ok(q, answer):
                continue
            ys.append(1)
        else:
            ys.append(0)
        xs.append(seen[-1])
        ids.append(q.id)
    return np.asarray(xs), np.asarray(ys), ids


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> SentenceRanker:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    model.fit((x - mean) / scale, y)
    return SentenceRanker(model.coef_[0], float(model.intercept_[0]), mean, scale)


def cross_validated(x: np.ndarray, y: np.ndarray, c: float, folds: int = 5) -> np.ndarray:
    """Each draft's probability from a head that never saw it (stratified, fixed seed)."""
    from sklearn.model_selection import StratifiedKFold

    p = np.zeros(len(y))
    for fit, held in StratifiedKFold(folds, shuffle=True, random_state=0).split(x, y):
        p[held] = _fit(x[fit], y[fit], c).probabilities(x[held])
    return p


def choose_floor(p: np.ndarray, y: np.ndarray, max_lost: float) -> float:
    """The highest floor that turns away at most `max_lost` of the answering drafts."""
    answering = np.sort(p[y == 1])
    k = int(np.floor(max_lost * len(answering)))
    return float(answering[k]) if len(answering) else 0.5


def train(assistant, c: float = C, max_lost: float = MAX_LOST) -> tuple[SentenceRanker, dict]:
    t0 = time.perf_counter()
    questions = tuning_questions("answer") + tuning_questions("no_answer")
    x, y, _ = collect(assistant, questions)
    p = cross_validated(x, y, c)
    floor = choose_floor(p, y, max_lost)
    check = _fit(x, y, c)
    ranker = assistant.answerer.ranker
    check.meta = {"features": list(CHECK_FEATURES), "floor": floor, "C": c,
                  "ranker": ranker.fingerprint() if ranker is not None else "",
                  "drafts": int(len(y)), "answering": int(y.sum()),
                  "data_sha256": digest(questions)}
    report = {"drafts": int(len(y)), "answering": int(y.sum()), "floor": round(floor, 3),
              "cv_lost": int(((p < floor) & (y == 1)).sum()),
              "cv_caught": int(((p < floor) & (y == 0)).sum()),
              "seconds": round(time.perf_counter() - t0, 1)}
    return check, report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="assistant train-check", description=__doc__)
    parser.add_argument("--out", type=Path, default=CHECK_PATH)
    parser.add_argument("--c", type=float, default=C, help="inverse regularisation strength")
    parser.add_argument("--max-lost", type=float, default=MAX_LOST,
                        help="share of answering drafts the floor may turn away (CV)")
    args = parser.parse_args(argv)
    from assistant.service import Assistant

    with tempfile.TemporaryDirectory() as tmp:
        settings = bilingual_settings(Path(tmp))
        settings.answer.check = False  # learn from the drafts the check would judge
        check, report = train(Assistant(settings, build_index=False), args.c, args.max_lost)
    check.save(args.out)
    negatives = report["drafts"] - report["answering"]
    print(f"trained on {report['drafts']} grounded drafts ({report['answering']} answering) "
          f"in {report['seconds']} s; floor {report['floor']}: 5-fold CV turns away "
          f"{report['cv_caught']} of {negatives} non-answers and {report['cv_lost']} of "
          f"{report['answering']} answers")
    print(f"saved {args.out}")
    return 0
