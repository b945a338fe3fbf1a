"""Hybrid retrieval: dense (Chroma) and lexical (BM25) over the same chunks, fused by RRF."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import Stemmer
import yaml

from assistant.language import EN_STOP, FR_STOP, Lang, content_words, fold
from assistant.models import Passage
from assistant.settings import RetrievalSettings
from assistant.sidecar import ChunkTable, open_table
from assistant.vectorstore import VectorIndex

GLOSSARY_FILE = Path(__file__).parent / "data" / "glossary_fr_en.yaml"
SYNONYMS_FILE = Path(__file__).parent / "data" / "synonyms_en.yaml"


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def lexical_tokens(text: str) -> list[str]:
    """Folded, stop-worded, stemmed tokens for BM25 and term coverage."""
    if len(text) > _CACHED_CHARS:
        return uncached_lexical_tokens(text)
    return list(_cached_tokens(text))


def uncached_lexical_tokens(text: str) -> list[str]:
    """`lexical_tokens` for bulk work that would only churn the cache."""
    return _stemmer().stemWords(content_words(text))


# Marks a word's own folded form, indexed beside its stem.
SURFACE = "="


def _word_stems(text: str) -> list[tuple[str, str]]:
    words = content_words(text)
    return list(zip(words, _stemmer().stemWords(words), strict=True))


def surface_token(word: str, stem: str) -> str:
    """The token that matches `word` itself: the stem when they are the same word."""
    return stem if word == stem else SURFACE + word


def index_tokens(text: str) -> list[str]:
    """BM25's tokens: each content word's stem and, when it differs, the word itself.

    Stems let "tested" match "testing"; the word itself lets a rare form count for what it
    is. In a large archive "test" and "testing" may be in thousands of chunks about drug
    testing while "tested" is in one, and only the word itself says so (Lucene's
    keyword-repeat filter does the same).
    """
    return _with_surfaces(_word_stems(text))


def _with_surfaces(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """Each (word, stem)'s stem, then its surface token when that is another token."""
    return [t for w, stem in pairs for t in dict.fromkeys((stem, surface_token(w, stem)))]


# The answerer tokenizes the same passages and sentences for question after question;
# whole documents and bulk indexing don't go through the cache (bounded: ~16 MB at most).
_CACHED_CHARS = 2000


@lru_cache(maxsize=4096)
def _cached_tokens(text: str) -> tuple[str, ...]:
    return tuple(uncached_lexical_tokens(text))


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
    terms: list[str] = field(default_factory=list)  # BM25's tokens (`index_tokens`)
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
    # Words about the sources ("according to the article") match everything equally.
    pairs = _word_stems(" ".join((question, expansion, syn)))
    terms = _with_surfaces(p for p in pairs if p[1] not in _META_STEMS)
    only = settings.french_dense_text == "expansion"
    return Query(question, lang, expansion, leftover, syn, terms, expansion_only=only)


class HybridRetriever:
    """Answers queries from the chunk table (assistant/sidecar.py) and, for large indexes,
    Chroma's HNSW index; nothing is read from Chroma per query but nearest-neighbour ids."""

    def __init__(self, index: VectorIndex, settings: RetrievalSettings,
                 table: ChunkTable | None = None) -> None:
        self.index = index
        self.settings = settings
        self.table = table if table is not None else open_table(index, index_tokens)
        self.bm25 = self.table.bm25
        self._vocab = self.bm25.vocab_dict if self.bm25 is not None else {}
        self._titles: dict[int, frozenset[str]] = {}  # filled as documents are retrieved

    def __len__(self) -> int:
        return len(self.table)

    @property
    def vocabulary(self) -> set[str]:
        """Every stem of the indexed text (BM25's vocabulary, less the words themselves)."""
        return {t for t in self._vocab if not t.startswith(SURFACE)}

    def _bm25_ranked(self, terms: list[str]) -> list[tuple[int, float]]:
        if self.bm25 is None:
            return []
        known = [t for t in terms if t in self._vocab]
        if not known:
            return []
        return _top(self.bm25.get_scores(known), self.settings.bm25_k, positive=True)

    def _dense_ranked(self, q: np.ndarray) -> list[tuple[int, float]]:
        """(row, cosine), best first: exact over the chunk vectors up to `exact_search_max`
        chunks, Chroma's HNSW neighbours above."""
        k = min(self.settings.dense_k, len(self.table))
        if len(self.table) <= self.settings.exact_search_max:
            return _top(_dot(self.table.vectors, q), k)
        rows = self.table.row_of
        return [
            (rows[cid], sim) for cid, sim in self.index.dense_search_by_vector(q, k) if cid in rows
        ]

    def retrieve(self, query: Query, query_vector: list[float]) -> list[Passage]:
        """Fused top-k passages, each with its dense, BM25 and fused scores.

        Passages whose cosine similarity is under the score floor are dropped.
        """
        if not len(self.table):
            return []
        s = self.settings
        q = np.asarray(query_vector, dtype=np.float32)
        dense = self._dense_ranked(q)
        lexical = self._bm25_ranked(query.terms)
        fused: dict[int, float] = {}
        dense_rank: dict[int, int] = {}
        bm25_rank: dict[int, tuple[int, float]] = {}
        for rank, (i, _sim) in enumerate(dense, 1):
            dense_rank[i] = rank
            fused[i] = fused.get(i, 0.0) + s.dense_weight / (s.rrf_k + rank)
        for rank, (i, score) in enumerate(lexical, 1):
            bm25_rank[i] = (rank, score)
            fused[i] = fused.get(i, 0.0) + s.bm25_weight / (s.rrf_k + rank)
        ranked = sorted(fused, key=lambda i: -fused[i])
        # Exact cosine for every candidate, including those only BM25 found.
        cosine = _dot(self.table.vectors[ranked], q) if ranked else np.zeros(0, np.float32)
        coverage: np.ndarray | None = None
        score = np.asarray([fused[i] for i in ranked], dtype=np.float32)
        if s.rerank and ranked:
            coverage = self.coverage(ranked, TermMatcher.for_query(query))
            w = s.rerank_cosine_weight
            score = w * cosine + (1 - w) * coverage
        order = np.argsort(-score, kind="stable")  # ties keep the RRF order
        passages: list[Passage] = []
        for j in order.tolist():
            i, cos = ranked[j], float(cosine[j])
            if cos < s.score_floor:
                continue
            c = self.table.chunk(i)
            passages.append(
                Passage(
                    doc_id=c["doc_id"],
                    chunk_id=c["id"],
                    text=c["text"],
                    start=c["start"],
                    end=c["end"],
                    title=c["title"],
                    score=float(score[j]),
                    dense=cos,
                    bm25=bm25_rank[i][1] if i in bm25_rank else None,
                    dense_rank=dense_rank.get(i),
                    bm25_rank=bm25_rank[i][0] if i in bm25_rank else None,
                    fused=fused[i],
                    coverage=float(coverage[j]) if coverage is not None else None,
                )
            )
            if len(passages) == s.top_k:
                break
        return passages

    def coverage(self, rows: list[int], matcher: TermMatcher) -> np.ndarray:
        """The share of the matcher's terms each row's chunk or its document's title
        contains, each weighted by its inverse document frequency: in a large archive a rare
        term ("judicial") says more about a passage than a common one ("mayor").

        A term is the stem of a question word (or a synonym's stem) and, apart, the word
        itself, so "tested" counts once for "testing" and twice for "tested". The title counts
        because questions name their source ("according to the reporting on Hidalgo's
        letter") while the passage itself says "the mayor". A word that neither the archive
        nor a candidate's title uses (a typo, "conclude" when every source says "judged") is
        left out: it would shrink every passage's coverage alike and leave the cosine to
        decide alone.

        Read from the BM25 index's posting lists, so no chunk text is tokenised per query.
        """
        out = np.zeros(len(rows), dtype=np.float32)
        features = matcher.features()
        if not features:
            return out
        cand = np.asarray(rows, dtype=np.int64)
        # Candidates share documents: each distinct title is checked once.
        docs, doc_of_row = np.unique(self.table.spans[cand, 0], return_inverse=True)
        titles = [self._title_tokens(int(d)) for d in docs]
        n = len(self.table)
        total = 0.0
        for alts in features:
            in_title = np.fromiter((not alts.isdisjoint(t) for t in titles), bool, len(titles))
            has = in_title[doc_of_row]
            df = 0
            for alt in alts:
                posting = self._posting(alt)
                df = max(df, len(posting))
                if len(posting):
                    at = np.minimum(np.searchsorted(posting, cand), len(posting) - 1)
                    has |= posting[at] == cand
            if df == 0 and not has.any():
                continue  # a word the archive never uses tells no passage from another
            weight = float(np.log1p(n / df if df else n))
            out += weight * has
            total += weight
        return out / total if total else out

    def _title_tokens(self, doc: int) -> frozenset[str]:
        """The BM25 tokens of a document's title (by its row in the chunk table's docs)."""
        tokens = self._titles.get(doc)
        if tokens is None:
            tokens = self._titles[doc] = frozenset(index_tokens(self.table.docs[doc]["title"]))
        return tokens

    def _posting(self, stem: str) -> np.ndarray:
        """The sorted rows whose chunk contains `stem` (the BM25 matrix's column)."""
        tid = self._vocab.get(stem)
        if tid is None or self.bm25 is None:
            return np.zeros(0, dtype=np.int64)
        m = self.bm25.scores
        return np.asarray(m["indices"][int(m["indptr"][tid]) : int(m["indptr"][tid + 1])])


def _dot(matrix: np.ndarray, q: np.ndarray) -> np.ndarray:
    """matrix @ q on this thread: BLAS would wake its thread pool, whose spinning threads
    then slow the next embedding on a two-core machine."""
    return np.einsum("ij,j->i", matrix, q)


def _top(scores: np.ndarray, k: int, positive: bool = False) -> list[tuple[int, float]]:
    """The k best (row, score), best first, ties in row order (`positive`: scores > 0 only).

    A partial sort: the score arrays are as long as the index.
    """
    rows = np.flatnonzero(scores > 0) if positive else np.arange(len(scores))
    if k <= 0 or not len(rows):
        return []
    if k < len(rows):
        kth = np.partition(scores[rows], len(rows) - k)[len(rows) - k]
        rows = rows[scores[rows] >= kth]  # every row tied with the k-th stays in the running
    order = rows[np.argsort(-scores[rows], kind="stable")][:k]
    return [(int(i), float(scores[i])) for i in order]


def _specific_text(query: Query) -> str:
    """For a translated French question, the English expansion plus the untranslated rest."""
    return f"{query.expansion} {query.leftover}" if query.expansion else query.original


def specific_words(query: Query) -> tuple[list[str], list[str]]:
    """The question's content stems, minus words that say nothing in this domain, and the
    surface tokens (`surface_token`) of the words behind them."""
    pairs = [(w, s) for w, s in _word_stems(_specific_text(query)) if s not in GENERIC_STEMS]
    return (list(dict.fromkeys(s for _, s in pairs)),
            list(dict.fromkeys(surface_token(w, s) for w, s in pairs)))


@lru_cache(maxsize=1)
def _synonym_stems() -> dict[str, frozenset[str]]:
    alts: dict[str, set[str]] = {}
    for src, dst in load_phrase_table(SYNONYMS_FILE):
        for stem in lexical_tokens(src):
            alts.setdefault(stem, set()).update(lexical_tokens(dst))
    return {k: frozenset(v) for k, v in alts.items()}


class TermMatcher:
    """How much of a question's specific terms a text contains, synonyms included."""

    def __init__(self, terms: list[str], surfaces: list[str] | None = None) -> None:
        self.terms = terms
        self.surfaces = surfaces or []  # the question's own words, for `features`
        alts = _synonym_stems()
        self.alternatives = {t: {t} | alts.get(t, frozenset()) for t in self.terms}

    @classmethod
    def for_query(cls, query: Query) -> TermMatcher:
        return cls(*specific_words(query))

    def features(self) -> list[frozenset[str]]:
        """What a passage may contain, one alternative set each: every term's stem or
        synonyms, then every question word itself (`surface_token`)."""
        return [frozenset(self.alternatives[t]) for t in self.terms] + [
            frozenset((s,)) for s in self.surfaces
        ]

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
