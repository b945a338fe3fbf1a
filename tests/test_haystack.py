"""The real corpus hidden in a synthetic haystack of about 1,000 chunks (bench/synth_corpus.py,
seed 7): documents about other cities, years and people in the domain's own words.

The full-size runs are benchmarks (bench/bench_scale.py); this keeps the behaviour that matters
at scale under test: the re-rank stage finds evidence that fusion alone misses, and questions
the real corpus cannot answer are not answered from haystack passages about something else.
All real: the bundled MiniLM, Chroma on disk.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.evaluation import load_questions
from assistant.ingest.indexing import ingest
from assistant.search.retrieval import TermMatcher, make_query
from assistant.service import Assistant
from assistant.settings import Settings
from assistant.text.analysis import index_tokens
from assistant.text.language import detect_language, fold
from tests.conftest import DEV_QUESTIONS, make_settings
from tests.test_synth_corpus import synth


@pytest.fixture(scope="module")
def haystack(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("haystack-index")
    synth.generate(root / "corpus", 1000, seed=7, forbidden=synth.dev_evidence(DEV_QUESTIONS))
    s = make_settings(root, root / "corpus")
    ingest(s)
    return s


@pytest.fixture(scope="module")
def hay_assistant(haystack: Settings) -> Assistant:
    return Assistant(haystack, build_index=False)


def _answer_questions() -> list:
    return [q for q in load_questions(DEV_QUESTIONS) if q.expect == "answer" and q.evidence]


def _evidence_ranks(a: Assistant) -> dict[str, int | None]:
    """Each dev question's rank of the first passage holding its evidence (None: not in 20)."""
    ranks: dict[str, int | None] = {}
    for q in _answer_questions():
        query = make_query(q.question, detect_language(q.question), a.settings.retrieval)
        passages = a.retriever.retrieve(query, a.retriever.query_vector(query))
        ranks[q.id] = next((i for i, p in enumerate(passages, 1)
                            if any(fold(e) in fold(p.text) for e in q.evidence)), None)
    return ranks


def test_the_haystack_buries_the_real_corpus(hay_assistant: Assistant) -> None:
    docs = hay_assistant.documents
    assert len(docs) > 50 and len(hay_assistant.retriever) > 900
    assert {"crack-plan-dagnaud", "hidalgo-letter-castex"} <= set(docs)


def test_rerank_ranks_every_dev_evidence_at_least_as_high_as_fusion_alone(
    hay_assistant: Assistant, haystack: Settings
) -> None:
    deep = haystack.model_copy(deep=True)
    deep.retrieval.top_k = 20
    reranked = _evidence_ranks(Assistant(deep, build_index=False))
    assert all(r is not None and r <= 3 for r in reranked.values()), reranked

    fused_only = deep.model_copy(deep=True)
    fused_only.retrieval.rerank = False
    fused_only.retrieval.dense_k = fused_only.retrieval.bm25_k = 20
    fused = _evidence_ranks(Assistant(fused_only, build_index=False))
    # Among documents on the same subject, RRF alone pushes some needles down (at 5,010
    # chunks out of the top 5: bench/RESULTS.md); the re-rank never ranks one lower.
    assert all(f is None or reranked[q] <= f for q, f in fused.items()), (reranked, fused)
    pushed_down = [q for q, f in fused.items() if f is None or f > 3]
    assert pushed_down, "reciprocal rank fusion alone keeps every needle in the top 3 here"


def test_coverage_is_the_idf_weighted_share_of_chunk_and_title_terms(
    hay_assistant: Assistant,
) -> None:
    retriever = hay_assistant.retriever
    query = make_query("What did the health ministry conclude about the consumption rooms "
                       "tested since 2016?", "en", hay_assistant.settings.retrieval)
    matcher = TermMatcher.for_query(query)
    # Stems (with synonyms) and, apart, the question's own words.
    assert {"health", "ministri", "test", "2016"} <= set(matcher.terms)
    assert {"=tested", "=ministry", "health", "2016"} <= set(matcher.surfaces)
    rows = list(range(0, len(retriever), 7))
    # Each chunk as BM25 read it: in its document's language.
    lang = {d: "fr" if str(v.get("language", "en")).startswith("fr") else "en"
            for d, v in hay_assistant.documents.items()}
    chunk_lang = [lang.get(retriever.table.chunk(i)["doc_id"], "en")
                  for i in range(len(retriever))]
    texts = [set(index_tokens(retriever.table.text(i), chunk_lang[i]))
             for i in range(len(retriever))]
    features = [matcher.alternatives[t] for t in matcher.terms] + [{w} for w in matcher.surfaces]

    def df(alts: set[str]) -> int:
        return max(sum(1 for t in texts if alt in t) for alt in alts)

    # The document's title counts with the chunk ("according to ... Hidalgo's letter").
    with_title = {i: texts[i] | set(index_tokens(retriever.table.chunk(i)["title"],
                                                 chunk_lang[i])) for i in rows}
    # A word no chunk or title has ("conclude" here) tells no passage from another: left out.
    assert "conclud" in matcher.terms and df({"conclud"}) == 0
    features = [f for f in features if df(f) or any(f & with_title[i] for i in rows)]
    weights = [np.log1p(len(texts) / max(df(f), 1)) for f in features]
    expected = [
        sum(w for f, w in zip(features, weights, strict=True) if f & with_title[i])
        / sum(weights)
        for i in rows
    ]
    got = retriever.coverage(rows, matcher)
    assert np.allclose(got, expected, atol=1e-5)
    assert 0 < got.max() <= 1 and got.min() >= 0

    # So a word the archive never uses (a typo, a foreign word) leaves coverage as it was.
    typo = make_query(query.original + " zzqxv", "en", hay_assistant.settings.retrieval)
    assert np.allclose(retriever.coverage(rows, TermMatcher.for_query(typo)), got, atol=1e-6)


@pytest.mark.parametrize("qid", ["dev12", "dev13"])
def test_unanswerable_questions_stay_unanswered_among_other_cities(
    hay_assistant: Assistant, qid: str
) -> None:
    q = next(q for q in load_questions(DEV_QUESTIONS) if q.id == qid)
    reply = hay_assistant.ask(q.question)
    assert reply.kind == "no_answer", (reply.text, reply.trace.get("answerer"))
    assert not reply.citations


def test_a_named_place_must_be_in_the_quoted_passages(hay_assistant: Assistant) -> None:
    # The haystack has France-wide overdose figures for 2023, and documents about Marseille;
    # no passage says how many crack users died in Marseille in 2023.
    question = "How many crack users died of overdoses in Marseille in 2023?"
    assert hay_assistant.ask(question).kind == "no_answer"
    # With sentences from every retrieved passage in the running (not only those near the
    # best), a check of what the sentences say stops the reply: no figure of theirs counts
    # crack users (the French ones are read through the encoder's word cosine), or the
    # quoted passages lack Marseille or 2023.
    every_passage = hay_assistant.settings.model_copy(deep=True)
    every_passage.answer.passage_cutoff = 0.0
    reply = Assistant(every_passage, build_index=False).ask(question)
    assert reply.kind == "no_answer"
    reason = reply.trace["answerer"]["decision"]
    if reason != "the question asks for a figure; none found":
        assert reason.startswith(("the passages quoted never mention",
                                  "the passages quoted do not")), reason
        assert "Marseille" in reason or "2023" in reason, reason
    # Without the figure check, the quoted passages' names and figures still stop it.
    no_count = every_passage.model_copy(deep=True)
    no_count.answer.counted_min_cosine = -1.0  # every figure counts across languages
    reply = Assistant(no_count, build_index=False).ask(question)
    assert reply.kind == "no_answer"
    reason = reply.trace["answerer"]["decision"]
    assert reason.startswith(("the passages quoted never mention",
                              "the passages quoted do not")), reason


def test_answers_in_the_haystack_still_quote_the_real_corpus(hay_assistant: Assistant) -> None:
    reply = hay_assistant.ask("Where do drug users gather every day, according to the "
                              "reporting on Hidalgo's letter?")
    assert reply.kind == "answer" and "Riquet" in reply.text
    assert {c.doc_id for c in reply.citations} == {"hidalgo-letter-castex"}


@pytest.mark.parametrize("question", [
    "What does the mayor ask the government for regarding the judicial police?",
    "Que demande la maire au gouvernement concernant la police judiciaire ?",
])
def test_quotes_come_from_passages_near_the_best_one(
    hay_assistant: Assistant, question: str
) -> None:
    # The Hidalgo letter's passage ranks first, but its sentence ("She thus calls for ... the
    # judicial police") names no mayor; haystack sentences about a mayor who "asked for a
    # meeting" score higher on their own. Quoting only from passages that score near the
    # best one keeps them out.
    reply = hay_assistant.ask(question)
    assert reply.kind == "answer" and "judicial police" in reply.text
    assert {c.doc_id for c in reply.citations} == {"hidalgo-letter-castex"}

    every_passage = hay_assistant.settings.model_copy(deep=True)
    every_passage.answer.passage_cutoff = 0.0
    # (With the multilingual encoder in the re-rank, the French question's haystack
    # passages fall below the letter's even then: it is left out to show the cutoff alone.)
    every_passage.retrieval.rerank_meaning_weight = 0.0
    loose = Assistant(every_passage, build_index=False).ask(question)
    assert {c.doc_id for c in loose.citations} != {"hidalgo-letter-castex"}


def test_haystack_documents_are_cited_with_exact_spans(hay_assistant: Assistant) -> None:
    docs = hay_assistant.documents
    for q in _answer_questions():
        for c in hay_assistant.ask(q.question).citations:
            assert docs[c.doc_id]["text"][c.start : c.end] == c.quote


def test_settings_default_to_the_rerank_stage() -> None:
    s = Settings()
    assert s.retrieval.rerank and 0 < s.retrieval.rerank_cosine_weight < 1
    assert s.retrieval.dense_k >= 50 and s.retrieval.bm25_k >= 50


def test_rerank_runs_on_an_index_of_one_document(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = "# One\n\nThe Charonne van hands out clean crack pipes to drug users.\n"
    (corpus / "one.md").write_text(text, encoding="utf-8")
    s = make_settings(tmp_path, corpus)
    ingest(s)
    reply = Assistant(s, build_index=False).ask("What does the Charonne van hand out to users?")
    assert reply.kind == "answer" and "pipes" in reply.text
