"""Hybrid retrieval: dense (Chroma) and lexical (BM25) over the same chunks, fused by RRF."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
import yaml

from assistant.language import EN_STOP, FR_STOP, Lang, content_words, fold
from assistant.models import Passage
from assistant.settings import RetrievalSettings
from assistant.vectorstore import VectorIndex

GLOSSARY_FILE = Path(__file__).parent / "data" / "glossary_fr_en.yaml"
SYNONYMS_FILE = Path(__file__).parent / "data" / "synonyms_en.yaml"


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def lexical_tokens(text: str) -> list[str]:
    """Folded, stop-worded, stemmed tokens for BM25 and term coverage."""
    return _stemmer().stemWords(content_words(text))


@lru_cache(maxsize=2)
def load_phrase_table(path: Path) -> list[tuple[str, str]]:
    """(folded phrase, words it adds), longest phrase first."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = [(fold(src).strip(), dst) for src, dst in raw.items()]
    return sorted(pairs, key=lambda p: -len(p[0]))


def _match_phrases(question: str, path: Path) -> tuple[str, str]:
    """(words added for the table's phrases found in the question, the words left unmatched)."""
    text = " " + re.sub(r"[^a-z0-9']+", " ", fold(question).replace("'", "' ")) + " "
    found: list[str] = []
    for src, dst in load_phrase_table(path):
        needle = f" {src} "
        if needle in text:
            found.append(dst)
            text = text.replace(needle, " ")  # a longer phrase wins over its parts
    return " ".join(found), " ".join(text.split())


def expand_query(question: str) -> tuple[str, str]:
    """(English words for the French domain phrases of a question, the words left unmatched).

    The corpus is English and MiniLM is an English model; a French question is matched
    through this glossary of the domain's vocabulary.
    """
    return _match_phrases(question, GLOSSARY_FILE)


def synonyms(question: str) -> str:
    """Domain synonyms of an English question's phrases ('' when none apply)."""
    return _match_phrases(question, SYNONYMS_FILE)[0]


@dataclass
class Query:
    """The text each retriever sees."""

    original: str
    lang: Lang
    expansion: str = ""  # English for a French question's domain phrases
    leftover: str = ""  # French words the glossary did not translate
    synonyms: str = ""  # domain synonyms of the (English) question or its expansion
    terms: list[str] = field(default_factory=list)  # lexical tokens used for BM25
    expansion_only: bool = False

    @property
    def dense_text(self) -> str:
        if self.expansion and self.expansion_only:
            return " ".join(t for t in (self.expansion, self.synonyms) if t)
        return " ".join(t for t in (self.original, self.expansion, self.synonyms) if t)


def make_query(question: str, lang: Lang, settings: RetrievalSettings) -> Query:
    expansion, leftover, syn = "", "", ""
    if settings.query_expansion:
        if lang == "fr":
            expansion, leftover = expand_query(question)
        syn = synonyms(expansion or question)
    terms = lexical_tokens(" ".join((question, expansion, syn)))
    # Words about the sources ("according to the article") match everything equally.
    terms = [t for t in terms if t not in _META_STEMS]
    only = settings.french_dense_text == "expansion"
    return Query(question, lang, expansion, leftover, syn, terms, expansion_only=only)


class HybridRetriever:
    """Loads every chunk of the index once and answers queries from memory + Chroma."""

    def __init__(self, index: VectorIndex, settings: RetrievalSettings) -> None:
        self.index = index
        self.settings = settings
        chunks = sorted(index.all_chunks(), key=lambda c: (c["doc_id"], c["chunk_index"]))
        self.chunks = chunks
        self.by_id = {c["id"]: i for i, c in enumerate(chunks)}
        self.bm25: bm25s.BM25 | None = None
        if chunks:
            self.bm25 = bm25s.BM25()
            # Every chunk gets at least one token so BM25's matrix rows line up with chunks.
            self.bm25.index(
                [lexical_tokens(c["text"]) or ["\x00"] for c in chunks], show_progress=False
            )

    def __len__(self) -> int:
        return len(self.chunks)

    def _bm25_ranked(self, terms: list[str]) -> list[tuple[int, float]]:
        if self.bm25 is None:
            return []
        known = [t for t in terms if t in self.bm25.vocab_dict]
        if not known:
            return []
        scores = self.bm25.get_scores(known)
        order = np.argsort(-scores)[: self.settings.bm25_k]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]

    def retrieve(self, query: Query, query_vector: list[float]) -> list[Passage]:
        """Fused top-k passages, each with its dense, BM25 and fused scores.

        Passages whose cosine similarity is under the score floor are dropped.
        """
        if not self.chunks:
            return []
        s = self.settings
        dense = self.index.dense_search_by_vector(query_vector, s.dense_k)
        lexical = self._bm25_ranked(query.terms)
        fused: dict[int, float] = {}
        dense_rank: dict[int, int] = {}
        bm25_rank: dict[int, tuple[int, float]] = {}
        for rank, (cid, _sim) in enumerate(dense, 1):
            if cid in self.by_id:
                i = self.by_id[cid]
                dense_rank[i] = rank
                fused[i] = fused.get(i, 0.0) + s.dense_weight / (s.rrf_k + rank)
        for rank, (i, score) in enumerate(lexical, 1):
            bm25_rank[i] = (rank, score)
            fused[i] = fused.get(i, 0.0) + s.bm25_weight / (s.rrf_k + rank)
        ranked = sorted(fused, key=lambda i: -fused[i])
        cosine = self._cosines(ranked, query_vector)
        passages: list[Passage] = []
        for i in ranked:
            if cosine[i] < s.score_floor:
                continue
            c = self.chunks[i]
            passages.append(
                Passage(
                    doc_id=c["doc_id"],
                    chunk_id=c["id"],
                    text=c["text"],
                    start=int(c["start"]),
                    end=int(c["end"]),
                    title=c.get("title", ""),
                    score=fused[i],
                    dense=cosine[i],
                    bm25=bm25_rank[i][1] if i in bm25_rank else None,
                    dense_rank=dense_rank.get(i),
                    bm25_rank=bm25_rank[i][0] if i in bm25_rank else None,
                )
            )
            if len(passages) == s.top_k:
                break
        return passages

    def _cosines(self, rows: list[int], query_vector: list[float]) -> dict[int, float]:
        """Exact cosine for every candidate, including those only BM25 found."""
        if not rows:
            return {}
        ids = [self.chunks[i]["id"] for i in rows]
        got = self.index.collection.get(ids=ids, include=["embeddings"])
        vectors = dict(zip(got["ids"], got["embeddings"], strict=True))
        q = np.asarray(query_vector, dtype=np.float32)
        return {
            i: float(np.dot(np.asarray(vectors[cid]), q))
            for i, cid in zip(rows, ids, strict=True)
        }


def specific_terms(query: Query) -> list[str]:
    """The question's content stems, minus words that say nothing in this domain.

    For a translated French question, the English expansion plus the untranslated rest.
    """
    text = f"{query.expansion} {query.leftover}" if query.expansion else query.original
    return [t for t in dict.fromkeys(lexical_tokens(text)) if t not in GENERIC_STEMS]


@lru_cache(maxsize=1)
def _synonym_stems() -> dict[str, frozenset[str]]:
    alts: dict[str, set[str]] = {}
    for src, dst in load_phrase_table(SYNONYMS_FILE):
        for stem in lexical_tokens(src):
            alts.setdefault(stem, set()).update(lexical_tokens(dst))
    return {k: frozenset(v) for k, v in alts.items()}


class TermMatcher:
    """How much of a question's specific terms a text contains, synonyms included."""

    def __init__(self, query: Query) -> None:
        self.terms = specific_terms(query)
        alts = _synonym_stems()
        self.alternatives = {t: {t} | alts.get(t, frozenset()) for t in self.terms}

    def share(self, stems: set[str]) -> float:
        if not self.terms:
            return 0.0
        return sum(1 for t in self.terms if self.alternatives[t] & stems) / len(self.terms)

    def found(self, stems: set[str]) -> set[str]:
        return {t for t in self.terms if self.alternatives[t] & stems}

    def missing(self, stems: set[str]) -> list[str]:
        return [t for t in self.terms if not self.alternatives[t] & stems]


_META = "according article articles report reporting reported source sources say said says"
_META_STEMS = frozenset(_stemmer().stemWords(_META.split()))
_GENERIC = "crack cocaine drug drugs paris parisian capital city user users people person"
GENERIC_STEMS = (
    frozenset(_stemmer().stemWords(_GENERIC.split())) | _META_STEMS | EN_STOP | FR_STOP
)
