"""Hybrid retrieval: dense (Chroma) and lexical (BM25) over the same chunks, fused by RRF."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import simsimd
from langchain_core.embeddings import Embeddings

from assistant.models import Passage
from assistant.search.lexicon import WordTranslations
from assistant.settings import RetrievalSettings
from assistant.store.meaning import open_meaning
from assistant.store.sidecar import ChunkTable, open_table
from assistant.store.vectorstore import VectorIndex
from assistant.text.analysis import (
    SURFACE,
    foreign_stems,
    index_tokens,
    lexical_tokens,
    stemmer,
    surface_token,
    with_surfaces,
    word_stems,
)
from assistant.text.language import (
    EN_STOP,
    FR_STOP,
    Lang,
    capitalised_words,
    content_words,
    fold,
    words,
)
from assistant.text.tables import load_yaml

GLOSSARY_FILE = Path(__file__).parent / "data" / "glossary_fr_en.yaml"
SYNONYMS_FILE = Path(__file__).parent / "data" / "synonyms_en.yaml"


@lru_cache(maxsize=2)
def load_phrase_table(path: Path) -> list[tuple[str, str]]:
    """(folded phrase, words it adds), longest phrase first."""
    raw = load_yaml(path)
    # Split as questions are (`_match_phrases`): "d'apres" is matched as "d' apres".
    pairs = [(_phrase_text(src).strip(), dst) for src, dst in raw.items()]
    return sorted(pairs, key=lambda p: -len(p[0]))


def _phrase_text(text: str) -> str:
    """Folded words, an elision apart from its word ("d' apres"), one space between."""
    return " " + re.sub(r"[^a-z0-9']+", " ", fold(text).replace("'", "' ")) + " "


def _match_phrases(question: str, path: Path) -> tuple[list[str], str]:
    """(words added for each table phrase found in the question, the words left unmatched)."""
    text = _phrase_text(question)
    found: list[str] = []
    for src, dst in load_phrase_table(path):
        needle = f" {src} "
        if needle in text:
            found.append(dst)
            text = text.replace(needle, " ")  # a longer phrase wins over its parts
    return found, " ".join(text.split())


def expand_query(question: str) -> tuple[str, str]:
    """(English words for the French domain phrases of a question, the words left unmatched).

    The corpus is English and MiniLM is an English model; a French question is matched
    through this glossary of the domain's vocabulary.
    """
    found, leftover = _match_phrases(question, GLOSSARY_FILE)
    return " ".join(found), leftover


def synonyms(question: str) -> list[str]:
    """Domain synonyms of an English question's phrases, one string per phrase."""
    return _match_phrases(question, SYNONYMS_FILE)[0]


def synonym_table() -> list[str]:
    """Every synonym string the table can add."""
    return list(dict.fromkeys(dst for _, dst in load_phrase_table(SYNONYMS_FILE)))


@dataclass
class Query:
    """The text each retriever sees."""

    original: str
    lang: Lang
    expansion: str = ""  # English for a French question's domain phrases
    leftover: str = ""  # French words the glossary did not translate
    # English corpus words for other French words (assistant/search/lexicon.py): terms for
    # both retrievers (see `dense_text`) and for the term checks.
    translated: str = ""
    # Each word of `translated` -> the other English words, and the French word, it stands for.
    alternatives: dict[str, tuple[str, ...]] = field(default_factory=dict)
    synonyms: list[str] = field(default_factory=list)  # of the question or its expansion
    terms: list[str] = field(default_factory=list)  # BM25's tokens (`index_tokens`)
    dense: str = "question+expansion"  # settings.retrieval.french_dense_text

    @property
    def dense_text(self) -> str:
        """What the embedding model reads: the question, or a French one's English expansion.

        The domain synonyms are added to its vector instead (`HybridRetriever.query_vector`):
        as words in the text they cost 0.4-0.9 ms more embedding on the dev questions that get
        them, and the guardrails could not share the question's vector."""
        if self.translated and self.dense == "expansion":
            # Word by word, the question in English where the corpus has the words: the
            # words still in French keep what the English ones alone would lose.
            return " ".join(t for t in (self.expansion, self.translated, self.leftover) if t)
        if self.expansion and self.dense == "expansion":
            return self.expansion
        if self.dense == "question":  # a multilingual model reads the French itself
            return self.original
        return " ".join(t for t in (self.original, self.expansion) if t)

    @cached_property
    def matcher(self) -> TermMatcher:
        """The question's specific terms, made once for the re-rank and the answerer."""
        return TermMatcher.for_query(self)

    @cached_property
    def native_matcher(self) -> TermMatcher:
        """For passages in the question's own language, when it was translated: its own
        words in its language's analysis ("partis", "Éole" against a French passage), not
        their English translations, which a French passage cannot hold. (The re-rank keeps
        `matcher`: counted this way, French chunks outranked the English evidence of French
        questions on the English articles, 3 of the train part's facts lost.)"""
        if self.lang == "en" or not (self.expansion or self.translated):
            return self.matcher
        return TermMatcher(*_terms_and_surfaces(_specific_pairs(self.original, self.lang)))

    @cached_property
    def cross_matcher(self) -> TermMatcher:
        """For passages in the other language: a translated question's terms without the
        words the glossary left in French (they cannot be in an English passage)."""
        if not (self.expansion or self.translated):
            return self.matcher
        return TermMatcher.for_query(self, translated_only=True)


def make_query(question: str, lang: Lang, settings: RetrievalSettings,
               translations: WordTranslations | None = None) -> Query:
    """The query of a question; `translations` match the French words the glossary lacks."""
    expansion, leftover, translated = "", "", ""
    alternatives: dict[str, tuple[str, ...]] = {}
    syn: list[str] = []
    if settings.query_expansion:
        if lang == "fr":
            expansion, leftover = expand_query(question)
            if translations is not None and leftover:
                translated, leftover, alternatives = _translated(question, leftover,
                                                                 translations)
        syn = synonyms(" ".join(t for t in (expansion, translated) if t) or question)
    # Words about the sources ("according to the article") match everything equally.
    pairs = word_stems(" ".join((question, expansion, translated, *syn)))
    pairs = [p for p in pairs if p[1] not in _META_STEMS]
    # The French stems of the same words reach French documents (English ones have none).
    french = [s for s in foreign_stems([w for w, _ in pairs]) if s not in GENERIC_STEMS]
    terms = list(dict.fromkeys([*with_surfaces(pairs), *french]))
    return Query(question, lang, expansion, leftover, translated, alternatives, syn, terms,
                 dense=settings.french_dense_text)


def _translated(question: str, leftover: str, translations: WordTranslations
                ) -> tuple[str, str, dict[str, tuple[str, ...]]]:
    """The nearest English word of each leftover word that has one, the words still
    untranslated, and each English word's other translations."""
    found = translations.translate(question, content_words(leftover))
    if not found:
        return "", leftover, {}
    leftover = " ".join(w for w in leftover.split() if w not in found)
    # The French word stays an alternative of its translation: a French passage says it.
    return (" ".join(alts[0] for alts in found.values()), leftover,
            {alts[0]: (*alts[1:], word) for word, alts in found.items()})


class HybridRetriever:
    """Answers queries from the chunk table (assistant/store/sidecar.py) and, for large indexes,
    Chroma's HNSW index; nothing is read from Chroma per query but nearest-neighbour ids."""

    def __init__(self, index: VectorIndex, settings: RetrievalSettings,
                 table: ChunkTable | None = None) -> None:
        self.index = index
        self.settings = settings
        self.table = table if table is not None else open_table(index, index_tokens)
        # Each chunk in the multilingual encoder (`use_meaning`), for the re-rank.
        self.meaning: np.ndarray | None = None
        self.bm25 = self.table.bm25
        self._vocab = self.bm25.vocab_dict if self.bm25 is not None else {}
        self._titles = _title_index(self.table.docs)
        # The scan reads a half-precision copy: half the memory traffic, and memory is what
        # bounds it (the embedding model has just evicted the vectors from the cache). Its
        # cosines differ from full precision by under 1e-3.
        self._half: np.ndarray | None = None
        # A read-only index has no Chroma to ask: every size is scanned.
        if len(self.table) > 0 and (len(self.table) <= settings.exact_search_max
                                    or index.read_only):
            self._half = np.ascontiguousarray(self.table.vectors, dtype=np.float16)
        self._synonym_vectors: dict[str, np.ndarray] = {}
        if settings.query_expansion and settings.synonym_weight:
            table = synonym_table()
            found = index.embeddings.embed_documents(table)
            self._synonym_vectors = dict(zip(table, np.asarray(found, np.float32), strict=True))

    def query_vector(self, query: Query, embedded: list[float] | None = None) -> list[float]:
        """The dense retriever's vector: the embedding of `query.dense_text` (`embedded`, or
        computed here) moved toward the domain synonyms of the question's phrases.

        The synonyms' vectors are embedded once, at start: this costs nothing per question,
        where adding the words to the embedded text did. At 100,705 chunks and at 5,010 it found the
        same evidence for the dev and extra questions (bench/RESULTS.md).
        """
        vector = embedded if embedded is not None else self.index.embeddings.embed_query(
            query.dense_text)
        weight = self.settings.synonym_weight
        if not query.synonyms or not weight or not self._synonym_vectors:
            return vector
        toward = np.sum([self._synonym_vectors[s] for s in query.synonyms], axis=0)
        moved = np.asarray(vector, np.float32) + weight * toward / np.linalg.norm(toward)
        return (moved / np.linalg.norm(moved)).tolist()

    def __len__(self) -> int:
        return len(self.table)

    @property
    def vocabulary(self) -> set[str]:
        """Every stem of the indexed text (BM25's vocabulary, less the words themselves)."""
        return {t for t in self._vocab if not t.startswith(SURFACE)}

    def _bm25_ranked(self, terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(rows, BM25 scores) of the best lexical matches, best first."""
        known = [t for t in terms if t in self._vocab]
        if self.bm25 is None or not known:
            return _NONE
        return _top(self.bm25.get_scores(known), self.settings.bm25_k, positive=True)

    def _dense_ranked(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The nearest rows, best first, and every row's cosine when all were scanned: a scan
        of every chunk vector up to `exact_search_max` chunks, Chroma's HNSW above (None)."""
        k = min(self.settings.dense_k, len(self.table))
        if self._half is not None:
            sims = simsimd.cdist(q.astype(np.float16)[None], self._half, metric="dot",
                                 threads=1)
            cosines = np.asarray(sims, dtype=np.float32).ravel()
            return _top(cosines, k)[0], cosines
        rows = self.table.row_of
        found = [rows[cid] for cid, _ in self.index.dense_search_by_vector(q, k) if cid in rows]
        return np.asarray(found, dtype=np.int64), None

    def use_meaning(self, encoder: Embeddings, encoder_name: str) -> None:
        """Re-rank with the chunks' vectors in `encoder` too (assistant/store/meaning.py)."""
        if not self.settings.rerank_meaning_weight:
            return
        self.meaning = open_meaning(self.index.settings.paths.index_dir, self.table, encoder,
                                    encoder_name, self.settings.meaning_max_chunks,
                                    read_only=bool(self.index.read_only))

    def retrieve(self, query: Query, query_vector: list[float],
                 meaning_vector: np.ndarray | None = None) -> list[Passage]:
        """Fused top-k passages, each with its dense, BM25 and fused scores.

        Passages whose cosine similarity is under the score floor are dropped.
        `meaning_vector` is the question in the multilingual encoder, when the chunks have
        theirs (`use_meaning`).
        """
        if not len(self.table):
            return []
        s = self.settings
        q = np.asarray(query_vector, dtype=np.float32)
        dense, cosines = self._dense_ranked(q)
        lexical, bm25_scores = self._bm25_ranked(query.terms)
        # Reciprocal rank fusion, in arrays: the candidates in order of first appearance
        # (dense, then lexical only), then by fused score (a stable sort keeps that order on
        # ties).
        if not len(dense) and not len(lexical):
            return []
        at = np.full(len(self.table), -1, dtype=np.int64)
        at[dense] = np.arange(len(dense))
        also_dense = at[lexical]
        shared = also_dense >= 0
        rows = np.concatenate((dense, lexical[~shared]))
        lexical_votes = s.bm25_weight / (s.rrf_k + np.arange(1, len(lexical) + 1))
        fused = np.concatenate((s.dense_weight / (s.rrf_k + np.arange(1, len(dense) + 1)),
                                lexical_votes[~shared]))
        fused[also_dense[shared]] += lexical_votes[shared]
        by_fused = np.argsort(-fused, kind="stable")
        ranked, fused = rows[by_fused], fused[by_fused]
        # The cosine of every candidate, including those only BM25 found.
        cosine = cosines[ranked] if cosines is not None else _dot(self.table.vectors[ranked], q)
        coverage: np.ndarray | None = None
        score = fused.astype(np.float32)
        meaning = self._meaning_of(ranked, meaning_vector)
        if s.rerank:
            coverage = self.coverage(ranked, query.matcher)
            w = s.rerank_cosine_weight
            score = w * cosine + (1 - w) * coverage
            if meaning is not None:
                # The multilingual encoder reads a French passage for an English question
                # (and the reverse) where the retrieval model and the terms cannot.
                m = s.rerank_meaning_weight
                score = (1 - m) * score + m * meaning
        order = np.argsort(-score, kind="stable")  # ties keep the RRF order
        passages: list[Passage] = []
        for j in order.tolist():
            i, cos = int(ranked[j]), float(cosine[j])
            # An English model reads French text poorly: a passage that holds most of the
            # question's terms is kept below the cosine floor.
            lexical_hold = coverage is not None and coverage[j] >= s.floor_exempt_coverage
            if cos < s.score_floor and not lexical_hold:
                continue
            c = self.table.chunk(i)
            d_rank = int(at[i]) + 1 if at[i] >= 0 else None
            b_rank = _rank_of(lexical, i)
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
                    bm25=float(bm25_scores[b_rank - 1]) if b_rank else None,
                    dense_rank=d_rank,
                    bm25_rank=b_rank,
                    fused=float(fused[j]),
                    coverage=float(coverage[j]) if coverage is not None else None,
                    meaning=float(meaning[j]) if meaning is not None else None,
                )
            )
            if len(passages) == s.top_k:
                break
        return passages

    def _meaning_of(self, rows: np.ndarray, vector: np.ndarray | None) -> np.ndarray | None:
        if self.meaning is None or vector is None:
            return None
        return self.meaning[rows] @ np.asarray(vector, np.float32)

    def coverage(self, rows: list[int] | np.ndarray, matcher: TermMatcher) -> np.ndarray:
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
        doc_of_row = self.table.spans[cand, 0]
        n = len(self.table)
        total = 0.0
        for alts in features:
            has = self._in_title(alts)[doc_of_row]
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

    def _in_title(self, alts: frozenset[str]) -> np.ndarray:
        """Per document row: does its title contain one of `alts`?"""
        mark = np.zeros(len(self.table.docs), dtype=bool)
        for alt in alts:
            docs = self._titles.get(alt)
            if docs is not None:
                mark[docs] = True
        return mark

    def _posting(self, stem: str) -> np.ndarray:
        """The sorted rows whose chunk contains `stem` (the BM25 matrix's column)."""
        tid = self._vocab.get(stem)
        if tid is None or self.bm25 is None:
            return np.zeros(0, dtype=np.int64)
        m = self.bm25.scores
        return np.asarray(m["indices"][int(m["indptr"][tid]) : int(m["indptr"][tid + 1])])


def _title_index(docs: list[dict[str, str]]) -> dict[str, np.ndarray]:
    """Each BM25 token of the documents' titles: the rows of the documents that have it."""
    index: dict[str, list[int]] = {}
    for d, doc in enumerate(docs):
        for token in dict.fromkeys(index_tokens(doc["title"])):
            index.setdefault(token, []).append(d)
    return {t: np.asarray(v, dtype=np.int64) for t, v in index.items()}


_NONE = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


def _rank_of(rows: np.ndarray, row: int) -> int | None:
    """The 1-based rank of `row` in a ranking, None if it is not there."""
    at = np.flatnonzero(rows == row)
    return int(at[0]) + 1 if len(at) else None


def _dot(matrix: np.ndarray, q: np.ndarray) -> np.ndarray:
    """matrix @ q on this thread: BLAS would wake its thread pool, whose spinning threads
    then slow the next embedding on a two-core machine."""
    return np.einsum("ij,j->i", matrix, q)


def _top(scores: np.ndarray, k: int, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The k best (rows, scores), best first, ties in row order (`positive`: scores > 0 only).

    A partial sort: the score arrays are as long as the index.
    """
    if positive:
        rows = np.flatnonzero(scores > 0)
        pool = scores[rows]
    else:
        rows, pool = None, scores
    if k <= 0 or not len(pool):
        return _NONE
    if k < len(pool):
        kth = np.partition(pool, len(pool) - k)[len(pool) - k]
        keep = np.flatnonzero(pool >= kth)  # every row tied with the k-th stays in the running
        rows = keep if rows is None else rows[keep]
    elif rows is None:
        rows = np.arange(len(pool))
    best = rows[np.argsort(-scores[rows], kind="stable")][:k]
    return best, scores[best]


def _specific_text(query: Query, translated_only: bool = False) -> str:
    """For a translated French question, the English expansion plus the untranslated rest
    (or the expansion alone), else the question."""
    english = " ".join(t for t in (query.expansion, query.translated) if t)
    if not english:
        return query.original
    if not translated_only:
        return f"{english} {query.leftover}"
    # Names are the same in every language ("Inserm", "Dagnaud"): they stay terms.
    names = set(_names_in(query.original))
    return " ".join([english, *(w for w in words(query.leftover) if w in names)])


def _names_in(question: str) -> list[str]:
    """The capitalised words of a question, folded, but for its first word."""
    body = question.strip()
    first = re.match(r"\S+", body)
    return capitalised_words(body[first.end():] if first else body)


def specific_words(query: Query, translated_only: bool = False
                   ) -> tuple[list[str], list[str], dict[str, set[str]]]:
    """The question's content stems, minus words that say nothing in this domain; the
    surface tokens (`surface_token`) of the words behind them; and each stem's French
    stems, which a French passage holds instead."""
    pairs = _specific_pairs(_specific_text(query, translated_only))
    french: dict[str, set[str]] = {}
    for (_, stem), fr in zip(pairs, foreign_stems([w for w, _ in pairs]), strict=True):
        french.setdefault(stem, set()).add(fr)
    # A translated word's other translations count for it ("worrying" for "scared"), and
    # so does the French word itself, in a French passage.
    for word, stem in pairs:
        for alt in query.alternatives.get(word, ()):
            french[stem].update([*(s for _, s in word_stems(alt)), *foreign_stems([alt])])
    return (*_terms_and_surfaces(pairs), french)


def _specific_pairs(text: str, lang: str = "en") -> list[tuple[str, str]]:
    """(word, stem) of the text's content words, minus those that say nothing here."""
    return [(w, s) for w, s in word_stems(text, lang) if s not in GENERIC_STEMS]


def _terms_and_surfaces(pairs: list[tuple[str, str]]) -> tuple[list[str], list[str]]:
    """The distinct stems, and the surface tokens (`surface_token`) of the words behind them."""
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

    def __init__(self, terms: list[str], surfaces: list[str] | None = None,
                 foreign: dict[str, set[str]] | None = None) -> None:
        self.terms = terms
        self.surfaces = surfaces or []  # the question's own words, for `features`
        alts = _synonym_stems()
        foreign = foreign or {}
        self.alternatives = {t: {t} | alts.get(t, frozenset()) | foreign.get(t, set())
                             for t in self.terms}

    @classmethod
    def for_query(cls, query: Query, translated_only: bool = False) -> TermMatcher:
        return cls(*specific_words(query, translated_only))

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


# Words of the asking, not of the answer: "what kind of facilities" is answered by a
# sentence on "reception centers" that never says "kind".
_META = ("according article articles report reporting reported source sources say said says "
         "quote quoted quotes quoting cite cited cites "
         "kind kinds sort sorts type types")
_META_STEMS = frozenset(stemmer().stemWords(_META.split()))
_GENERIC = "crack cocaine drug drugs paris parisian capital city user users people person"
_GENERIC_FR = ("sorte sortes genre genres crack cocaine drogue drogues paris parisien parisienne "
               "capitale ville usager usagers usageres personne personnes gens consommateur "
               "consommateurs")
GENERIC_STEMS = (
    frozenset(stemmer().stemWords(_GENERIC.split())) | _META_STEMS | EN_STOP | FR_STOP
    | frozenset(foreign_stems(_GENERIC_FR.split()))
)
