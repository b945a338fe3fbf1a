"""The check on written answers, with the real embedding model and real corpus passages.

The "model outputs" here are written by hand, to pin down what the check keeps and removes;
the tests that run the real language model are in test_written_answers.py.
"""

from __future__ import annotations

import pytest

from assistant.answer.grounding import (
    GroundingCheck,
    Source,
    cited_numbers,
    corpus_names,
    numbers_in,
    split_sentences,
    strip_markers,
)
from assistant.answer.written import renumber

PLACES = "the eight places of reception for drug addicts already open in the 18th arrondissement"
RIQUET = "symbolized by the daily grouping of drug addicts on rue Riquet since that time"
INSERM = "inserm has, meanwhile, received more than two dozen complaints from users of crack"


def _source(assistant, n: int, needle: str) -> Source:
    for doc_id, doc in assistant.documents.items():
        start = doc["text"].find(needle)
        if start >= 0:
            # The whole sentence around the needle, as the answerer would give it.
            s = doc["text"].rfind(". ", 0, start) + 2 if ". " in doc["text"][:start] else 0
            e = doc["text"].find(".", start + len(needle)) + 1
            return Source(n, doc_id, doc["title"], s, e, doc["text"][s:e], 0.8)
    raise AssertionError(f"not in the corpus: {needle}")


@pytest.fixture(scope="module")
def sources(assistant) -> list[Source]:
    return [_source(assistant, 1, PLACES), _source(assistant, 2, RIQUET),
            _source(assistant, 3, INSERM)]


@pytest.fixture(scope="module")
def check(assistant) -> GroundingCheck:
    a = assistant.settings.answer
    names = corpus_names([d["text"] for d in assistant.documents.values()])
    return GroundingCheck(assistant.embeddings, min_overlap=a.check_min_overlap,
                          min_cosine=a.check_min_cosine, strong_cosine=a.check_strong_cosine,
                          names=names)


def test_sources_are_exact_spans(assistant, sources):
    for s in sources:
        assert assistant.documents[s.doc_id]["text"][s.start : s.end] == s.text


def test_numbers_in_reads_digits_words_ordinals_and_roman_numerals():
    assert numbers_in("more than two dozen complaints") >= {2, 24}
    assert numbers_in("eight places in the 18th") == {8, 18}
    assert numbers_in("1,500 users since 2016.") == {1500, 2016}
    assert 20 in numbers_in("the XXth arrondissement", romans=True)
    assert numbers_in("huit lieux dans le 18e") == {8, 18}


def test_split_keeps_markers_with_their_sentence():
    text = "Eight places are open [1]. Drug users gather on rue Riquet. [2] More than 24 [3]."
    assert split_sentences(text) == [
        "Eight places are open [1].",
        "Drug users gather on rue Riquet. [2]",
        "More than 24 [3].",
    ]
    assert cited_numbers("a [1, 3] b [2][3]") == [1, 3, 2]
    assert strip_markers("Open in the 18th [1].") == "Open in the 18th."


def test_supported_paraphrases_are_kept(check, sources):
    written = (
        "Eight reception places for drug addicts are already open in the 18th arrondissement "
        "[1]. Drug addicts gather every day on rue Riquet [2]. Inserm received more than 24 "
        "complaints from crack users [3]."
    )
    result = check.check(written, sources, "en")
    assert [s.kept for s in result.sentences] == [True, True, True], [
        (s.text, s.reason) for s in result.sentences
    ]


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("Twelve reception places are open in the 18th arrondissement [1].", "figure 12"),
        ("Eight reception places are open in Marseille [1].", "'Marseille'"),
        ("Residents want a new swimming pool.", "cites no source"),
        ("Drug addicts gather on rue Riquet [7].", "[7], which is not a source"),
        ("For help, call 01 45 67 89 10 [1].", "contact details"),
        ("The police closed every metro station at night [2].", "not supported"),
        ("Inserm received more than 30 complaints [3].", "figure 30"),
        # True of the article, but the cited sentence does not name him: wrong attribution.
        ("Castex opened eight places in the 18th arrondissement [1].", "'Castex'"),
        ("Inserm did not receive any complaints from crack users [3].", "negation differs"),
        ("The eight places in the 18th arrondissement are not open [1].", "negation differs"),
    ],
)
def test_unsupported_sentences_are_removed_with_the_reason(check, sources, written, reason):
    result = check.check(written, sources, "en")
    assert len(result.sentences) == 1
    s = result.sentences[0]
    assert not s.kept
    assert reason in s.reason


def test_a_true_sentence_citing_the_wrong_source_gets_the_right_number(check, sources):
    result = check.check("Drug addicts gather every day on rue Riquet [3].", sources, "en")
    s = result.sentences[0]
    assert s.kept and s.cites == [2]
    assert s.text == "Drug addicts gather every day on rue Riquet [2]."
    assert "citation corrected" in s.reason


def test_a_supported_sentence_without_a_marker_gets_one(check, sources):
    result = check.check("Drug addicts gather every day on rue Riquet.", sources, "en")
    s = result.sentences[0]
    assert s.kept and s.cites == [2] and s.text.endswith("rue Riquet [2].")
    assert "citation added" in s.reason


def test_statements_about_the_passages_lose_their_lead_in_or_are_removed(check, sources):
    result = check.check(
        "The passage states that eight places of reception are already open in the 18th "
        "arrondissement [1]. Passages 1 and 2 both mention drug addicts [1].",
        sources, "en",
    )
    first, second = result.sentences
    assert first.kept and first.text.startswith("Eight places of reception")
    assert not second.kept and "talks about the passages" in second.reason


def test_french_sentences_are_checked_through_the_glossary(check, sources):
    written = ("Huit lieux d'accueil pour toxicomanes sont déjà ouverts dans le 18e "
               "arrondissement [1]. Douze lieux sont ouverts à Marseille [1].")
    result = check.check(written, sources, "fr")
    assert [s.kept for s in result.sentences] == [True, False], [
        (s.text, s.reason) for s in result.sentences
    ]


def test_renumber_gives_exact_citations_in_order_of_use(assistant, sources):
    text, citations = renumber(["Inserm got complaints [3].", "Places are open [1][3]."],
                               sources)
    assert text == "Inserm got complaints [1]. Places are open [2][1]."
    assert [c.quote for c in citations] == [sources[2].text, sources[0].text]
    for c in citations:
        assert assistant.documents[c.doc_id]["text"][c.start : c.end] == c.quote


def test_a_sentence_that_only_restates_the_question_is_removed(check, sources):
    result = check.check(
        "Drug addicts gather on rue Riquet [2].", sources, "en",
        question="Where do drug addicts gather on rue Riquet?",
    )
    assert not result.sentences[0].kept
    assert result.sentences[0].reason == "only restates the question"
