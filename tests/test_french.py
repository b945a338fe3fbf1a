"""French documents as sources: per-language lexical analysis and answers across languages.

The French document (corpus/reperes-crack-paris.md, compiled by the project from the dated
sources of ../shared/care_facts.md) is ingested with the real corpus, beside the English
articles.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.evaluation import evaluate, load_questions
from assistant.ingest.indexing import ingest
from assistant.search.retrieval import make_query
from assistant.service import Assistant
from assistant.text.analysis import index_tokens, lexical_tokens
from tests.conftest import DEV_QUESTIONS, copy_corpus, make_settings

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "data" / "questions"


@pytest.fixture(scope="module")
def bilingual(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    root = tmp_path_factory.mktemp("bilingual")
    s = make_settings(root, copy_corpus(root / "corpus"))
    ingest(s)
    return Assistant(s, build_index=False)


def _test_split(path: Path) -> list:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    keep = {r["id"] for r in rows if r.get("split") == "test"}
    return [q for q in load_questions(path) if q.id in keep]


def test_french_text_is_stemmed_as_french() -> None:
    tokens = index_tokens("Les usagers ont été évacués des jardins", "fr")
    assert "fr:evacu" in tokens and "=evacues" in tokens
    assert not [t for t in lexical_tokens("The users were evacuated") if t.startswith("fr:")]


def test_the_french_chunks_are_indexed_in_french(bilingual: Assistant) -> None:
    vocab = bilingual.retriever.vocabulary
    assert "fr:sign" in vocab  # "signé", French Snowball, tagged
    assert bilingual.documents["reperes-crack-paris"]["language"] == "fr"


@pytest.mark.parametrize("question, fact", [
    ("Quand le plan crack a-t-il été signé ?", "27 mai 2019"),
    ("quand le plan crack a ete signe", "27 mai 2019"),
    ("Le camp de la Forceval a été démantelé quand ?", "5 octobre 2022"),
    ("Combien d'actions comptait le plan crack ?", "33 actions"),
])
def test_questions_on_the_french_document_quote_it(bilingual: Assistant, question: str,
                                                   fact: str) -> None:
    a = bilingual.ask(question)
    assert a.kind == "answer", a.trace.get("answerer")
    assert fact in a.text
    assert a.citations[0].doc_id == "reperes-crack-paris"
    c = a.citations[0]
    assert bilingual.documents[c.doc_id]["text"][c.start:c.end] == c.quote
    # The fixed text follows the question; the quote stays in French.
    assert a.text.startswith("D'après les sources")


def test_a_french_question_meets_a_french_sentence_on_its_own_words(
        bilingual: Assistant) -> None:
    """The top passage is English ("For several months, Anne Hidalgo..." shares "mois"):
    the French sentence is still matched on the question's French words, not on their
    English translation alone."""
    a = bilingual.ask("En quels mois de 2021 Anne Hidalgo a-t-elle écrit à Jean Castex ?")
    assert a.kind == "answer", a.trace.get("answerer")
    assert "juin" in a.text and "août" in a.text, a.text
    assert a.citations[0].doc_id == "reperes-crack-paris"


def test_a_passage_holding_the_question_terms_is_kept_under_the_cosine_floor(
        bilingual: Assistant) -> None:
    """The English model's cosine of this French question and its French sentence is under
    the floor; the passage holds the question's terms (déplacés, square, Forceval)."""
    a = bilingual.ask("Quand les usagers ont-ils été déplacés vers le square de la Forceval ?")
    assert a.kind == "answer", a.trace.get("answerer")
    assert "24 septembre 2021" in a.text
    kept = [p for p in a.retrieved if p.doc_id == "reperes-crack-paris"]
    floor = bilingual.settings.retrieval.score_floor
    assert any(p.dense < floor and p.coverage >= 0.6 for p in kept), kept


def test_held_out_french_question_sets(bilingual: Assistant) -> None:
    """The test parts (never tuned on): French questions on English documents, and French
    and English questions on the French document."""
    cross = evaluate(bilingual, _test_split(QUESTIONS / "cross_language.jsonl")).metrics()
    doc = evaluate(bilingual, _test_split(QUESTIONS / "french_doc.jsonl")).metrics()
    print("fr->en", cross["retrieval_hit_rate_at_5"], cross["fact_accuracy"],
          "fr doc", doc["retrieval_hit_rate_at_5"], doc["fact_accuracy"])
    assert cross["citation_validity"] == doc["citation_validity"] == 1.0
    # Floors just under the figures measured with the default model on 2026-12-03 (fr->en
    # 1.00 / 0.85, French document 0.89 / 0.72: README "Which embedding model").
    assert cross["retrieval_hit_rate_at_5"] >= 0.95 and cross["fact_accuracy"] >= 0.8
    assert doc["retrieval_hit_rate_at_5"] >= 0.85 and doc["fact_accuracy"] >= 0.68


def test_french_words_are_matched_to_the_corpus_english_words() -> None:
    from assistant.search.lexicon import WordTranslations
    from assistant.store.embeddings import USE_MODEL, get_embeddings

    docs = {"en": {"text": "A worrying increase in evictions. Lariboisiere hospital opened. "
                           "The mayor wrote to the government about women and care."},
            "fr": {"text": "Une hausse inquiétante des expulsions."}}
    lexicon = WordTranslations(get_embeddings(USE_MODEL), docs, {"en": "en", "fr": "fr"})
    question = "La hausse inquiétante : le gouvernement aide les femmes à Lariboisière ?"
    words = ["hausse", "inquietante", "gouvernement", "femmes", "lariboisiere", "mayor"]
    assert lexicon.translate(question, words) == {}  # not embedded yet: glossary only
    lexicon.warm()
    found = lexicon.translate(question, words)
    assert found["hausse"][0] == "increase" and "worrying" in found["inquietante"]
    assert found["gouvernement"][0] == "government" and found["femmes"][0] == "women"
    # Names are checked as written, and a word the corpus already uses needs nothing.
    assert "lariboisiere" not in found and "mayor" not in found
    assert "hausse" not in lexicon.words  # only the English documents' words are targets


def test_names_stay_terms_when_a_french_question_meets_an_english_passage() -> None:
    """Across languages a French question is matched on its English words, and on its
    names, which are the same in both: "l'Inserm", "Dagnaud"."""
    from assistant.search.retrieval import make_query, specific_words
    from assistant.settings import RetrievalSettings

    for question, name in (("Selon Dagnaud, qu'est-ce qui compte le plus dans le plan crack ?",
                            "dagnaud"),
                           ("De quoi se plaignent les usagers qui ont saisi l'Inserm ?",
                            "inserm")):
        query = make_query(question, "fr", RetrievalSettings())
        assert query.expansion, question  # the glossary gives English words
        assert name in specific_words(query, translated_only=True)[0], question


def test_english_dev_questions_hold_with_a_french_document_in_the_index(
        bilingual: Assistant) -> None:
    m = evaluate(bilingual, load_questions(DEV_QUESTIONS)).metrics()
    assert m["retrieval_hit_rate_at_5"] == 1.0
    assert m["fact_accuracy"] == 1.0 and m["kind_accuracy"] == 1.0


@pytest.mark.parametrize("question, fact", [
    ("How many actions did the crack plan have?", "33 actions"),
    ("How many of Hidalgo's proposed sites were on the Grands Boulevards?", "two sites"),
    ("How many beds will the Grands Boulevards sites offer?", None),
    ("How many beds will the site for women in the 19th arrondissement have?", None),
])
def test_an_english_count_over_a_french_sentence_counts_the_asked_thing(
        bilingual: Assistant, question: str, fact: str | None) -> None:
    """No word table turns "beds" into French: the encoder's word cosine tells "actions"
    counts actions and "deux des quatre solutions étaient des sites" counts no beds."""
    a = bilingual.ask(question)
    if fact is None:
        assert a.kind == "no_answer", a.text
    else:
        assert a.kind == "answer" and fact in a.text, a.text


def test_a_translated_french_question_meets_a_french_passage_on_its_own_words() -> None:
    """Against a French passage the question's own French words count, not the English
    expansion a French passage cannot hold ("aeolian", "garden")."""
    from assistant.search.retrieval import make_query
    from assistant.settings import Settings

    q = make_query("les gens de Stalingrad sont partis à Éole quand ?", "fr", Settings().retrieval)
    assert "garden" in q.matcher.terms
    assert q.native_matcher.terms == ["fr:stalingrad", "fr:part", "fr:eol"]
    french = {"fr:stalingrad", "fr:part", "fr:eol", "=stalingrad", "=partis", "=eole"}
    assert q.native_matcher.share(french) == 1.0 > q.matcher.share(french)


def _retrieved_with_and_without_meaning(assistant: Assistant, question: str, lang: str
                                        ) -> tuple[list, list]:
    r = assistant.retriever
    query = make_query(question, lang, assistant.settings.retrieval, assistant.translations)
    vector = r.query_vector(query, assistant.embeddings.embed_query(query.dense_text))
    meaning = assistant.guardrails.classifier.encoder.embed_array([question])[0]
    return r.retrieve(query, vector), r.retrieve(query, vector, meaning)


@pytest.mark.parametrize("question, lang, evidence", [
    ("How many solutions did Hidalgo propose in her August 2021 letter to Castex?", "en",
     "quatre solutions"),
    ("Qu'a conclu l'audit flash sur les résultats du plan crack ?", "fr",
     "réels mais partiels"),
])
def test_the_re_rank_reads_each_passage_in_the_multilingual_encoder(
        bilingual: Assistant, question: str, lang: str, evidence: str) -> None:
    """Without the guard's multilingual encoder, the French evidence of these questions is
    outside the top 5 (an English question on a French passage, and a French paraphrase
    whose words the passage does not use); with it, it is in."""
    table = bilingual.retriever.table
    assert bilingual.retriever.meaning is not None
    assert bilingual.retriever.meaning.shape == (len(table), 512)
    plain, read = _retrieved_with_and_without_meaning(bilingual, question, lang)
    assert not any(evidence in p.text for p in plain)
    assert any(evidence in p.text for p in read), [p.text[:60] for p in read]
    assert all(p.meaning is None for p in plain)
    # Each passage's meaning score is its cosine with the question in that encoder.
    encoder = bilingual.guardrails.classifier.encoder
    q, top = encoder.embed_array([question])[0], read[0]
    assert top.meaning == pytest.approx(float(encoder.embed_array([top.text])[0] @ q), abs=1e-3)
