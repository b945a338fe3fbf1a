"""Follow-up questions are rewritten with the previous user turn; others stay unchanged."""

from __future__ import annotations

import pytest

from assistant.answer.flow import AFTER_NEXT, NEXT, PART_QUOTED, REPEATED, PreviousReply, flow
from assistant.search.followup import rewrite_question


def history(*questions: str) -> list[dict[str, str]]:
    out = []
    for q in questions:
        out.append({"role": "user", "content": q})
        out.append({"role": "assistant", "content": "Some reply [1]."})
    return out


SITES = "Which sites did Hidalgo propose?"


@pytest.mark.parametrize(
    ("previous", "question", "expected"),
    [
        (SITES, "and in the 19th?", "Which sites did Hidalgo propose in the 19th?"),
        (SITES, "And in the 19th arrondissement?",
         "Which sites did Hidalgo propose in the 19th arrondissement?"),
        (SITES, "what about the Grands Boulevards?",
         "Which sites did Hidalgo propose, the Grands Boulevards?"),
        ("How many reception places are open in the 18th arrondissement?", "and the 19th?",
         "How many reception places are open in the 19th arrondissement?"),
        ("Quels sites Anne Hidalgo a-t-elle proposés ?", "Et dans le 19e ?",
         "Quels sites Anne Hidalgo a-t-elle proposés dans le 19e ?"),
        ("Combien de salles de consommation à Paris ?", "et pour Marseille ?",
         "Combien de salles de consommation à Marseille ?"),
        ("How many crack users died in Marseille in 2022?", "in 2023?",
         "How many crack users died in Marseille in 2023?"),
        # who acts: the fragment takes the place of the institution or role, article and all
        ("How many complaints did Inserm get?", "and the drug observatory?",
         "How many complaints did the drug observatory get?"),
        ("Que pense le ministère des salles de consommation ?", "et la mairie ?",
         "Que pense la mairie des salles de consommation ?"),
        # a question of its own still swaps a place
        ("How many reception places are open in the 18th arrondissement?",
         "and how many in the 19th?",
         "How many reception places are open in the 19th arrondissement?"),
    ],
)
def test_elliptical_follow_ups_carry_the_previous_topic(
    previous: str, question: str, expected: str
) -> None:
    rewritten, why = rewrite_question(question, history(previous))
    assert rewritten == expected
    assert why and "unchanged" not in why


def test_pronoun_follow_up_gets_the_previous_topic_words() -> None:
    previous = "What did the health ministry conclude about the consumption rooms?"
    rewritten, why = rewrite_question("Who wrote it?", history(previous))
    assert rewritten.startswith("Who wrote it")
    for word in ("health", "ministry", "consumption", "rooms"):
        assert word in rewritten
    assert "carried over" in why


def test_chained_follow_ups_resolve_against_the_rewritten_previous_turn() -> None:
    rewritten, _ = rewrite_question("and in the 20th?", history(SITES, "and in the 19th?"))
    assert rewritten == "Which sites did Hidalgo propose in the 20th?"


def test_only_user_turns_are_used() -> None:
    h = [
        {"role": "user", "content": SITES},
        {"role": "assistant", "content": "The 18th arrondissement and the XXth [1]."},
    ]
    rewritten, _ = rewrite_question("and in the 19th?", h)
    assert rewritten == "Which sites did Hidalgo propose in the 19th?"


@pytest.mark.parametrize(
    "question",
    [
        "What does Charonnes hand out from his van?",
        "Where can I get help to stop using crack in Paris?",
        "Is there a consumption room in Paris?",
        "Who did the mayor of Paris send her letter to?",
        "What is crack?",
        "Combien de lieux d'accueil sont ouverts dans le 18e arrondissement ?",
        "How many complaints did Inserm receive from crack users refused care?",
    ],
)
def test_self_contained_questions_are_unchanged(question: str) -> None:
    rewritten, why = rewrite_question(question, history(SITES))
    assert rewritten == question
    assert "unchanged" in why


@pytest.mark.parametrize("h", [None, [], [{"role": "assistant", "content": "Hello"}]])
def test_no_previous_question_means_no_rewrite(h: list[dict[str, str]] | None) -> None:
    assert rewrite_question("and in the 19th?", h) == (
        "and in the 19th?",
        "no earlier question in the conversation",
    )


def test_a_carried_topic_helps_retrieval_but_is_not_a_name_to_quote() -> None:
    from assistant.answer.extractive import named_terms
    from assistant.search.retrieval import make_query
    from assistant.settings import RetrievalSettings

    rewritten, _ = rewrite_question(
        "is she running for president?",
        history("What did Hidalgo send Castex?", "what is she asking for the 18th?"))
    assert "Hidalgo" in rewritten and "18th" in rewritten  # retrieval sees the topic
    s = RetrievalSettings()
    assert not named_terms(make_query(rewritten, "en", s))  # the carried names are context
    # The question's own names still count, in the same shape of question.
    own = named_terms(make_query("is she running against Dati (Hidalgo 18th)?", "en", s))
    assert set(own.values()) == {"Dati"}


def test_the_previous_reply_marks_what_was_quoted_and_what_follows() -> None:
    reply = PreviousReply('From the sources: no one has been able to do anything about the '
                          'market. [1] She offers “two sites in the Grands Boulevards”.')
    assert reply.state("no one has been able to do anything about the market.") == REPEATED
    assert reply.state("two sites in the Grands Boulevards district, and one in the 19th."
                       ) == PART_QUOTED
    assert reply.state("the market is a force of nature.") == 0.0
    # Mostly quoted already: little of it is left unsaid.
    audit = PreviousReply('In December 2021: "En décembre 2021, la Cour des comptes et la CRC '
                          'ont rendu un « audit flash »" [1]')
    assert audit.state("En décembre 2021, la Cour des comptes et la CRC ont rendu un « audit "
                       "flash » sur le plan crack.") == REPEATED
    # Quoted without quote marks, across a sentence end, counts the same; three words
    # in common are chance, not quoting.
    plain = PreviousReply("Sources say the plan crack cost 25 million euros. It was renewed.")
    assert plain.state("The plan crack cost 25 million euros, it was renewed in 2022."
                       ) == REPEATED
    assert plain.state("The plan crack is a failure, say the residents.") == 0.0
    assert flow(0.0, [REPEATED]) == NEXT and flow(0.0, [0.0, REPEATED]) == AFTER_NEXT
    assert flow(REPEATED, [REPEATED]) == REPEATED and flow(0.0, []) == 0.0
    assert not PreviousReply("")


def test_a_follow_up_is_answered_by_what_comes_next_not_by_the_same_quote(assistant) -> None:
    """"why not?" after the sentence that no one could act on the market: the next sentence
    says why; without the conversation's flow the same quote came back."""
    first = "Has anyone managed to act on the drug market in the last 30 years?"
    a = assistant.ask(first)
    assert a.kind == "answer" and "no one has been able" in a.text, a.text
    turns = [{"role": "user", "content": first}, {"role": "assistant", "content": a.text}]
    b = assistant.ask("why not?", turns)
    assert b.kind == "answer", b.text
    assert "force of nature" in b.text, b.text
    # Staff see each quoted sentence's place in the conversation.
    assert [s["flow"] for s in b.trace["answerer"]["sentences"]] == [NEXT], b.trace["answerer"]


def test_a_follow_up_asking_its_own_question_keeps_it() -> None:
    """"and how many did the observatory get?" is not a piece of the previous question: it
    keeps its own words and gets the previous topic, never "How many complaints has how
    many did the observatory get received?"."""
    rewritten, why = rewrite_question("and how many did the observatory get, exactly?",
                                      history("How many complaints has Inserm received?"))
    assert rewritten.startswith("and how many did the observatory get, exactly ("), rewritten
    assert "complaints" in rewritten and "Inserm" in rewritten, rewritten
    assert "carried over topic" in why
