"""The default answerer: picks the source sentences that best answer the question.

It needs no language model. Every `[n]` in the reply maps to a citation whose quote is
exactly `document_text[start:end]`. Passages are data: their text is quoted, never obeyed.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import islice
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.answer.answer_types import (
    AnswerType,
    Names,
    answer_match,
    asked_kinds,
    asked_things,
    asks_exact,
    asks_for_figure,
    asks_money,
    asks_sum,
    counted_words,
    counts_money,
    counts_things,
    figure_followers,
    gives_count,
    gives_quantity,
    holds,
    kind_words,
    learn_names,
    only_sums,
    question_type,
    question_words,
    speakers,
    spoken_to_only,
)
from assistant.answer.check import check_features
from assistant.answer.flow import PreviousReply, flow
from assistant.answer.ranker import Candidates, SentenceRanker, feature_matrix
from assistant.models import Citation, Passage
from assistant.search.retrieval import GENERIC_STEMS, Query, TermMatcher
from assistant.settings import AnswerSettings
from assistant.text.analysis import lexical_tokens
from assistant.text.contact import voice
from assistant.text.language import (
    Lang,
    calendar_translation,
    content_words,
    fold,
    format_int,
    spelled_out,
    words,
)

# Openings that lean on the sentence before: pronouns, and connectives that answer it ("but
# the important thing is...", "today, the numbers are very low"), in English and French.
_LEADING_PRONOUN = re.compile(
    r"(?i)(they|he|she|it|this|that|these|those|its|but|yet|however|today|now|instead|"
    r"il|elle|ils|elles|ce|cela|ça|celui|celle|ceux|mais|pourtant|cependant|"
    r"aujourd'hui|désormais)\b")
_SHORT_STEM = 4  # shorter stems are compared whole
_NAME_TOKEN = re.compile(r"[^\W_][\w'’-]*")
_CARRIED_TOPIC = re.compile(r"\([^)]*\)")


def named_terms(query: Query) -> dict[str, str]:
    """{stem: word} for the names and figures of a question (capitalised mid-sentence, digits).

    For a translated French question only the words the glossary left untranslated count.
    A follow-up's carried-over topic, in brackets ("is she running (Hidalgo 18th)?"), is
    context for retrieval, not something the quoted sentence must name.
    """
    leftover = set(query.leftover.split()) if query.expansion or query.translated else None
    out: dict[str, str] = {}
    first = True
    for m in _NAME_TOKEN.finditer(_CARRIED_TOPIC.sub(" ", query.original)):
        word = m.group()
        is_name = (not first and word[0].isupper()) or any(ch.isdigit() for ch in word)
        first = word.endswith((".", "?", "!"))
        if not is_name:
            continue
        if leftover is not None and not set(fold(word).replace("'", " ").split()) & leftover:
            continue
        for stem in lexical_tokens(word):
            if stem not in GENERIC_STEMS:
                out.setdefault(stem, word)
    return out


def name_forms(stem: str, word: str) -> frozenset[str]:
    """What text must hold to name `word`: its English or its French stem (a month or day
    in either language: "September" is named by "septembre")."""
    others = [w for w in (calendar_translation(word), *spelled_out(word)) if w]
    extra = [t for w in others for t in (*lexical_tokens(w), *lexical_tokens(w, "fr"))]
    return frozenset((stem, *lexical_tokens(word, "fr"), *extra))


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
    found: frozenset[str] = frozenset()  # the question's specific terms this sentence has
    base: float = 0.0  # the score from meaning and terms alone, before the answer type
    # How well it holds the kind of answer asked for (0, 0.5 vague, 1) and which kind
    # ("frequency", "date", ...; answer_types.py): staff see why it was chosen.
    answer_match: float = 0.0
    answer_kind: str = ""
    meaning: float = 0.0  # cosine with the question in the multilingual encoder, when used
    flow: float = 0.0  # in a follow-up: new and right after the last quote (flow.py)


@dataclass
class Draft:
    """What the answerer decided, before the reply is worded."""

    sentences: list[ScoredSentence]
    coverage: float
    best: float
    grounded: bool
    reason: str
    # Every candidate sentence, best first (what a written answer may draw on).
    ranked: list[ScoredSentence] = field(default_factory=list)
    answer_type: AnswerType = ""  # what the question asks for ("how_often", "who", ...)
    check: float | None = None  # the learned answer check's probability, when it ran


TEXT = {
    "en": {
        "lead": "From the sources:",
        # After a quoted sentence that gives contacts or instructions: whose words they are.
        "source_words": "(these are the words of “{title}”, not advice from this service; "
        "checked contacts are below)",
        "no_answer": "The sources I have don't cover this, so I can't answer it without guessing.",
        "covers": "They cover:",
        "more": "; and {n} more documents",
        "empty_index": "No documents are indexed yet, so I can't answer from sources.",
    },
    "fr": {
        "lead": "D'après les sources (citées dans leur langue d'origine) :",
        "source_words": "(ce sont les mots de « {title} », pas un conseil de ce service ; "
        "les contacts vérifiés sont ci-dessous)",
        "no_answer": (
            "Les sources dont je dispose ne traitent pas de cette question ; "
            "je ne peux donc pas y répondre sans inventer."
        ),
        "covers": "Elles portent sur :",
        "more": " ; et {n} autres documents",
        "empty_index": (
            "Aucun document n'est encore indexé : je ne peux pas répondre à partir de sources."
        ),
    },
}


MAX_TITLES = 5  # a no_answer reply names a few documents, not a whole archive


_MAX_WORD_VECTORS = 20_000


class SentenceVectors:
    """Sentence vectors of one encoder, embedded on first use and kept (the `keep` most
    recently used when set; None keeps every one)."""

    def __init__(self, embeddings: Embeddings, documents: dict[str, dict[str, Any]]) -> None:
        self.embeddings = embeddings
        self.documents = documents
        self.keep: int | None = None
        self._vectors: OrderedDict[tuple[str, int, int], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # two questions may be answered at once

    def __len__(self) -> int:
        return len(self._vectors)

    def items(self) -> Any:
        return self._vectors.items()

    def keys(self) -> Any:
        return self._vectors.keys()

    def __getitem__(self, key: tuple[str, int, int]) -> np.ndarray:
        return self._vectors[key]

    def get(self, keys: list[tuple[str, int, int]]) -> list[np.ndarray]:
        with self._lock:
            missing = [k for k in dict.fromkeys(keys) if k not in self._vectors]
            if missing:
                texts = [self.documents[d]["text"][s:e] for d, s, e in missing]
                for key, vec in zip(missing, self.embeddings.embed_documents(texts), strict=True):
                    self._vectors[key] = np.asarray(vec, dtype=np.float32)
            out = [self._vectors[k] for k in keys]
            if self.keep is not None:
                for k in keys:
                    self._vectors.move_to_end(k)
                while len(self._vectors) > max(self.keep, len(keys)):
                    self._vectors.popitem(last=False)
        return out


class SentenceAnswerer:
    """Extractive answerer; the `answer` step of the retrieval chain."""

    def __init__(
        self,
        embeddings: Embeddings,
        documents: dict[str, dict[str, Any]],
        settings: AnswerSettings,
        vocabulary: set[str] | None = None,
        meaning: Embeddings | None = None,
        ranker: SentenceRanker | None = None,
        check: SentenceRanker | None = None,
    ) -> None:
        self.embeddings = embeddings
        self.documents = documents
        self.settings = settings
        # Sentence boundaries are found when a document is first retrieved: at 100k chunks,
        # splitting every document at start-up would cost seconds for nothing.
        self._spans: dict[str, list[tuple[int, int]]] = {}
        self._names: dict[str, Names] = {}
        self._vectors = SentenceVectors(embeddings, documents)
        # The guard's multilingual encoder, when given: each sentence's meaning beside the
        # question's, in any language, for the learned ranker.
        self._meaning = SentenceVectors(meaning, documents) if meaning is not None else None
        self.ranker = ranker
        self._words: dict[str, np.ndarray] = {}  # see _word_vectors
        self._words_lock = threading.Lock()  # two questions may be answered at once
        self._on_candidates: Callable[[list[ScoredSentence], Candidates, str], None] | None = None
        # The learned answer check (check.py) and, when training it, who sees its features.
        self.check = check
        self._on_check: Callable[[Query, np.ndarray], None] | None = None
        # The retriever's BM25 vocabulary is the same set of stems, already built at ingest.
        if vocabulary is None:
            vocabulary = {t for d in documents.values()
                          for t in lexical_tokens(d["text"], _lang(d))}
        self.vocabulary = vocabulary
        self.lang = {doc_id: _lang(d) for doc_id, d in documents.items()}

    def spans(self, doc_id: str) -> list[tuple[int, int]]:
        if doc_id not in self._spans:
            doc = self.documents.get(doc_id)
            self._spans[doc_id] = sentence_spans(doc["text"]) if doc else []
        return self._spans[doc_id]

    def warm(self, precompute_max: int = 1_000, keep: int = 50_000, *,
             background: bool = False) -> threading.Thread | None:
        """Embed every sentence ahead of the questions, so no question pays for it.

        Past `precompute_max` sentences that would take too long at start: each question then
        embeds the sentences of its passages, and the `keep` most recently used stay.
        With `background`, a thread embeds them in small batches: a question asked meanwhile
        waits for one batch at most, and embeds its own missing sentences itself.
        """
        # About 150 characters a sentence: the check must not split every document itself.
        if sum(len(d["text"]) for d in self.documents.values()) > precompute_max * 150:
            for cache in self._caches():
                cache.keep = keep
            return None
        keys = [(d, s, e) for d in self.documents for s, e in self.spans(d)]
        if not background:
            for cache in self._caches():
                cache.get(keys)
            return None
        thread = threading.Thread(target=self._warm_batches, args=(keys,), daemon=True,
                                  name="sentence-warm")
        thread.start()
        return thread

    def _caches(self) -> list[SentenceVectors]:
        return [self._vectors] + ([self._meaning] if self._meaning is not None else [])

    def _warm_batches(self, keys: list[tuple[str, int, int]], size: int = 32) -> None:
        for cache in self._caches():
            for i in range(0, len(keys), size):
                cache.get(keys[i:i + size])

    def _sentence_vectors(self, keys: list[tuple[str, int, int]]) -> list[np.ndarray]:
        return self._vectors.get(keys)

    def candidates(self, passages: list[Passage]) -> list[tuple[str, int, int]]:
        """Sentences that overlap a retrieved passage, in retrieval order, without repeats."""
        seen: dict[tuple[str, int, int], None] = {}
        for p in passages:
            for s, e in self.spans(p.doc_id):
                if s < p.end and e > p.start:
                    seen[(p.doc_id, s, e)] = None
        return list(seen)

    def tokens(self, text: str, doc_id: str) -> list[str]:
        """`lexical_tokens` in the language of the document the text comes from."""
        return lexical_tokens(text, self.lang.get(doc_id, "en"))

    def quotable(self, passages: list[Passage]) -> list[Passage]:
        """The passages whose retrieval score is near the best one's: only they are quoted."""
        cutoff = self.settings.passage_cutoff
        if not cutoff or not passages:
            return passages
        top = max(p.score for p in passages)
        return [p for p in passages if p.score >= cutoff * top]

    def names(self, doc_id: str) -> Names:
        """The names a document uses (answer_types.learn_names), learned when it is first
        quoted from, like its sentence boundaries."""
        if doc_id not in self._names:
            doc = self.documents.get(doc_id)
            self._names[doc_id] = learn_names(doc["text"]) if doc else Names()
        return self._names[doc_id]

    def draft(self, query: Query, query_vector: list[float], passages: list[Passage],
              meaning_vector: np.ndarray | None = None, previous: str = "") -> Draft:
        """The sentences to quote, or why none is, with what the question asks for.
        `meaning_vector` is the question's in the multilingual encoder, for the ranker;
        `previous` the reply before a follow-up."""
        answer_type = question_type(query.original)
        reply = PreviousReply(previous)
        out = self._draft(query, query_vector, passages, answer_type, meaning_vector, reply)
        if out.reason.startswith((_TYPE_GAP, _NAMES_GAP)) and \
                len(self.quotable(passages)) < len(passages):
            # The quotable passages hold no date for a "when" question, or not the names it
            # gives ("en mai 2021"): a passage retrieved lower may. Only then are the others
            # read, so no other answer can change.
            wider = self._draft(query, query_vector, passages, answer_type, meaning_vector,
                                reply, every_passage=True)
            if wider.grounded:
                out = wider
                out.reason = "grounded, in a passage retrieved below the quoting floor"
        out.answer_type = answer_type
        if out.grounded and (self.check is not None or self._on_check is not None):
            out = self._checked(query, passages, out)
        return out

    def record_checks(self, callback: Callable[[Query, np.ndarray], None]) -> None:
        """Hand every grounded draft's check features to `callback` (training the check:
        assistant/training/check.py)."""
        self._on_check = callback

    def _checked(self, query: Query, passages: list[Passage], out: Draft) -> Draft:
        """The draft, or no answer when the learned check says its quotes do not answer."""
        _, matcher, _ = self._matcher(query, passages[0].doc_id)  # the top passage's
        terms = matcher.terms
        found = set().union(*(x.found for x in out.sentences)) if out.sentences else set()
        top = [(x.score, x.meaning, x.cosine, x.overlap, x.answer_match) for x in out.ranked[:2]]
        x = check_features(query.original, top, len(found) / len(terms) if terms else 0.0,
                           out.coverage, out.best, len(terms), [s.text for s in out.sentences])
        if self._on_check is not None:
            self._on_check(query, x)
        if self.check is None:
            return out
        p = float(self.check.probabilities(x[None, :])[0])
        out.check = p
        floor = self.settings.check_floor
        if floor is None:
            floor = float(self.check.meta.get("floor", 0.5))
        if p >= floor:
            return out
        return Draft([], out.coverage, out.best, False,
                     f"the quoted sentences do not seem to answer it (check {p:.2f} < {floor:.2f})",
                     out.ranked, out.answer_type, p)

    def _matcher(self, query: Query, doc_id: str) -> tuple[bool, TermMatcher, float]:
        """For one document: whether it is in another language than the question, the term
        matcher for its text and the coverage asked of it (across languages the question's
        own words cannot all be there: it is matched on its translation, and less is asked)."""
        if query.lang != self.lang.get(doc_id, "en"):
            return True, query.cross_matcher, self.settings.cross_min_coverage
        return False, query.native_matcher, self.settings.min_coverage

    def _coverage(self, query: Query, texts: list[tuple[str, str]]) -> tuple[float, float, str]:
        """How much of the question's terms (doc_id, text) pairs hold, language by language
        (a French question meets a French passage on its own words, an English one on the
        translation): the best share, the floor it is held to and the terms it lacks."""
        stems: dict[str, set[str]] = {}
        for doc_id, text in texts:
            stems.setdefault(doc_id, set()).update(self.tokens(text, doc_id))
        by_lang: dict[bool, tuple[TermMatcher, float, set[str]]] = {}
        for doc_id, found in stems.items():
            cross, matcher, floor = self._matcher(query, doc_id)
            by_lang.setdefault(cross, (matcher, floor, set()))[2].update(found)
        # A question left with no specific term ("who is quoted as saying more has to be
        # done?") asks nothing of the terms: meaning alone decides.
        best = max(((m.share(f) if m.terms else 1.0, floor, m, f)
                    for m, floor, f in by_lang.values()), key=lambda c: c[0] - c[1])
        return best[0], best[1], ", ".join(best[2].missing(best[3]))

    def _draft(self, query: Query, query_vector: list[float], passages: list[Passage],
               answer_type: AnswerType, meaning_vector: np.ndarray | None = None,
               previous: PreviousReply | None = None, *, every_passage: bool = False) -> Draft:
        """The sentences to quote, or why none is: the gates run from cheapest to dearest."""
        st = self.settings
        quoted = passages if every_passage else self.quotable(passages)
        keys = self.candidates(quoted)
        if not keys:
            return Draft([], 0.0, 0.0, False, "no passage above the score floor")
        names = named_terms(query)
        unknown = [w for t, w in names.items() if not name_forms(t, w) & self.vocabulary]
        if unknown:
            return Draft([], 0.0, 0.0, False, f"the sources never mention: {', '.join(unknown)}")
        typed = (answer_type, question_words(query.original))
        meaning = None
        if self._meaning is not None and meaning_vector is not None:
            meaning = np.asarray(self._meaning.get(keys)) @ np.asarray(meaning_vector, np.float32)
        scored = self._score(keys, np.asarray(query_vector, dtype=np.float32), query, typed,
                             previous, meaning)
        if self.wants_meaning and meaning is not None:
            scored = self._rank(scored, quoted, answer_type)
        scored = self._from_answering_passages(scored, passages, names, query)
        coverage, min_coverage, missing = self._coverage(
            query, [(p.doc_id, p.text) for p in passages])
        if asks_for_figure(query.original):
            # A "how many" question is only answered by a sentence that gives a figure, of
            # what it counts where that can be told: "four solutions" counts no associations.
            counted = counted_words(query.original)
            vague = not asks_exact(query.original)
            given = gives_quantity if vague else gives_count
            scored = [x for x in scored if given(x.text) and x.overlap > 0
                      and self._counts(query, x, counted, vague)]
            if not scored:
                return Draft([], coverage, 0.0, False, "the question asks for a figure; none found")
        # The answer type orders the sentences; whether the sources answer at all is judged
        # on meaning and terms alone.
        best = max(x.base for x in scored)
        if best < st.min_evidence:
            why = f"best sentence score {best:.2f} < {st.min_evidence}"
            return Draft([], coverage, best, False, why, scored)
        min_coverage = self._coverage_floor(min_coverage, scored)
        if coverage < min_coverage:
            return Draft(
                [], coverage, best, False,
                f"only {coverage:.0%} of the question's specific terms are in the evidence "
                f"(missing: {missing})",
                scored,
            )
        chosen = [self.with_context(x) for x in self._choose(scored)]
        why = self._quoted_gap(chosen, passages, names, query) or \
            self._type_gap(answer_type, chosen) or self._asked_gap(query, chosen) or \
            self._speaker_gap(query, chosen, answer_type)
        if why:
            return Draft([], coverage, best, False, why, scored)
        return Draft(_merge(chosen), coverage, best, True, "grounded", scored)

    def _coverage_floor(self, floor: float, sentences: list[ScoredSentence]) -> float:
        """The term share asked for: lower when one of the sentences is close in meaning to
        the question (a paraphrase shares few of the source's words)."""
        st = self.settings
        if any(x.cosine >= st.meaning_exempt_cosine or x.meaning >= st.meaning_exempt_meaning
               for x in sentences):
            return min(floor, st.cross_min_coverage)
        return floor

    def _from_answering_passages(self, scored: list[ScoredSentence], passages: list[Passage],
                                 names: dict[str, str], query: Query) -> list[ScoredSentence]:
        """The sentences from passages that could answer on their own, when there are any:
        that give every name and figure of the question ("in the 18th" is not answered by
        the sentence on the 19th, however close its meaning) and, among those, that hold
        enough of its terms (a follow-up's topic included)."""
        forms = [name_forms(t, w) for t, w in names.items()]
        naming, covering = [], []
        for p in passages:
            stems = set(self.tokens(p.text, p.doc_id)) | set(self.tokens(p.title, p.doc_id))
            if all(f & stems for f in forms):
                naming.append(p)
                share, floor, _ = self._coverage(query, [(p.doc_id, p.text),
                                                         (p.doc_id, p.title)])
                if share >= floor:
                    covering.append(p)
        for kept_passages in (covering, naming):
            kept = [x for x in scored if any(p.doc_id == x.doc_id and p.start <= x.start < p.end
                                             for p in kept_passages)]
            if kept:
                return kept
        return scored

    def _counts(self, query: Query, x: ScoredSentence, counted: list[str],
                vague: bool = False) -> bool:
        """Whether a figure of the sentence (or, with `vague`, a quantity word) counts one of
        `counted` (the question's words). True when it cannot be told (no counted word, no
        translation)."""
        # In any language, a sum is told by its currency.
        if asks_money(counted) or asks_sum(query.original):
            return counts_money(figure_followers(x.text, vague=vague))
        if not counted:
            return True
        followers = figure_followers(x.text, vague=vague)
        if counts_things(query.original) and only_sums(x.text):  # nor a sum anything else
            return False
        found = self._mentions(query, " ".join(followers), x.doc_id, counted)
        if found is None:
            found = self._translates(counted, content_words(x.text))
        return found is not False

    def _translates(self, counted: list[str], sentence: list[str]) -> bool | None:
        """Across languages with no word table: whether the sentence names what the question
        counts, by the multilingual encoder's word cosine ("beds" / "lits" 0.79, "beds" /
        "solutions" 0.23). Anywhere in it, not only after the figure: "deux des quatre
        solutions étaient des sites" counts sites. None without that encoder."""
        others = [w for w in dict.fromkeys(sentence) if len(w) > 3 and not w.isdigit()]
        if self._meaning is None or not others:
            return None
        vectors = self._word_vectors([" ".join(counted), *others])
        return bool((vectors[1:] @ vectors[0]).max() >= self.settings.counted_min_cosine)

    def _word_vectors(self, texts: list[str]) -> np.ndarray:
        """Short texts in the multilingual encoder, each embedded once (a "how many" question
        meets the same words in every candidate sentence)."""
        assert self._meaning is not None
        with self._words_lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._words]
            if len(self._words) + len(missing) > _MAX_WORD_VECTORS:
                self._words.clear()  # a large archive's vocabulary: 2 KB a word
                missing = list(dict.fromkeys(texts))
            if missing:
                found = self._meaning.embeddings.embed_documents(missing)
                self._words.update(zip(missing, np.asarray(found, np.float32), strict=True))
            return np.stack([self._words[t] for t in texts])

    def _mentions(self, query: Query, text: str, doc_id: str, wanted: list[str]) -> bool | None:
        """Whether `text` (from `doc_id`) holds one of the question's words `wanted`: in the
        question's language by stem, across languages through the question's word
        translations or as the same word; None when that cannot be told."""
        lang = self.lang.get(doc_id, "en")
        if lang != query.lang:
            english = {e for e, alts in query.alternatives.items() if set(alts) & set(wanted)}
            if not english:
                # Untranslated words may be the same in both languages ("associations",
                # "overdoses"). A French word neither the lexicon nor the glossary translates
                # is rarely in an English text in other words; a word the glossary took into
                # a phrase ("plaintes") is, and English words have no such tables.
                found = self._stems_meet(text, lang, wanted)
                leftover = set(words(query.leftover))
                untranslated = query.lang == "fr" and all(w in leftover for w in wanted)
                return found if found or untranslated else None
            wanted = sorted(english)
        return self._stems_meet(text, lang, wanted)

    def _stems_meet(self, text: str, lang: str, wanted: list[str]) -> bool:
        stems = lexical_tokens(" ".join(wanted), lang)
        # Stems of one word family differ in their ends ("complain" / "complaint").
        return any(a == b or (min(len(a), len(b)) >= _SHORT_STEM
                              and (a.startswith(b) or b.startswith(a)))
                   for a in lexical_tokens(text, lang) for b in stems)

    def _speaker_gap(self, query: Query, chosen: list[ScoredSentence], answer_type: str) -> str:
        """Why the quotes do not answer "what did X say": each names X only as spoken to
        or of ("a letter to Prime Minister Jean Castex" is not his reply). "" when one has
        X speak, or does not name X at all (it may say "the mayor" for Hidalgo)."""
        if answer_type != "said":
            return ""
        named, people = speakers(query.original)
        for x in chosen:
            who = named | people if self.lang.get(x.doc_id, "en") == query.lang else named
            if not who or not spoken_to_only(x.text, who):
                return ""
        return f"the quoted sentences name {', '.join(sorted(named | people))} only as spoken to"

    def _asked_gap(self, query: Query, chosen: list[ScoredSentence]) -> str:
        """Why the quotes do not give the thing the question names as its answer ("what
        brand", "quelle adresse"): none of them names it or holds a value of its kind ("" when
        one does, or when that thing has no kind of value)."""
        qwords = question_words(query.original)
        for group in asked_things(query.original):
            kinds = asked_kinds(group)
            if not kinds or any(holds(k, x.text, qwords, self.names(x.doc_id)) for k in kinds
                   for x in chosen):
                continue
            # The thing itself named: by the words that ask for it, not their modifiers
            # ("average street price" is not named by "sold in the street").
            named = kind_words(group, kinds[0])
            if any(self._mentions(query, x.text, x.doc_id, named) for x in chosen):
                continue
            return f"the question asks for its {' '.join(group)}; no quoted sentence gives it"
        return ""

    def _score(self, keys: list[tuple[str, int, int]], q: np.ndarray, query: Query,
               typed: tuple[AnswerType, frozenset[str]] = ("", frozenset()),
               previous: PreviousReply | None = None, meaning: np.ndarray | None = None
               ) -> list[ScoredSentence]:
        """Every candidate sentence scored by meaning, by the question's terms and by whether
        it holds the kind of answer asked for (`typed`: the type and the question's words),
        best first."""
        st = self.settings
        scored: list[ScoredSentence] = []
        vectors = self._sentence_vectors(keys)
        meanings = meaning.tolist() if meaning is not None else [0.0] * len(keys)
        for (doc_id, s, e), vec, read in zip(keys, vectors, meanings, strict=True):
            text = self.documents[doc_id]["text"][s:e]
            stems = set(self.tokens(text, doc_id))
            start = self.context_start(doc_id, s, e) if st.context_terms else s
            if start < s:  # quoted with the sentence before: scored on both
                stems |= set(self.tokens(self.documents[doc_id]["text"][start:e], doc_id))
            matcher = self._matcher(query, doc_id)[1]
            overlap = matcher.share(stems)
            cosine = float(np.dot(vec, q))
            title = self.documents[doc_id]["title"]
            # Meaning as the closer of the two encoders reads it: the multilingual one meets
            # a sentence in the other language where the retrieval model does not.
            close = max(cosine, read) if st.hand_meaning else cosine
            base = 0.6 * close + 0.4 * overlap
            match, kind = answer_match(typed[0], text, typed[1], self.names(doc_id),
                                       vague=st.answer_type_vague)
            found = frozenset(matcher.found(stems))
            moved = self._flow(previous, doc_id, s, e) if previous else 0.0
            scored.append(ScoredSentence(
                doc_id, title, s, e, text, cosine, overlap,
                base + st.answer_type_weight * match + st.flow_weight * moved, found, base,
                match, kind, meaning=read, flow=moved))
        scored.sort(key=lambda x: -x.score)
        return scored

    @property
    def wants_meaning(self) -> bool:
        """Whether drafts read the question's multilingual vector (`draft(meaning_vector=)`)."""
        return self._meaning is not None and (self.ranker is not None or
                                              self._on_candidates is not None)

    def record_candidates(self, meaning: Embeddings,
                          callback: Callable[[list[ScoredSentence], Candidates, str], None]
                          ) -> None:
        """Hand every draft's candidates and their features to `callback` (training the
        ranker: assistant/training/ranker.py)."""
        self._meaning = SentenceVectors(meaning, self.documents)
        self._on_candidates = callback

    def _rank(self, scored: list[ScoredSentence], passages: list[Passage],
              answer_type: AnswerType) -> list[ScoredSentence]:
        """The sentences in the ranker's order, each scored by its probability of answering."""
        assert self._meaning is not None
        keys = [(x.doc_id, x.start, x.end) for x in scored]
        meaning = np.asarray([x.meaning for x in scored])  # read in `_score`
        ranks = [next((i for i, p in enumerate(passages)
                       if p.doc_id == d and p.start < e and s < p.end), len(passages))
                 for d, s, e in keys]
        cands = Candidates(
            [x.text for x in scored], meaning, np.asarray([x.cosine for x in scored]),
            np.asarray([x.overlap for x in scored]), np.asarray([x.answer_match for x in scored]),
            np.asarray(ranks, dtype=np.float64))
        if self._on_candidates is not None:
            self._on_candidates(scored, cands, answer_type)
        if self.ranker is None:
            return scored
        p = self.ranker.probabilities(feature_matrix(cands, answer_type))
        out = [replace(x, score=float(pi)) for x, pi in zip(scored, p, strict=True)]
        # The ranker orders only the sentences near the hand-set best, the ones that could be
        # quoted anyway: among many documents on other cities it must not reach for one the
        # term checks would never have let through.
        hand = self._quoted_hand(scored)
        near = hand >= self.settings.relative_cutoff * hand.max()
        weight = self.settings.flow_weight
        first = sorted((x for x, n in zip(out, near, strict=True) if n),
                       key=lambda x: -(x.score + weight * x.flow))
        return first + [x for x, n in zip(out, near, strict=True) if not n]

    def _quoted_hand(self, scored: list[ScoredSentence]) -> np.ndarray:
        """Each sentence's hand-set score as it would be quoted: a short sentence quoted with
        the one before it ("we know the reason: the violence.") is worth at least that one."""
        hand = {(x.doc_id, x.start): self._hand(x) for x in scored}
        out = []
        for x in scored:
            start = self.context_start(x.doc_id, x.start, x.end) if \
                self.settings.context_terms else x.start
            out.append(max(hand[(x.doc_id, x.start)], hand.get((x.doc_id, start), 0.0)))
        return np.asarray(out)

    def _hand(self, x: ScoredSentence) -> float:
        """The hand-set score: meaning, terms, the answer-type match and the flow."""
        st = self.settings
        return x.base + st.answer_type_weight * x.answer_match + st.flow_weight * x.flow

    def _flow(self, previous: PreviousReply, doc_id: str, start: int, end: int) -> float:
        """The sentence's place in the conversation after `previous` (flow.py)."""
        text = self.documents[doc_id]["text"]
        spans = self.spans(doc_id)
        i = spans.index((start, end))
        before = [previous.state(text[a:b]) for a, b in reversed(spans[max(0, i - 2):i])]
        return flow(previous.state(text[start:end]), before)

    def _choose(self, scored: list[ScoredSentence]) -> list[ScoredSentence]:
        """The first sentence, then the next ones that add a term the reply does not have,
        while their hand-set score stays near the best one's (the ranker's probabilities,
        when it ordered them, only order)."""
        st = self.settings
        hand = self._hand
        best = max(hand(x) for x in scored)
        chosen = [scored[0]]
        covered = set(scored[0].found)
        for cand in scored[1:]:
            if len(chosen) >= st.max_sentences:
                break
            if hand(cand) < st.relative_cutoff * best:
                continue
            if not cand.found - covered:
                continue  # says nothing the reply doesn't already say
            chosen.append(cand)
            covered |= cand.found
        return chosen

    def _quoted_gap(self, chosen: list[ScoredSentence], passages: list[Passage],
                    names: dict[str, str], query: Query) -> str:
        """Why the passages quoted do not answer the question together ("" when they do).

        Among many documents on the same subject, the top passages together can match every
        term while the sentences quoted come from passages about another city or year.
        """
        quoted = [p for p in passages
                  if any(p.doc_id == x.doc_id and p.start < x.end and x.start < p.end
                         for x in chosen)]
        # Token lists are cached by text, so the passages are not tokenised again.
        per_passage = [set(self.tokens(p.text, p.doc_id)) | set(self.tokens(p.title, p.doc_id))
                       for p in quoted]
        quoted_stems = set().union(*per_passage)
        # One quoted passage must give every name and figure of the question together: a
        # passage on Marseille and another on 2023 do not answer "Marseille in 2023".
        forms = {t: name_forms(t, w) for t, w in names.items()}
        if names and not any(all(f & stems for f in forms.values()) for stems in per_passage):
            absent = [w for t, w in names.items() if not forms[t] & quoted_stems]
            return (f"{_NAMES_GAP} never mention: {', '.join(absent)}" if absent else
                    f"{_NAMES_GAP} do not mention {', '.join(names.values())} together")
        quoted_coverage, min_coverage, missing = self._coverage(
            query, [(p.doc_id, t) for p in quoted for t in (p.text, p.title)])
        min_coverage = self._coverage_floor(min_coverage, chosen)
        if quoted_coverage < min_coverage:
            return (f"the passages quoted hold only {quoted_coverage:.0%} of the question's "
                    f"specific terms (missing: {missing})")
        return ""

    def context_start(self, doc_id: str, start: int, end: int) -> int:
        """Where the quote of a sentence starts: a short sentence, or one opening on a
        pronoun, is quoted with the one before it (never across a paragraph)."""
        text = self.documents[doc_id]["text"]
        if end - start >= 60 and not _LEADING_PRONOUN.match(text, start):
            return start
        spans = self.spans(doc_id)
        i = spans.index((start, end))
        if i == 0:
            return start
        prev_start, prev_end = spans[i - 1]
        if "\n" in text[prev_end:start]:
            return start
        return prev_start

    def _type_gap(self, answer_type: str, chosen: list[ScoredSentence]) -> str:
        """Why the quotes do not answer a question that asks for a date, a frequency, a
        place or a person ("" when one of them gives it, or the gate is off)."""
        gated = self.settings.answer_type_gate
        if answer_type not in gated or any(x.answer_match > 0 for x in chosen):
            return ""
        return f"{_TYPE_GAP} {answer_type}; no quoted sentence gives one"

    def with_context(self, x: ScoredSentence) -> ScoredSentence:
        """The sentence as it is quoted: with the one before it when it needs it."""
        start = self.context_start(x.doc_id, x.start, x.end)
        if start == x.start:
            return x
        return replace(x, start=start, text=self.documents[x.doc_id]["text"][start : x.end])

    def write(self, draft: Draft, lang: Lang, *,
              care: bool = False) -> tuple[str, list[Citation]]:
        """The reply: the chosen sentences quoted with [n] markers, or why there is none.

        A quoted sentence that gives contact details or instructions is the source's voice,
        never the assistant's: it is marked as the source's words, and a care reply (where
        only the checked directory gives contacts) leaves it out.
        """
        t = TEXT[lang]
        if not draft.grounded:
            shown = [d["title"] for d in islice(self.documents.values(), MAX_TITLES)]
            titles = "; ".join(shown)
            if len(self.documents) > MAX_TITLES:
                titles += t["more"].format(n=format_int(len(self.documents) - MAX_TITLES, lang))
            if not titles:
                return t["empty_index"], []
            return f"{t['no_answer']} {t['covers']} {titles}.", []
        citations: list[Citation] = []
        parts = [t["lead"]]
        for s in draft.sentences:
            speaks = bool(voice(s.text))
            if speaks and care:
                continue
            n = len(citations) + 1
            citations.append(Citation(n, s.doc_id, s.title, s.text, s.start, s.end, s.score))
            mark = f" {t['source_words'].format(title=s.title)}" if speaks else ""
            parts.append(f"{s.text} [{n}]{mark}")
        if not citations:
            return "", []
        return " ".join(parts), citations


_TYPE_GAP = "the question asks"
_NAMES_GAP = "the passages quoted"


def _merge(chosen: list[ScoredSentence]) -> list[ScoredSentence]:
    """Source order reads better than score order; merged context may now overlap."""
    merged: list[ScoredSentence] = []
    for x in sorted(chosen, key=lambda x: (x.doc_id, x.start)):
        if merged and merged[-1].doc_id == x.doc_id and x.start < merged[-1].end:
            continue
        merged.append(x)
    return merged


def _lang(doc: dict[str, Any]) -> str:
    return "fr" if str(doc.get("language", "en")).startswith("fr") else "en"
