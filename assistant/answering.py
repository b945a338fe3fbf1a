"""The default answerer: picks the source sentences that best answer the question.

It needs no language model. Every `[n]` in the reply maps to a citation whose quote is
exactly `document_text[start:end]`. Passages are data: their text is quoted, never obeyed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.language import Lang
from assistant.models import Citation, Passage
from assistant.retrieval import Query, lexical_tokens, specific_terms
from assistant.settings import AnswerSettings

_SENTENCE_END = re.compile(r"[.!?…]+[”\"»’)\]]*(?=\s)|\n\s*\n|\n")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, trimmed of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end() if m.group().strip() else m.start()
        spans.append((start, end))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e - s >= 3:
            out.append((s, e))
    return out


@dataclass
class ScoredSentence:
    doc_id: str
    title: str
    start: int
    end: int
    text: str
    cosine: float
    overlap: float
    score: float


@dataclass
class Draft:
    """What the answerer decided, before the reply is worded."""

    sentences: list[ScoredSentence]
    coverage: float
    best: float
    grounded: bool
    reason: str


TEXT = {
    "en": {
        "lead": "From the sources:",
        "no_answer": "The sources I have don't cover this, so I can't answer it without guessing.",
        "covers": "They cover:",
        "empty_index": "No documents are indexed yet, so I can't answer from sources.",
    },
    "fr": {
        "lead": "D'après les sources (citées dans leur langue d'origine) :",
        "no_answer": (
            "Les sources dont je dispose ne traitent pas de cette question ; "
            "je ne peux donc pas y répondre sans inventer."
        ),
        "covers": "Elles portent sur :",
        "empty_index": "Aucun document n'est encore indexé : je ne peux pas répondre à partir de sources.",
    },
}


class SentenceAnswerer:
    """Extractive answerer; the `answer` step of the retrieval chain."""

    def __init__(
        self,
        embeddings: Embeddings,
        documents: dict[str, dict[str, Any]],
        settings: AnswerSettings,
    ) -> None:
        self.embeddings = embeddings
        self.documents = documents
        self.settings = settings
        self._spans = {doc_id: sentence_spans(d["text"]) for doc_id, d in documents.items()}
        self._vectors: dict[tuple[str, int, int], np.ndarray] = {}

    def _sentence_vectors(self, keys: list[tuple[str, int, int]]) -> list[np.ndarray]:
        missing = [k for k in keys if k not in self._vectors]
        if missing:
            texts = [self.documents[d]["text"][s:e] for d, s, e in missing]
            for key, vec in zip(missing, self.embeddings.embed_documents(texts), strict=True):
                self._vectors[key] = np.asarray(vec, dtype=np.float32)
        return [self._vectors[k] for k in keys]

    def candidates(self, passages: list[Passage]) -> list[tuple[str, int, int]]:
        """Sentences that overlap a retrieved passage, in retrieval order, without repeats."""
        seen: dict[tuple[str, int, int], None] = {}
        for p in passages:
            for s, e in self._spans.get(p.doc_id, []):
                if s < p.end and e > p.start:
                    seen[(p.doc_id, s, e)] = None
        return list(seen)

    def draft(self, query: Query, query_vector: list[float], passages: list[Passage]) -> Draft:
        terms = specific_terms(query)
        keys = self.candidates(passages)
        if not keys:
            return Draft([], 0.0, 0.0, False, "no passage above the score floor")
        q = np.asarray(query_vector, dtype=np.float32)
        scored: list[ScoredSentence] = []
        for (doc_id, s, e), vec in zip(keys, self._sentence_vectors(keys), strict=True):
            text = self.documents[doc_id]["text"][s:e]
            stems = set(lexical_tokens(text))
            overlap = sum(1 for t in terms if t in stems) / len(terms) if terms else 0.0
            cosine = float(np.dot(vec, q))
            scored.append(
                ScoredSentence(
                    doc_id, self.documents[doc_id]["title"], s, e, text, cosine, overlap,
                    score=0.6 * cosine + 0.4 * overlap,
                )
            )
        scored.sort(key=lambda x: -x.score)
        evidence_stems = {t for p in passages for t in lexical_tokens(p.text)}
        coverage = sum(1 for t in terms if t in evidence_stems) / len(terms) if terms else 0.0
        best = scored[0].score
        st = self.settings
        if best < st.min_evidence:
            return Draft([], coverage, best, False, f"best sentence score {best:.2f} < {st.min_evidence}")
        if coverage < st.min_coverage:
            return Draft(
                [], coverage, best, False,
                f"only {coverage:.0%} of the question's specific terms are in the evidence",
            )
        chosen = [scored[0]]
        covered = set(lexical_tokens(scored[0].text)) & set(terms)
        for cand in scored[1:]:
            if len(chosen) >= st.max_sentences or cand.score < st.relative_cutoff * best:
                break
            new_terms = (set(lexical_tokens(cand.text)) & set(terms)) - covered
            if not new_terms and cand.cosine < scored[0].cosine:
                continue  # says nothing the reply doesn't already say
            chosen.append(cand)
            covered |= new_terms
        # Source order reads better than score order.
        chosen.sort(key=lambda x: (x.doc_id, x.start))
        return Draft(chosen, coverage, best, True, "grounded")

    def write(self, draft: Draft, lang: Lang) -> tuple[str, list[Citation]]:
        t = TEXT[lang]
        if not draft.grounded:
            titles = "; ".join(d["title"] for d in self.documents.values())
            if not titles:
                return t["empty_index"], []
            return f"{t['no_answer']} {t['covers']} {titles}.", []
        citations = []
        parts = [t["lead"]]
        for n, s in enumerate(draft.sentences, 1):
            citations.append(Citation(n, s.doc_id, s.title, s.text, s.start, s.end, s.score))
            parts.append(f"{s.text} [{n}]")
        return " ".join(parts), citations
