"""The data that flows between the stages: document → chunks → passages → cited answer.

Every type that crosses a stage boundary lives here, so no stage imports another for its types.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

#: the reply kinds of ../shared/eval/README.md
Kind = Literal["answer", "no_answer", "emergency", "refusal", "care", "out_of_scope"]


@dataclass
class Fix:
    broken: str
    repaired: str
    reason: str
    count: int


@dataclass
class Document:
    id: str
    title: str
    text: str
    language: str = "en"
    published: str = "unknown"
    source: str = "unknown"
    provenance: str = ""
    path: str = ""
    fixes: list[Fix] = field(default_factory=list)
    # What in the text speaks to the reader (contact details, instructions): listed at ingest.
    flags: list[str] = field(default_factory=list)
    # Who wrote it and where it appeared, for a publishable reference; "" when not known.
    author: str = ""
    outlet: str = ""

    @property
    def content_hash(self) -> str:
        meta = f"{self.title}\x1f{self.language}\x1f{self.published}\x1f{self.source}"
        return hashlib.sha256((meta + "\x1e" + self.text).encode("utf-8")).hexdigest()

    def metadata(self) -> dict[str, str]:
        return {
            "doc_id": self.id,
            "title": self.title,
            "language": self.language,
            "published": self.published,
            "source": self.source,
            "provenance": self.provenance,
            "path": self.path,
            "author": self.author,
            "outlet": self.outlet,
        }


@dataclass
class Chunk:
    id: str
    doc_id: str
    text: str
    start: int
    end: int
    index: int


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
    meaning: float | None = None  # cosine to the question in the multilingual encoder

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
