"""French question words the glossary does not know, matched to the corpus's English words.

The glossary (data/glossary_fr_en.yaml) covers the domain's phrases; a French question also
uses everyday words ("inquiétant", "hausse", "expulsions") that an English passage says
otherwise. A multilingual encoder (the guard's USE v3) puts a word and its translation close
together: each such question word is matched to the English corpus words nearest to it, if
near enough. The nearest stands in for it in the query; the others within a margin are
alternatives when the question's terms are counted in a passage.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np

from assistant.text.language import content_words, fold

_WORD = re.compile(r"[^\W\d_][\w'-]*")


class WordTranslations:
    """English corpus words for foreign question words, by a multilingual encoder."""

    def __init__(self, encoder: Any, documents: Mapping[str, dict], lang_of: Mapping[str, str],
                 *, min_cosine: float = 0.70, margin: float = 0.03, max_words: int = 20_000,
                 min_length: int = 4) -> None:
        counts: Counter[str] = Counter()
        for doc_id, doc in documents.items():
            if lang_of.get(doc_id, "en") == "en":
                counts.update(w for w in content_words(doc["text"])
                              if len(w) >= min_length and w.isalpha())
        self.words = [w for w, _ in counts.most_common(max_words)]
        self._known = frozenset(counts)  # a word the corpus uses needs no translation
        self.encoder = encoder
        self.min_cosine, self.margin, self.min_length = min_cosine, margin, min_length
        self._vectors: np.ndarray | None = None
        self._ready = threading.Event()
        self._cache: dict[str, tuple[str, ...]] = {}

    def warm(self, *, background: bool = False) -> None:
        """Embed the corpus words (about 3 ms a word here): now, or in a thread."""
        if background:
            threading.Thread(target=self._embed_words, daemon=True,
                             name="word-translations").start()
        else:
            self._embed_words()

    def _embed_words(self) -> None:
        if self.words and self.encoder is not None:
            self._vectors = np.asarray(self.encoder.embed_array(self.words), dtype=np.float32)
        self._ready.set()

    def translate(self, question: str, folded_words: list[str]) -> dict[str, tuple[str, ...]]:
        """For each folded question word that has some: its English words, nearest first.

        Empty until the corpus words are embedded (a question asked during start-up is
        matched by the glossary alone)."""
        if not self._ready.is_set() or self._vectors is None:
            return {}
        surface = {fold(w): w for w in _WORD.findall(question)}  # accents help the encoder
        # Names are never translated ("Éole", "Lariboisière"): they are checked as written.
        # The word is embedded as typed ("année" and "annee" differ): that is the cache key.
        typed = {w: surface.get(w, w) for w in dict.fromkeys(folded_words)
                 if len(w) >= self.min_length and w.isalpha() and w not in self._known
                 and not surface.get(w, w)[:1].isupper()}
        todo = [t for t in dict.fromkeys(typed.values()) if t not in self._cache]
        if todo:
            vectors = np.asarray(self.encoder.embed_array(todo), dtype=np.float32)
            for text, sims in zip(todo, vectors @ self._vectors.T, strict=True):
                order = np.argsort(-sims)[:5]
                best = float(sims[order[0]])
                self._cache[text] = tuple(
                    self.words[i] for i in order
                    if sims[i] >= self.min_cosine and sims[i] >= best - self.margin)
        return {w: self._cache[t] for w, t in typed.items() if self._cache[t]}
