"""The learned answer check (assistant/answer/check.py): the committed head matches the
questions it was trained on and the ranker it reads, and it turns away a quote on the right
subject that does not hold what was asked, while answerable questions are still answered."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from assistant.answer.check import CHECK_FEATURES, check_features, figure_counts, question_nouns
from assistant.answer.ranker import SentenceRanker
from assistant.service import Assistant
from assistant.training import check as train_check
from assistant.training import ranker as train_ranker


def test_the_committed_check_matches_its_training_questions(assistant) -> None:
    check = SentenceRanker.load(train_check.CHECK_PATH, CHECK_FEATURES)
    assert check is not None, "run: python -m assistant train-check"
    questions = train_ranker.tuning_questions("answer") + \
        train_ranker.tuning_questions("no_answer")
    assert check.meta["data_sha256"] == train_ranker.digest(questions), \
        "the tuning questions changed: run python -m assistant train-check"
    assert not any(q.id.startswith("q-test") for q in questions)
    assert check.meta["ranker"] == assistant.answerer.ranker.fingerprint(), \
        "the ranker changed: run python -m assistant train-check"
    assert 0.0 < check.meta["floor"] < 1.0


def test_a_figure_counts_the_question_s_own_noun() -> None:
    nouns = question_nouns("Combien d'associations ont participé à la réunion ?")
    assert figure_counts("Douze associations étaient présentes.", nouns)
    assert not figure_counts("the mayor presented “four solutions” to associations", nouns)
    assert figure_counts("a site with 200 places", question_nouns("How many places?"))


def test_features_are_read_in_their_named_order() -> None:
    x = check_features("How many places will it have?",
                       [(0.9, 0.5, 0.4, 0.6, 1.0), (0.3, 0.2, 0.2, 0.1, 0.0)], 0.5, 0.8,
                       0.45, 3, ["It will have 200 places."])
    col = dict(zip(CHECK_FEATURES, x, strict=True))
    assert col["margin"] == pytest.approx(0.6)
    assert col["figure_missing"] == 0.0
    assert col["n_quoted"] == 1.0 and col["quoted_terms"] == 0.5
    y = check_features("How many places will it have?",
                       [(0.9, 0.5, 0.4, 0.6, 1.0)], 0.5, 0.8, 0.45, 3,
                       ["It has four sites."])
    assert dict(zip(CHECK_FEATURES, y, strict=True))["figure_missing"] == 1.0


def test_with_the_check_on_answers_pass_it_and_staff_see_it(assistant) -> None:
    check = SentenceRanker.load(train_check.CHECK_PATH, CHECK_FEATURES)
    assert assistant.answerer.check is None  # off by default (settings.answer.check)
    settings = assistant.answerer.settings
    floor = settings.check_floor
    assistant.answerer.check = check
    # The trained floor keeps every tuning answer and so turns few drafts away; this tests
    # the mechanism at a floor of its own.
    settings.check_floor = 0.5
    try:
        a = assistant.ask("How often are Charonnes' officers on call?")
        # A place the documents never give (a tuning question).
        b = assistant.ask("Which metro station is closest to the site Hidalgo proposed in "
                          "the 20th arrondissement?")
    finally:
        assistant.answerer.check = None
        settings.check_floor = floor
    assert a.kind == "answer", a.text
    assert a.trace["answerer"]["answer_check"] >= 0.5
    assert b.kind == "no_answer", b.text
    assert "do not seem to answer" in b.trace["answerer"]["decision"]
    assert b.trace["answerer"]["answer_check"] < 0.5


@pytest.mark.slow
def test_training_reproduces_the_committed_check() -> None:
    saved = SentenceRanker.load(train_check.CHECK_PATH, CHECK_FEATURES)
    assert saved is not None
    with tempfile.TemporaryDirectory() as tmp:
        settings = train_ranker.bilingual_settings(Path(tmp))
        settings.answer.check = False
        fresh, report = train_check.train(Assistant(settings, build_index=False))
    assert report["drafts"] == saved.meta["drafts"]
    assert report["answering"] == saved.meta["answering"]
    # The floor keeps almost every answer in cross-validation and catches some non-answers.
    assert report["cv_lost"] <= 0.03 * report["answering"]
    assert report["cv_caught"] > 0
    assert np.allclose(fresh.coef, saved.coef, atol=1e-3), (fresh.coef, saved.coef)
