"""Answer types: what a question asks for, what a sentence holds, and the sentence it picks."""

from __future__ import annotations

import pytest

from assistant.answer.answer_types import (
    answer_match,
    asked_kinds,
    asked_things,
    asks_exact,
    asks_for_figure,
    asks_money,
    asks_sum,
    counted_words,
    counts_money,
    counts_things,
    figure_followers,
    gives_count,
    holds,
    kind_words,
    learn_names,
    only_sums,
    question_type,
    question_words,
    speakers,
    spoken_to_only,
)
from assistant.search.retrieval import make_query
from assistant.text.analysis import lexical_tokens
from assistant.text.language import detect_language, words


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # how often: English, French with and without accents, SMS
        ("How often does the outreach van come round?", "how_often"),
        ("À quelle fréquence passe la maraude ?", "how_often"),
        ("a quelle frequence passe la maraude", "how_often"),
        ("tous les cb ils passent ?", "how_often"),
        ("Combien de fois par semaine le bus passe-t-il ?", "how_often"),
        # until when
        ("Until when will the trial run?", "until"),
        ("Jusqu'à quand dure l'expérimentation ?", "until"),
        ("jusqua quand ca dure", "until"),
        # when
        ("When did the camp close?", "when"),
        ("Quand le camp a-t-il fermé ?", "when"),
        ("kan ca ferme le camp", "when"),
        ("In what year did the centre open?", "when"),
        # how long: not a count, though it says "combien"
        ("How long has the centre been open?", "how_long"),
        ("depuis combien de temps c'est ouvert", "how_long"),
        ("Combien de temps ça dure ?", "how_long"),
        # how many
        ("How many beds does the shelter have?", "how_many"),
        ("Combien de lits y a-t-il au foyer ?", "how_many"),
        ("cb de lits au foyer", "how_many"),
        ("What is the number of places in the shelter?", "how_many"),
        # who; "qui" opening a relative clause asks no one
        ("Who runs the shelter?", "who"),
        ("Qui gère le foyer ?", "who"),
        ("ki gere le foyer", "who"),
        ("Ils viennent avec qui ?", "who"),
        ("Quel organisme finance le foyer ?", "who"),
        ("Qu'est-ce qui a changé au foyer ?", ""),
        # which
        ("Which word does the report use for the camp?", "which"),
        ("Quel terme le rapport emploie-t-il ?", "which"),
        # where; "ou" without its accent is also "or"
        ("Where do the users gather?", "where"),
        ("Où se regroupent les usagers ?", "where"),
        ("ou se regroupent les usagers", "where"),
        ("le foyer c ou ?", "where"),
        ("Dans quel quartier se trouve le foyer ?", "where"),
        ("le foyer ça marche ou pas ?", "yes_no"),
        # why
        ("Why was the park closed?", "why"),
        ("Pourquoi le parc a-t-il été fermé ?", "why"),
        ("pk le parc est fermé", "why"),
        # what did X say
        ("What did the minister say about the shelters?", "said"),
        ("Qu'a dit le ministre sur les foyers ?", "said"),
        ("et le préfet il dit quoi", "said"),
        # yes-no, and a yes-no form around a question word
        ("Is the shelter open at night?", "yes_no"),
        ("Le foyer est-il ouvert la nuit ?", "yes_no"),
        ("Do you know where the van parks?", "where"),
        # a follow-up rewritten as "<previous question>, <fragment>": the fragment decides
        ("Do the officers patrol the square, especially when?", "when"),
        ("What is it for (carried topic: the shelter)?", ""),
    ],
)
def test_question_types(question: str, expected: str) -> None:
    assert question_type(question) == expected


def test_a_figure_is_asked_for_unless_combien_asks_how_long() -> None:
    assert asks_for_figure("Which sites were proposed, and how many?")
    assert asks_for_figure("combien de lits au foyer")
    assert not asks_for_figure("Combien de temps ça dure ?")
    assert not asks_for_figure("How many times a week does the van come?")


def _match(question: str, sentence: str, text: str = "") -> float:
    names = learn_names(text or sentence)
    return answer_match(question_type(question), sentence, question_words(question), names)[0]


@pytest.mark.parametrize(
    ("question", "sentence", "expected"),
    [
        # frequencies: precise, vague, none
        ("How often does the van come?", "The van comes every Tuesday evening.", 1.0),
        ("How often does the van come?", "The team is on call 24/7.", 1.0),
        ("À quelle fréquence passe la maraude ?", "La maraude passe tous les jours.", 1.0),
        ("À quelle fréquence passe la maraude ?", "Elle passe deux fois par semaine.", 1.0),
        ("How often does the van come?", "The van comes round regularly.", 0.5),
        ("How often does the van come?", "The van parks near the canal.", 0.0),
        # dates and times
        ("When was the camp dismantled?", "The camp was dismantled on 5 October 2022.", 1.0),
        ("Quand le site a-t-il ouvert ?", "Le site a ouvert en mars.", 1.0),
        ("When did the meeting take place?", "They met on Monday evening.", 1.0),
        ("When was the camp dismantled?", "The camp was dismantled by the police.", 0.0),
        ("Until when does the trial run?", "The trial is planned until 2022.", 1.0),
        ("Until when does the trial run?", "The trial started in 2016.", 0.5),
        ("How long has she asked for it?", "For several months she has asked for it.", 1.0),
        # figures in digits and in words; a date or a length of time is no count
        ("How many places are open?", "Eight places are open in the district.", 1.0),
        ("How many complaints were received?", "More than two dozen complaints came in.", 1.0),
        ("Combien de places sont ouvertes ?", "Il y a 120 places.", 1.0),
        ("How many places are open?", "The places opened in 2016.", 0.0),
        ("How many officers are there?", "They are on call 24 hours a day.", 0.0),
        # a figure the question already gives is no answer
        ("Of the two sites, how many open this year?", "Two sites, one of them open.", 1.0),
        ("Of the two sites, how many open this year?", "There are two sites.", 0.0),
        # places
        ("Where do the users gather?", "The users gather on rue Riquet.", 1.0),
        ("Où se regroupent les usagers ?", "Ils se regroupent près de la gare du Nord.", 1.0),
        ("Where is the new site?", "A site in the 19th arrondissement.", 1.0),
        ("Where do the users gather?", "The users gather every night.", 0.0),
        # reasons
        ("Why was the park closed?", "The park was closed because of the violence.", 1.0),
        ("Pourquoi le parc a-t-il fermé ?", "Le parc a fermé à cause des violences.", 1.0),
        ("pk le parc est fermé", "Il est fermé parce que les riverains se plaignent.", 1.0),
        ("Why was the park closed?", "The park was closed in June.", 0.0),
        # what someone said
        ("What did the ministry conclude?", "The ministry judged the results positive.", 1.0),
        ("What did the ministry conclude?", "The opposition is against the rooms.", 0.0),
    ],
)
def test_sentences_hold_the_kind_of_answer(question: str, sentence: str,
                                           expected: float) -> None:
    assert _match(question, sentence) == expected


def test_names_are_learned_without_capitals_and_with_them() -> None:
    lower = "the city is different, says dagnaud. dagnaud runs the plan. we act, he says."
    names = learn_names(lower)
    assert "dagnaud" in names.people and "he" not in names.people
    cased = ("The mayor wrote to Prime Minister Jean Castex on Monday. Users gather near "
             "Stalingrad, in Paris and Strasbourg.")
    names = learn_names(cased)
    assert {"castex", "jean"} <= names.people and "monday" not in names.people
    assert {"stalingrad", "paris", "strasbourg"} <= names.places


def test_who_is_answered_by_a_name_but_not_by_who_is_quoted() -> None:
    text = "the plan is working, says dagnaud. dagnaud runs the plan."
    assert _match("Who runs the plan?", "dagnaud runs the plan.", text) == 1.0
    # The speaker answers "who says", not "who does the plan target".
    assert _match("Who does the plan target?", "the plan is working, says dagnaud.", text) == 0
    assert _match("Who says the plan is working?", "the plan is working, says dagnaud.",
                  text) == 1.0
    # A name the question gives is no answer to it.
    assert _match("Did dagnaud run the plan, and who else?", "dagnaud runs the plan.",
                  text) == 0.0


def test_a_date_is_not_a_count() -> None:
    assert gives_count("eight places of reception") and gives_count("two dozen complaints")
    assert not gives_count("tested since 2016") and not gives_count("on 5 October")


def _draft(assistant, question: str):  # noqa: ANN001, ANN202 - the session fixture
    query = make_query(question, detect_language(question), assistant.settings.retrieval)
    vector = assistant.retriever.query_vector(query,
                                              assistant.embeddings.embed_query(query.dense_text))
    return assistant.answerer.draft(query, vector, assistant.retriever.retrieve(query, vector))


def test_how_often_quotes_the_sentence_that_gives_the_frequency(assistant) -> None:
    question = "How often are Charonnes' officers on call?"
    answer = assistant.ask(question)
    assert answer.kind == "answer"
    assert "24 hours a day, every day" in answer.text
    assert any("24 hours a day, every day" in c.quote for c in answer.citations)
    # The draft says what was asked and which sentences held it, for the staff view.
    draft = _draft(assistant, question)
    assert draft.answer_type == "how_often"
    assert "24 hours a day" in draft.sentences[0].text
    by_text = {x.text: x for x in draft.ranked}
    precise = by_text["they are also on call 24 hours a day, every day."]
    vague = by_text["charonnes officers patrol the neighborhood regularly."]
    assert (precise.answer_kind, precise.answer_match) == ("frequency", 1.0)
    assert (vague.answer_kind, vague.answer_match) == ("frequency", 0.5)
    assert draft.ranked[0] is precise
    weight = assistant.settings.answer.answer_type_weight
    assert precise.score == pytest.approx(precise.base + weight * precise.answer_match)


def test_since_when_quotes_the_sentence_with_the_year(assistant) -> None:
    draft = _draft(assistant, "Since what year have the Paris and Strasbourg rooms been tested?")
    assert draft.answer_type == "when" and draft.grounded
    assert "since 2016" in draft.sentences[0].text
    assert draft.ranked[0].answer_kind == "date"


@pytest.mark.parametrize("text, token", [
    ("the XXth arrondissement", "20e"), ("dans le 20e", "20e"), ("le vingtième", "20e"),
    ("dix-neuvième arrondissement", "19e"), ("Le XVIIIe", "18e"), ("in the 18th", "18e"),
])
def test_ordinals_are_one_token_however_written(text: str, token: str) -> None:
    assert token in words(text)


@pytest.mark.parametrize("text, read", [
    ("wat r the cops sayin", ["what", "are", "the", "police", "saying"]),
    ("ppl dont go out", ["people", "do", "not", "go", "out"]),
    ("les keufs ds le 18e", ["les", "police", "dans", "le", "18e"]),
])
def test_informal_spellings_are_read_as_the_words_they_stand_for(text: str,
                                                                  read: list[str]) -> None:
    assert words(text) == read


def test_a_question_in_sms_spelling_meets_the_sources_words(assistant) -> None:
    """"wat does hidalgo want for the cops" asks what the mayor asks for the police."""
    a = assistant.ask("wat does hidalgo want for the cops")
    assert a.kind == "answer" and "judicial police" in a.text, (a.text, a.trace.get("answerer"))


def test_words_that_look_like_roman_numerals_stay_words() -> None:
    assert words("la vie, a lie, I've seen it") == ["la", "vie", "a", "lie", "i", "ve",
                                                      "seen", "it"]


def test_an_arrondissement_asked_in_digits_meets_the_source_in_roman(assistant) -> None:
    """The source writes "the XXth arrondissement"; a question says "20th"."""
    a = assistant.ask("What does Hidalgo propose for the 20th arrondissement?")
    assert a.kind == "answer", a.trace.get("answerer")
    assert any("XXth arrondissement" in c.quote for c in a.citations), a.citations


def test_a_short_answer_after_its_lead_is_quoted_with_it(assistant) -> None:
    """"we know the reason: the violence." leans on the sentence before it; quoted with it,
    it is worth at least that one to the ranker."""
    a = assistant.ask("Why are more people using crack in some parts of the city?")
    assert a.kind == "answer", a.trace.get("answerer")
    assert "the violence" in a.text, a.text


@pytest.mark.parametrize("question, counted", [
    ("How many beds will the site for women have?", ["beds"]),
    ("how many of them complained to inserm?", ["complained"]),
    ("How many new places will open?", ["new", "places"]),
    ("Combien d'associations ont participé ?", ["associations"]),
    ("Which sites, and how many?", []),
])
def test_what_a_how_many_question_counts(question: str, counted: list[str]) -> None:
    assert counted_words(question) == counted


def test_a_figure_of_something_else_does_not_answer_how_many(assistant) -> None:
    """"two sites" counts sites, not beds; "two dozen complaints" does count complaints; a
    sum asked in any words is answered by a figure in euros."""
    beds = assistant.ask("How many beds will the site for women in the 19th have?")
    assert beds.kind == "no_answer", (beds.text, beds.trace.get("answerer"))
    complaints = assistant.ask("how many people complained to inserm?")
    assert complaints.kind == "answer" and "two dozen" in complaints.text, complaints.text
    followers = figure_followers("Le plan crack prévoyait 9 millions d'euros de dépenses.")
    assert counts_money(followers) and asks_money(["argent"]) and not asks_money(["actions"])
    assert not counts_money(figure_followers("Le plan crack comptait 33 actions."))


@pytest.mark.parametrize("question, sum_asked", [
    ("Combien le plan crack a-t-il coûté en trois ans ?", True),
    ("how much did the plan end up costing", True),
    ("how much money was planned?", True),
    ("Combien d'actions comptait le plan ?", False),  # counts things
    ("how many kits cost two euros?", False),
    ("how much time did it take?", False),
])
def test_a_sum_is_asked_by_its_verb_as_well(question: str, sum_asked: bool) -> None:
    """"combien le plan a-t-il coûté" counts no noun after its cue, yet asks a sum: a
    figure in euros answers it, whatever the cue is followed by."""
    assert asks_sum(question) is sum_asked


def test_a_cost_asked_in_french_is_answered_by_the_sums(assistant) -> None:
    answer = assistant.ask("Combien le plan crack a-t-il coûté en trois ans d'après l'audit ?")
    assert answer.kind == "answer" and "25 millions" in answer.text, answer.text


@pytest.mark.parametrize("question, things, kinds", [
    ("What brand of van does he drive?", [["brand"]], [["naming"]]),
    ("Quel est le nom de la salle, et quelle est son adresse ?", [["nom"], ["adresse"]],
     [["naming"], ["street"]]),
    ("c koi l'adresse du site ?", [["adresse"]], [["street"]]),
    ("whats the phone number of the site", [["phone", "number"]], [["phone"]]),
    ("In which two cities were the rooms tested?", [["cities"]], [["place"]]),
    ("What was the total budget of the plan?", [["total", "budget"]], [["money"]]),
    ("Quel âge ont-ils ?", [["age"]], [["age"]]),
    ("What kind of place is it?", [["place"]], [[]]),
    # no thing named: a verb after "what", "which one", "quoi" not after "c'est"
    ("What happened in 2016?", [], []),
    ("What does Hidalgo propose?", [], []),
    ("which one is for women?", [], []),
    ("et elle lui demande quoi côté argent ?", [], []),
    ("What is planned for the 19th?", [], []),
])
def test_the_thing_a_question_asks_for(question: str, things: list[list[str]],
                                       kinds: list[list[str]]) -> None:
    found = asked_things(question)
    assert found == things
    assert [asked_kinds(g) for g in found] == kinds


@pytest.mark.parametrize("kind, sentence, held", [
    ("street", "the daily grouping of drug addicts on rue Riquet since that time", True),
    ("street", "a first place of specific care for crack users", False),
    ("age", "users aged 18 to 25", True),
    ("age", "a worrying increase in crack use, particularly among young people", False),
    ("phone", "Drogues Info Service: 0 800 23 13 13, free and anonymous", True),
    ("phone", "in 2016 there were 15 rooms", False),
    ("money", "le plan prévoyait 9 millions d'euros", True),
    ("naming", "consumption rooms called “shooting rooms”", True),
])
def test_what_values_of_a_kind_look_like(kind: str, sentence: str, held: bool) -> None:
    assert holds(kind, sentence, frozenset()) is held


def test_a_reply_must_give_the_thing_asked_for(assistant) -> None:
    """"an old van" is no brand and "the XXth arrondissement" no street address: the sources
    do not say, so the reply says so; "Paris and Strasbourg" do answer "which cities"."""
    for question in ("What brand is the old van Charonnes drives to hand out crack pipes?",
                     "Quelle est l'adresse du site qu'Hidalgo propose dans le 20e ?",
                     "quel age ont les jeunes qui fument de plus en plus de crack ?"):
        a = assistant.ask(question)
        assert a.kind == "no_answer", (question, a.text, a.trace.get("answerer"))
    cities = assistant.ask("In which two cities were consumption rooms tested?")
    assert cities.kind == "answer" and "Strasbourg" in cities.text, cities.text


def test_a_quantity_in_words_answers_how_many_unless_the_figure_is_asked(assistant) -> None:
    """The observatory "has received many complaints": that answers "how many complaints did
    the observatory get?"; "how many, exactly?" asks for the figure itself."""
    many = assistant.ask("How many complaints did the observatory for drugs receive?")
    assert many.kind == "answer" and "many complaints" in many.text, many.text
    assert asks_exact("and how many did they get, exactly?")
    assert asks_exact("combien précisément ?") and not asks_exact("combien de plaintes ?")


LETTER = ("The PS mayor of Paris Anne Hidalgo offers several possible sites for Prime Minister "
          "Jean Castex, in a letter sent on Monday.")


@pytest.mark.parametrize("question, named, people", [
    ("How did Jean Castex respond to Hidalgo's letter?", {"jean", "castex"}, set()),
    ("Qu'a répondu Jean Castex aux lettres d'Anne Hidalgo ?", {"jean", "castex"}, set()),
    ("What did the mayor of Strasbourg say?", {"strasbourg"}, {"mayor"}),
    ("What did Hidalgo write to the Prime Minister?", {"hidalgo"}, set()),
])
def test_who_a_question_has_speak(question: str, named: set[str], people: set[str]) -> None:
    assert speakers(question) == (frozenset(named), frozenset(people))


def test_a_name_after_an_object_preposition_is_spoken_to() -> None:
    assert spoken_to_only(LETTER, frozenset({"jean", "castex"}))
    assert not spoken_to_only(LETTER, frozenset({"hidalgo"}))  # she offers
    assert not spoken_to_only(LETTER, frozenset({"veran"}))  # not named at all
    judged = "the office of the Minister of Health Olivier Véran had judged the results"
    assert not spoken_to_only(judged, frozenset({"ministry"}))  # "of" is no object


def test_what_someone_said_is_not_answered_by_a_letter_to_them(assistant) -> None:
    """The sources have Hidalgo write to Castex, never Castex answer: the reply says so."""
    reply = assistant.ask("What was Jean Castex's answer to the mayor's letter?")
    assert reply.kind == "no_answer", (reply.text, reply.trace.get("answerer"))


def test_a_name_is_not_what_a_how_many_question_counts() -> None:
    assert counted_words("How many of Hidalgo's proposed sites were on the Grands Boulevards?") \
        == ["proposed", "sites"]
    assert counted_words("How many Charonnes officers are on call?") == ["officers"]


def test_a_price_is_money_whatever_street_it_is_sold_in() -> None:
    group = asked_things("What is the average street price of a crack rock in Paris?")[0]
    assert asked_kinds(group) == ["money"]
    assert kind_words(group, "money") == ["price"]
    assert asked_kinds(asked_things("What is the street address of the halte?")[0]) == ["street"]


@pytest.mark.parametrize("sentence, sums", [
    ("Au lancement du plan crack, 3 millions d'euros ont été engagés.", True),
    ("environ 25 millions d'euros avaient été dépensés en trois ans", True),
    ("Le plan crack comptait 33 actions.", False),
    ("It costs €5 a pipe for the 200 people who come.", False),
])
def test_a_sentence_whose_figures_are_all_sums(sentence: str, sums: bool) -> None:
    assert only_sums(sentence) is sums


def test_a_sum_counts_no_signatories_but_answers_how_much(assistant) -> None:
    """"signatories" and "engagés" are close in the multilingual encoder (0.54), so the euros
    sentence once answered "how many signatories"; the sources give no such figure."""
    assert counts_things("How many signatories did the 2019 plan have?")
    assert not counts_things("And how much had been planned?")
    a = assistant.ask("How many signatories did the 2019 plan have?")
    assert "euros" not in a.text, a.text
    assert a.kind == "no_answer"
    a = assistant.ask("How much money was committed when the Paris crack plan was launched?")
    assert a.kind == "answer" and "3 millions d'euros" in a.text, a.text


def test_a_month_or_an_abbreviation_is_named_in_either_language(assistant) -> None:
    """"September" is named by "septembre" and "the PM" by "Prime Minister": neither turns
    the question away as naming something the sources never mention."""
    a = assistant.ask("Where were crack users relocated in September 2021?")
    assert a.kind == "answer", a.trace.get("answerer")
    assert "24 septembre 2021" in a.text and "Forceval" in a.text
    a = assistant.ask("What did Hidalgo ask the PM for?")
    assert a.kind == "answer", a.trace.get("answerer")
    assert "Prime Minister" in a.text


@pytest.mark.parametrize("british, american", [
    ("neighbourhoods", "neighborhoods"), ("recognised", "recognized"),
    ("hospitalisation", "hospitalization"), ("analysed", "analyzed"), ("centre", "center"),
    ("travelling", "traveling"), ("behaviour", "behavior"), ("offence", "offense"),
    ("she wrote", "she writes"), ("sold", "sell"), ("more has to be done", "do more"),
])
def test_spellings_and_verb_forms_stem_alike(british: str, american: str) -> None:
    assert lexical_tokens(british) == lexical_tokens(american)


def test_french_words_are_not_read_as_british() -> None:
    """"analyse" is French too: the spelling rule is for English text only."""
    assert lexical_tokens("analyse", "fr") != lexical_tokens("analyze", "fr")
