"""Lexical analysis shared by the index and the questions: folded, stop-worded, stemmed
tokens for BM25 and term coverage, in each text's language (English or French Snowball).

Ingest tokenises chunks with `index_tokens`; search and the answerers use `lexical_tokens`
on questions and sentences. Both stages import this module, so neither imports the other.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import Stemmer

from assistant.text.language import EN_STOP, american, content_words

STEMMERS = {"en": "english", "fr": "french"}


@lru_cache(maxsize=2)
def stemmer(lang: str = "en") -> Stemmer.Stemmer:
    """Snowball for the text's language (English for any other)."""
    return Stemmer.Stemmer(STEMMERS.get(lang, "english"))


def lexical_tokens(text: str, lang: str = "en") -> list[str]:
    """Folded, stop-worded, stemmed tokens for BM25 and term coverage."""
    if len(text) > _CACHED_CHARS:
        return uncached_lexical_tokens(text, lang)
    return list(_cached_tokens(text, lang))


def uncached_lexical_tokens(text: str, lang: str = "en") -> list[str]:
    """`lexical_tokens` for bulk work that would only churn the cache."""
    return _stems(_content(text, lang), lang)


def _stems(words: list[str], lang: str) -> list[str]:
    """Each word's stem in the language, an English word read in American spelling and
    base form first (`_content` drops those that are then stop words)."""
    if lang == "fr":
        return _tagged(stemmer("fr").stemWords(words), "fr")
    return stemmer(lang).stemWords([american(w) for w in words])


def _content(text: str, lang: str) -> list[str]:
    """The text's content words; in English, without the forms of stop words ("done")."""
    words = content_words(text)
    return words if lang == "fr" else [w for w in words if american(w) not in EN_STOP]


def _tagged(stems: list[str], lang: str) -> list[str]:
    """French stems carry "fr:": the two stemmers share no token, so an English question
    ranks English text exactly as before, and reaches French text through its French stems
    (`foreign_stems`) and the words themselves (`surface_token`)."""
    return [FRENCH + s for s in stems] if lang == "fr" else stems


# Marks a word's own folded form, indexed beside its stem.
SURFACE = "="


FRENCH = "fr:"


def word_stems(text: str, lang: str = "en") -> list[tuple[str, str]]:
    words = _content(text, lang)
    return list(zip(words, _stems(words, lang), strict=True))


def foreign_stems(words: list[str]) -> list[str]:
    """The French stems of (folded) question words: how a question meets French text on
    names, figures and the words both languages share ("Lariboisière", "audit",
    "signed"/"signé")."""
    return _tagged(stemmer("fr").stemWords(words), "fr")


def surface_token(word: str, stem: str) -> str:
    """The token that matches `word` itself: the stem when they are the same word."""
    return stem if word == stem else SURFACE + word


def index_tokens(text: str, lang: str = "en") -> list[str]:
    """BM25's tokens: each content word's stem (in the text's language) and, when it
    differs, the word itself.

    Stems let "tested" match "testing"; the word itself lets a rare form count for what it
    is. In a large archive "test" and "testing" may be in thousands of chunks about drug
    testing while "tested" is in one, and only the word itself says so (Lucene's
    keyword-repeat filter does the same).
    """
    return with_surfaces(word_stems(text, lang))


# The sidecar records the tokenizer by name and version: a table built by an earlier one
# (2: British spellings read as American; 3: irregular verbs in their base form) is rebuilt.
index_tokens.version = 3  # type: ignore[attr-defined]


def with_surfaces(pairs: Iterable[tuple[str, str]]) -> list[str]:
    """Each (word, stem)'s stem, then its surface token when that is another token."""
    return [t for w, stem in pairs for t in dict.fromkeys((stem, surface_token(w, stem)))]


# The answerer tokenizes the same passages and sentences for question after question;
# whole documents and bulk indexing don't go through the cache (bounded: ~16 MB at most).
_CACHED_CHARS = 2000


@lru_cache(maxsize=4096)
def _cached_tokens(text: str, lang: str) -> tuple[str, ...]:
    return tuple(uncached_lexical_tokens(text, lang))
