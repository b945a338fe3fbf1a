"""The answerer's learned sentence ranker (assistant/answer/ranker.py): the committed weights
match the questions they were trained on and the code that trains them, and they change
which sentence is quoted where the hand-set order quotes the wrong one."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from assistant.answer.ranker import FEATURES, Candidates, SentenceRanker, feature_matrix
from assistant.service import Assistant
from assistant.training import ranker as train_ranker


def test_the_committed_ranker_matches_its_training_questions(assistant) -> None:
    ranker = SentenceRanker.load()
    assert ranker is not None, "run: python -m assistant train-ranker"
    questions = train_ranker.tuning_questions()
    assert ranker.meta["data_sha256"] == train_ranker.digest(questions), \
        "the tuning questions changed: run python -m assistant train-ranker"
    assert tuple(ranker.meta["features"]) == FEATURES
    assert ranker.meta["encoder"] == assistant.guardrails.encoder_name
    # No test part is ever learned from.
    assert not any(q.id.startswith("q-test") for q in questions)
    assert assistant.answerer.ranker is not None


def test_features_are_read_in_their_named_order() -> None:
    c = Candidates(["It was 2021.", "Not at all."], np.asarray([0.5, 0.2]),
                   np.asarray([0.4, 0.1]), np.asarray([1.0, 0.5]), np.asarray([1.0, 0.0]),
                   np.asarray([0.0, 2.0]))
    x = feature_matrix(c, "yes_no")
    col = {f: x[:, i] for i, f in enumerate(FEATURES)}
    assert col["meaning_gap"].tolist() == [0.0, pytest.approx(-0.3)]
    assert col["negation_yes_no"].tolist() == [0.0, 1.0]
    assert col["has_digit"].tolist() == [1.0, 0.0]
    assert col["passage_rank"].tolist() == [1.0, pytest.approx(1 / 3)]
    assert feature_matrix(c, "when")[:, FEATURES.index("negation_yes_no")].tolist() == [0, 0]


def test_the_ranker_quotes_the_sentence_that_answers(assistant) -> None:
    """"Has the plan thought about its victims?": the hand-set order quotes only why the
    plan was created, the sentence that names the plan; the ranker quotes the one on "the
    problem and its victims"."""
    question = "Has the crack plan thought about its victims?"
    a = assistant.ask(question)
    assert a.kind == "answer", a.text
    assert a.trace["answerer"]["order"] == "ranker"
    assert any("its victims" in c.quote for c in a.citations), a.citations
    ranker = assistant.answerer.ranker
    try:
        assistant.answerer.ranker = None
        hand = assistant.ask(question)
    finally:
        assistant.answerer.ranker = ranker
    assert hand.trace["answerer"]["order"] == "hand-set"
    assert not any("its victims" in c.quote for c in hand.citations), hand.citations


@pytest.mark.slow
def test_training_reproduces_the_committed_ranker() -> None:
    saved = SentenceRanker.load()
    assert saved is not None
    with tempfile.TemporaryDirectory() as tmp:
        settings = train_ranker.bilingual_settings(Path(tmp))
        settings.answer.ranker = False
        fresh, report = train_ranker.train(Assistant(settings, build_index=False))
    assert report["questions"] == saved.meta["questions"] >= 100
    assert report["top1_ranker"] > report["top1_hand_set"]
    # Another CPU's BLAS rounds differently; the weights must agree to well within that.
    assert np.allclose(fresh.coef, saved.coef, atol=1e-3), (fresh.coef, saved.coef)
    assert np.allclose(fresh.mean, saved.mean, atol=1e-4)
