"""The data that flows from retrieval to the reply, and the reply's JSON shape."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Kind = Literal["answer", "no_answer", "emergency", "refusal", "care", "out_of_scope"]


@dataclass
class Passage:
    """A retrieved chunk with the scores that ranked it."""

    doc_id: str
    chunk_id: str
    text: str
    start: int
    end: int
    title: str = ""
    score: float = 0.0  # the score that ranked it (re-rank score, or RRF without re-ranking)
    dense: float | None = None  # cosine similarity to the question
    bm25: float | None = None  # BM25 score, None when not in the lexical top-k
    dense_rank: int | None = None
    bm25_rank: int | None = None
    fused: float = 0.0  # reciprocal rank fusion of the dense and BM25 ranks
    coverage: float | None = None  # share of the question's specific terms in the chunk

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "chunk_id": self.chunk_id,
            "text": self.text,
            "score": round(self.score, 4),
            "start": self.start,
            "end": self.end,
        }


@dataclass
class Citation:
    n: int
    doc_id: str
    title: str
    quote: str
    start: int
    end: int
    score: float

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "score": round(self.score, 4)}


@dataclass
class Answer:
    kind: Kind
    lang: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    retrieved: list[Passage] = field(default_factory=list)
    resources: list[dict[str, Any]] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    # For staff: why the reply came out as it did (not part of the public JSON).
    trace: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "lang": self.lang,
            "text": self.text,
            "citations": [c.to_json() for c in self.citations],
            "retrieved": [p.to_json() for p in self.retrieved],
            "resources": self.resources,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }
