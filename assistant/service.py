"""The Assistant: guardrails -> follow-up rewriting -> hybrid retrieval -> cited answer.

`stream()` yields typed events on separate channels (reply text, evidence, resources, the
final Answer) so a UI can render the answer and the evidence panel independently; `ask()`
returns the final Answer.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda, RunnableSequence
from langchain_core.runnables.config import ensure_config, get_callback_manager_for_config

from assistant.answer.check import CHECK_FEATURES, CHECK_PATH
from assistant.answer.extractive import Draft, SentenceAnswerer
from assistant.answer.grounding import GroundingCheck, corpus_names
from assistant.answer.ranker import RANKER_PATH, SentenceRanker
from assistant.answer.written import WrittenAnswerer
from assistant.ingest.indexing import index_state, ingest_before_serving, read_documents
from assistant.models import Answer, Citation, Passage
from assistant.safety.care import CareDirectory
from assistant.safety.guardrails import Decision, Guardrails
from assistant.search.followup import rewrite_question, with_topic
from assistant.search.lexicon import WordTranslations
from assistant.search.retrieval import HybridRetriever, Query, make_query
from assistant.settings import LimitSettings, Settings, get_settings
from assistant.store.vectorstore import VectorIndex
from assistant.text.language import Lang, detect_language, format_int

log = logging.getLogger(__name__)

History = list[dict[str, str]]


@dataclass
class TextDelta:
    """A piece of the reply text, in order."""

    text: str
    channel: str = "text"


@dataclass
class DraftDelta:
    """Unchecked text from the language model, as it is generated; the checked reply
    (TextDelta pieces) replaces it."""

    text: str
    channel: str = "draft"


@dataclass
class Evidence:
    """The citations and every retrieved passage behind the reply."""

    citations: list[Citation]
    passages: list[Passage]
    channel: str = "evidence"


@dataclass
class Resources:
    """Care directory entries to show with the reply."""

    resources: list[dict[str, Any]]
    channel: str = "resources"


@dataclass
class Done:
    answer: Answer
    channel: str = "done"


Event = TextDelta | DraftDelta | Evidence | Resources | Done

INPUT_TEXT = {
    "empty": {
        "en": "Please type a question, for example: where can I get help in Paris?",
        "fr": "Écrivez une question, par exemple : où trouver de l'aide à Paris ?",
    },
    "unreadable": {
        "en": "I couldn't read that message: it contains no text. Please type your question.",
        "fr": "Je n'ai pas pu lire ce message : il ne contient pas de texte. "
        "Écrivez votre question.",
    },
    "too_long": {
        "en": "Your message is {n} characters long; I can read up to {limit}. "
        "Please send the question itself, in a few lines.",
        "fr": "Votre message fait {n} caractères ; je peux en lire {limit} au plus. "
        "Envoyez la question elle-même, en quelques lignes.",
    },
}


def normalise_message(text: str | None) -> str:
    """Drop control and format characters; keep every printable character as typed."""
    if not text:
        return ""
    if isinstance(text, str) and text.isascii() and text.isprintable():  # nothing to drop
        return text.strip()
    text = unicodedata.normalize("NFC", str(text))
    kept = [
        ch
        for ch in text
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    ]
    return "".join(kept).strip()


@dataclass
class _Turn:
    """Everything one question accumulates on its way through the chain."""

    question: str
    lang: Lang
    history: History
    timings: dict[str, float] = field(default_factory=dict)
    trace: dict[str, Any] = field(default_factory=dict)
    decision: Decision | None = None
    rewritten: str = ""
    query: Query | None = None
    passages: list[Passage] = field(default_factory=list)
    question_vector: list[float] | None = None
    on_token: Callable[[str], None] | None = None  # receives the model's draft as it comes
    query_vector: list[float] = field(default_factory=list)
    # The question as answered in the guard's multilingual encoder (`Assistant.meaning_vector`).
    meaning: np.ndarray | None = None
    answer: Answer | None = None


class Assistant:
    """Grounded question answering over the indexed corpus."""

    def __init__(self, settings: Settings | None = None, *, build_index: bool = True,
                 warm_in_background: bool = False) -> None:
        """`warm_in_background`: the server opens while the corpus sentences are embedded."""
        self.settings = settings or get_settings()
        state = index_state(self.settings.paths.index_dir)
        snapshot = None
        if state != "ready" and build_index:
            # A missing index is built; an interrupted ingest is repaired before serving.
            log.warning("index is %s: running ingest", state)
            snapshot = ingest_before_serving(self.settings)
            if snapshot:
                log.error("%s; serving the last good index", snapshot)
        elif state == "interrupted":
            raise RuntimeError(
                "the index was left half-written by an interrupted ingest; run ingest"
            )
        # A read-only index, or one a failed ingest left half-written, is served from the
        # sidecar snapshot alone, never from the half-written collection.
        self.index = VectorIndex(self.settings, allow_read_only=True, snapshot=snapshot)
        self.embeddings = self.index.embeddings
        self.documents = read_documents(self.settings.paths.index_dir)
        self.retriever = HybridRetriever(self.index, self.settings.retrieval)
        self.care = CareDirectory.load(self.settings.paths.care_directory)
        self.guardrails = Guardrails.load(self.care)
        self.guardrails.warm()
        if self.guardrails.classifier is not None and self.guardrails.encoder_name:
            self.retriever.use_meaning(self.guardrails.classifier.encoder,
                                       self.guardrails.encoder_name)
        meaning, ranker = self._make_ranker()
        self.answerer = SentenceAnswerer(
            self.embeddings, self.documents, self.settings.answer,
            vocabulary=self.retriever.vocabulary, meaning=meaning, ranker=ranker,
            check=self._make_check(ranker),
        )
        e = self.settings.embedding
        self.answerer.warm(e.precompute_sentences_max, e.sentence_cache,
                           background=warm_in_background)
        self.translations = self._make_translations(warm_in_background)
        # The guard reads the retrieval vector only when both use the same model.
        self._guard_shares_vector = self.guardrails.encoder_name == self.settings.embedding.model
        self.chain = self._build_chain()
        self.writer = self._make_writer()

    def _make_ranker(self) -> tuple[Any, SentenceRanker | None]:
        """The guard's encoder and the sentence ranker trained on it, when the settings use
        one and it was trained on that encoder."""
        classifier = self.guardrails.classifier
        if not self.settings.answer.ranker or classifier is None:
            return None, None
        ranker = SentenceRanker.load(self.settings.answer.ranker_path or RANKER_PATH)
        if ranker is None or ranker.meta.get("encoder") != self.guardrails.encoder_name:
            return None, None
        return classifier.encoder, ranker

    def _make_check(self, ranker: SentenceRanker | None) -> SentenceRanker | None:
        """The learned answer check, when the settings use it and it was trained over the
        ranker's scores (its first feature is the ranker's probability)."""
        st = self.settings.answer
        if not st.check or ranker is None:
            return None
        check = SentenceRanker.load(st.check_path or CHECK_PATH, CHECK_FEATURES)
        if check is None or check.meta.get("ranker") != ranker.fingerprint():
            return None
        return check

    def meaning_vector(self, turn: _Turn) -> np.ndarray | None:
        """The question as answered, in the guard's encoder, for the re-rank and the answerer:
        the guard's own vector when the question was not rewritten. Made once a turn."""
        wanted = self.answerer.wants_meaning or self.retriever.meaning is not None
        if turn.meaning is not None or not wanted or self.guardrails.classifier is None:
            return turn.meaning
        verdict = turn.decision.verdict if turn.decision is not None else None
        if verdict is not None and verdict.vector is not None and \
                (turn.rewritten or turn.question) == turn.question:
            turn.meaning = verdict.vector
        else:
            encoder = self.guardrails.classifier.encoder
            turn.meaning = encoder.embed_array([turn.rewritten or turn.question])[0]
        return turn.meaning

    def _make_translations(self, background: bool) -> WordTranslations | None:
        """French words to English corpus words, through the guard's multilingual encoder."""
        r = self.settings.retrieval
        encoder = self.guardrails.classifier.encoder if self.guardrails.classifier else None
        if encoder is None or r.translate_min_cosine <= 0 or not r.query_expansion:
            return None
        lexicon = WordTranslations(encoder, self.documents, self.answerer.lang,
                                   min_cosine=r.translate_min_cosine, margin=r.translate_margin,
                                   max_words=r.translate_vocabulary_max)
        # A large archive's words take minutes to embed (about 3 ms a word): then always in
        # the background, and questions asked meanwhile get the glossary alone.
        lexicon.warm(background=background or len(lexicon.words) > r.translate_wait_max)
        return lexicon

    def _make_writer(self) -> WrittenAnswerer | None:
        """The language-model answerer when the settings choose one; loaded once, here."""
        llm = self.settings.llm
        if llm.backend == "extractive":
            return None
        from assistant.answer.llm import get_chat_model

        # Made once: a local model loads here (a failure shows at start, not on the first
        # question) and a server client keeps its connections.
        model = get_chat_model(llm)
        a = self.settings.answer
        check = GroundingCheck(
            self.embeddings,
            min_overlap=a.check_min_overlap,
            min_cosine=a.check_min_cosine,
            strong_cosine=a.check_strong_cosine,
            names=corpus_names([d["text"] for d in self.documents.values()]),
        )
        return WrittenAnswerer(model, self.answerer, check)

    # -- the chain ---------------------------------------------------------------------------
    def _build_chain(self) -> Runnable:
        """rewrite | embed | guard | retrieve | answer | in_context; any step can be swapped
        (e.g. an LLM)."""
        return _Chain(
            RunnableLambda(self._rewrite, name="rewrite"),
            RunnableLambda(self._embed, name="embed"),
            RunnableLambda(self._guard, name="guard"),
            RunnableLambda(self._retrieve, name="retrieve"),
            RunnableLambda(self._answer, name="answer"),
            RunnableLambda(self._in_context, name="in_context"),
        )

    def _timed(self, turn: _Turn, name: str, t0: float) -> None:
        turn.timings[name] = (time.perf_counter() - t0) * 1000

    def _rewrite(self, turn: _Turn) -> _Turn:
        """The question made self-contained from the conversation, once, and its query."""
        rewritten, why = rewrite_question(turn.question, turn.history)
        turn.rewritten = rewritten
        turn.trace["rewrite"] = {"question": rewritten, "why": why}
        turn.query = make_query(rewritten, turn.lang, self.settings.retrieval,
                                self.translations)
        return turn

    def _embed(self, turn: _Turn) -> _Turn:
        """One model call: the vector of the text the dense retriever will see.

        That text is known before the guardrails run (rewriting and expansion are rules). When
        it is the question itself and the guard's classifier uses the same model, the guard
        reads this vector; otherwise the guard embeds the question with its own encoder.
        """
        t0 = time.perf_counter()
        assert turn.query is not None
        embedded = self.embeddings.embed_query(turn.query.dense_text)
        if turn.query.dense_text == turn.question:
            turn.question_vector = embedded
        turn.query_vector = self.retriever.query_vector(turn.query, embedded)
        self._timed(turn, "embed", t0)
        return turn

    def _guard(self, turn: _Turn) -> _Turn:
        t0 = time.perf_counter()
        vector = turn.question_vector if self._guard_shares_vector else None
        turn.decision = self.guardrails.check(turn.question, turn.history, lang=turn.lang,
                                              vector=vector)
        turn.trace["guard"] = turn.decision.to_json()
        self._timed(turn, "guard", t0)
        deferred = turn.decision.kind == "out_of_scope" and turn.decision.alternative == "pass"
        if turn.decision.kind in ("emergency", "refusal", "out_of_scope", "input") and \
                not deferred:
            text, resources = self.guardrails.reply(turn.decision)
            turn.answer = Answer(turn.decision.kind, turn.lang, text, resources=resources)
        return turn

    def _retrieve(self, turn: _Turn) -> _Turn:
        if turn.answer is not None:
            return turn
        t0 = time.perf_counter()
        query = turn.query
        assert query is not None
        turn.passages = self.retriever.retrieve(query, turn.query_vector,
                                                self.meaning_vector(turn))
        turn.trace["query"] = {
            "dense_text": query.dense_text,
            "bm25_terms": query.terms,
            "expansion": query.expansion,
            "synonyms": query.synonyms,
        }
        self._timed(turn, "retrieve", t0)
        return turn

    def _in_context(self, turn: _Turn) -> _Turn:
        """A question that read as self-contained and got no answer is tried once more with
        the conversation's topic; the second reply is kept only if it is an answer. The
        guard's decision stands (it read the message and the conversation already)."""
        if turn.answer is None or turn.answer.kind != "no_answer" or not turn.history or \
                turn.rewritten != turn.question:
            return turn
        carried = with_topic(turn.question, turn.history)
        if carried is None:
            return turn
        retry = replace(turn, rewritten=carried[0], answer=None, passages=[], meaning=None,
                        trace={**turn.trace, "rewrite": {"question": carried[0],
                                                         "why": carried[1]}},
                        timings=dict(turn.timings))
        retry.query = make_query(carried[0], turn.lang, self.settings.retrieval,
                                 self.translations)
        retry = self._answer(self._retrieve(self._embed(retry)))
        if retry.answer is not None and retry.answer.kind == "answer":
            return retry
        return turn

    def _strong(self, draft: Draft, floor: float | None = None) -> bool:
        """The documents answer well enough to override an unsure care (or, with its own
        `floor`, off-topic) reading."""
        return draft.grounded and draft.best >= (floor or self.settings.answer.care_min_evidence)

    def _answer(self, turn: _Turn) -> _Turn:
        if turn.answer is not None:
            return turn
        t0 = time.perf_counter()
        assert turn.query is not None
        draft = self.answerer.draft(turn.query, turn.query_vector, turn.passages,
                                    self.meaning_vector(turn), previous_reply(turn.history))
        decision = turn.decision
        if decision is not None and decision.kind == "out_of_scope":
            # The guard was unsure the message is unrelated (Decision.alternative): it is
            # answered only when the documents answer it strongly.
            if not self._strong(draft, self.settings.answer.out_of_scope_min_evidence):
                text, resources = self.guardrails.reply(decision)
                turn.answer = Answer("out_of_scope", turn.lang, text, resources=resources)
                self._timed(turn, "generate", t0)
                return turn
            turn.trace["guard"]["resolved"] = "answered: the documents answer strongly"
        text, citations = self.answerer.write(draft, turn.lang)
        kind = "answer" if draft.grounded else "no_answer"
        if draft.grounded and self.writer is not None:
            # Only grounded questions reach the model; what it writes is checked, and the
            # quotes above stay the reply when nothing it wrote survives the check.
            t1 = time.perf_counter()
            written = self.writer.write(turn.rewritten or turn.question, draft, turn.lang,
                                        on_token=turn.on_token)
            turn.trace["written"] = written.trace()
            turn.timings["llm"] = (time.perf_counter() - t1) * 1000
            if written.ttft_ms is not None:
                turn.timings["llm_first_token"] = written.ttft_ms
            if written.text:
                text, citations = written.text, written.citations
        resources: list[dict[str, Any]] = []
        strong = self._strong(draft)
        if decision is not None and decision.kind == "care":
            care_text, resources = self.guardrails.reply(decision)
            if strong and decision.alternative == "pass":
                # Unsure between care and a question the documents answer: the answer, with
                # the care entries as resources.
                turn.trace["guard"]["resolved"] = "answered: the documents answer strongly"
            elif strong:  # care first; then what the corpus says, minus any contacts it gives
                quoted, citations = self.answerer.write(draft, turn.lang, care=True)
                kind, text = "care", f"{care_text}\n\n{quoted}".strip()
            else:
                kind, text, citations = "care", care_text, []
        if kind != "care":  # a care reply names Drogues Info Service once, itself
            text = f"{text}\n\n{self.care.pointer_line(turn.lang)}"
        if not resources:
            resources = [self.care.pointer_resource(turn.lang)]
        turn.trace["answerer"] = {
            "coverage": round(draft.coverage, 3),
            "best_sentence_score": round(draft.best, 3),
            "decision": draft.reason,
            "question_asks": draft.answer_type or "(no particular kind of answer)",
            "passages_quoted_from": len(self.answerer.quotable(turn.passages)),
            # "ranker": each score is the learned ranker's probability that the sentence
            # answers; "hand-set": 0.6 meaning + 0.4 terms + the answer-type match.
            "order": "ranker" if self.answerer.ranker is not None else "hand-set",
            # The learned answer check's probability that the quotes answer (check.py).
            "answer_check": None if draft.check is None else round(draft.check, 3),
            "sentences": [
                {"doc_id": s.doc_id, "start": s.start, "end": s.end, "cosine": round(s.cosine, 3),
                 "meaning": round(s.meaning, 3), "overlap": round(s.overlap, 3),
                 "score": round(s.score, 3), "answer_match": s.answer_match,
                 "answer_kind": s.answer_kind, "flow": s.flow}
                for s in draft.sentences
            ],
        }
        turn.answer = Answer(kind, turn.lang, text, citations, turn.passages, resources)
        self._timed(turn, "generate", t0)
        return turn

    # -- public API --------------------------------------------------------------------------
    def triage(self, question: str) -> Answer | None:
        """The emergency reply when the message itself is an emergency, else None.

        The guard alone (a few ms, no retrieval), so a caller can answer a person in danger
        ahead of every question waiting for a worker. `ask` would give the same reply.
        """
        t0 = time.perf_counter()
        text = normalise_message(question if isinstance(question, str) else None)
        if not text:
            return None
        lang = detect_language(text)
        decision = self._scan(text, lang) if len(text) > self.settings.limits.message_chars \
            else self.guardrails.check(text, lang=lang)
        if decision.kind != "emergency":
            return None
        reply, resources = self.guardrails.reply(decision)
        answer = Answer("emergency", decision.lang, reply, resources=resources)
        ms = (time.perf_counter() - t0) * 1000
        answer.timings_ms = {"guard": ms, "total": ms}
        answer.trace = {"guard": decision.to_json(), "timings_ms": answer.timings_ms}
        return answer

    def _scan(self, text: str, lang: Lang) -> Decision:
        """A message longer than questions may be, read whole by the guard in windows."""
        limits = self.settings.limits
        return self.guardrails.scan(text, lang=lang, window=limits.message_chars,
                                    classify_chars=limits.message_scan_chars)

    def ask(
        self,
        question: str,
        history: History | None = None,
        *,
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        """The reply to one message; `on_token` receives a language model's unchecked draft."""
        t0 = time.perf_counter()
        history = clean_history(history, self.settings.limits)
        text = normalise_message(question if isinstance(question, str) else None)
        lang = detect_language(text or "", default=_history_lang(history))
        limits = self.settings.limits
        turn = _Turn(text, lang, history, on_token=on_token)
        if not text:
            typed = isinstance(question, str) and question.strip()
            kind = "unreadable" if typed or not isinstance(question, str | None) else "empty"
            answer = Answer("out_of_scope", lang, INPUT_TEXT[kind][lang])
        elif len(text) > limits.message_chars:
            # An emergency anywhere in a long message is found; anything else asks for less.
            t1 = time.perf_counter()
            decision = self._scan(text, lang)
            turn.trace["guard"] = decision.to_json()
            self._timed(turn, "guard", t1)
            if decision.kind == "emergency":
                reply, resources = self.guardrails.reply(decision)
                answer = Answer("emergency", lang, reply, resources=resources)
            else:
                msg = INPUT_TEXT["too_long"][lang].format(
                    n=format_int(len(text), lang), limit=format_int(limits.message_chars, lang))
                answer = Answer("out_of_scope", lang, msg)
        else:
            turn = self.chain.invoke(turn)
            answer = turn.answer
        assert answer is not None
        answer.timings_ms = {**turn.timings, "total": (time.perf_counter() - t0) * 1000}
        answer.trace = {**turn.trace, "timings_ms": answer.timings_ms}
        return answer

    def stream(self, question: str, history: History | None = None) -> Iterator[Event]:
        """The reply as events: the model's draft as it is written (when a language model
        answers), the checked text a sentence or so at a time (each piece is one update of the
        chat in the browser), then evidence, resources, the Answer."""
        if self.writer is None:
            answer = self.ask(question, history)
        else:
            answer = yield from self._drafting(question, history)
        for piece in stream_pieces(answer.text, self.settings.ui.stream_piece_chars):
            yield TextDelta(piece)
        yield Evidence(answer.citations, answer.retrieved)
        yield Resources(answer.resources)
        yield Done(answer)

    def _drafting(
        self, question: str, history: History | None
    ) -> Generator[Event, None, Answer]:
        """Run `ask` in a worker thread and pass the model's tokens on as they arrive."""
        events: queue.Queue[DraftDelta | None] = queue.Queue()
        result: dict[str, Any] = {}

        def run() -> None:
            try:
                result["answer"] = self.ask(
                    question, history, on_token=lambda t: events.put(DraftDelta(t))
                )
            except BaseException as exc:  # re-raised in the caller's thread
                result["error"] = exc
            finally:
                events.put(None)

        threading.Thread(target=run, name="assistant-draft", daemon=True).start()
        while (event := events.get()) is not None:
            yield event
        if "error" in result:
            raise result["error"]
        return result["answer"]


class _Chain(RunnableSequence):
    """A sequence of RunnableLambda steps that calls their functions directly when no
    callback handler listens.

    LangChain opens a run for the sequence and for each step, inspects each function's
    signature and fires start and end events that nobody receives when tracing is off:
    `bench/bench_core.py` prints both ("chain, p50 / p95"), 9.5 / 11.3 ms with this loop
    against 11.3 / 13.1 ms with a plain RunnableSequence on the dev questions (2026-12-02).
    With a handler attached (a LangChain callback, LangSmith tracing from the environment)
    every step is run and reported as usual.
    """

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        if get_callback_manager_for_config(ensure_config(config)).handlers:
            return super().invoke(input, config, **kwargs)
        for step in self.steps:
            input = step.func(input)  # type: ignore[attr-defined]
        return input


def clean_history(history: Any, limits: LimitSettings) -> History:
    """The conversation as the chain may read it: well-formed turns only, the last few, each
    cut to size and all within a total (newest kept first); anything else is dropped."""
    if not isinstance(history, list | tuple):
        return []
    turns: History = []
    budget = limits.history_total_chars
    for item in reversed(list(history)[-limits.history_messages:]):
        if not isinstance(item, dict) or item.get("role") not in ("user", "assistant"):
            continue
        content = item.get("content")
        if not isinstance(content, str) or budget <= 0:
            continue
        content = content[:min(limits.history_message_chars, budget)]
        budget -= len(content)
        turns.append({"role": item["role"], "content": content})
    return turns[::-1]


def previous_reply(history: History) -> str:
    """The assistant's last reply in the conversation ("" when there is none)."""
    for turn in reversed(history):
        if turn.get("role") == "assistant":
            return str(turn.get("content") or "")
    return ""


def _history_lang(history: History) -> Lang:
    for turn in reversed(history):
        if turn.get("role") == "user" and turn.get("content"):
            return detect_language(str(turn["content"]))
    return "en"


def stream_pieces(text: str, size: int) -> list[str]:
    """The reply cut after sentence ends (or at a word once a piece reaches twice `size`
    characters), each piece at least `size` long except the last; joined, the reply."""
    pieces: list[str] = []
    buf = ""
    for word in re.findall(r"\S+\s*", text):
        buf += word
        ends = word.rstrip()[-1:] in ".!?:…" or "\n" in word
        if len(buf) >= size and (ends or len(buf) >= 2 * size):
            pieces.append(buf)
            buf = ""
    if buf:
        pieces.append(buf)
    return pieces
