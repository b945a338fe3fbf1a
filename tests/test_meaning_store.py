"""The chunks' vectors in the multilingual encoder, kept beside the sidecar
(assistant/store/meaning.py): made once, reused while the chunks are the same, remade when
they change; never made on a read-only index or for an archive too large to embed at start.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.store.embeddings import USEEmbeddings
from assistant.store.meaning import MEANING_DIR, open_meaning
from assistant.store.sidecar import build


class Counting(USEEmbeddings):
    """The real encoder, counting the texts it embeds."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return super().embed_documents(texts)


def _table(texts: list[str]):
    rows = [{"id": f"d-{i}", "doc_id": "d", "title": "t", "start": 0, "end": len(t),
             "chunk_index": i, "text": t, "vector": np.ones(4, np.float32)}
            for i, t in enumerate(texts)]
    return build(rows, {"model": "test"}, lambda text, lang: text.lower().split())


@pytest.fixture(scope="module")
def encoder() -> Counting:
    return Counting()


TEXTS = ["Le plan crack a été signé le 27 mai 2019.", "The market is a force of nature."]


def test_vectors_are_made_once_and_follow_the_chunks(tmp_path: Path, encoder: Counting) -> None:
    table = _table(TEXTS)
    before = encoder.embedded
    first = open_meaning(tmp_path, table, encoder, "use", max_chunks=10)
    assert first is not None and first.shape == (2, 512)
    assert encoder.embedded - before == 2
    # The French sentence's vector is the encoder's own.
    assert float(first[0] @ encoder.embed_array([TEXTS[0]])[0]) == pytest.approx(1.0, abs=1e-4)
    again = open_meaning(tmp_path, table, encoder, "use", max_chunks=10)
    assert encoder.embedded - before == 2  # read back, not embedded again
    assert np.array_equal(first, again)
    changed = _table([*TEXTS, "Un troisième passage."])
    third = open_meaning(tmp_path, changed, encoder, "use", max_chunks=10)
    assert third is not None and len(third) == 3 and encoder.embedded - before == 5
    # Another encoder's name makes them stale too.
    assert open_meaning(tmp_path, changed, encoder, "other", max_chunks=10) is not None
    assert encoder.embedded - before == 8


def test_none_when_read_only_or_too_large(tmp_path: Path, encoder: Counting) -> None:
    table = _table(TEXTS)
    assert open_meaning(tmp_path, table, encoder, "use", max_chunks=10, read_only=True) is None
    assert open_meaning(tmp_path, table, encoder, "use", max_chunks=1) is None
    assert not (tmp_path / MEANING_DIR).exists()


def test_a_damaged_file_is_remade(tmp_path: Path, encoder: Counting) -> None:
    table = _table(TEXTS)
    # A copy: the vectors are memory-mapped, and the file is damaged in place below.
    good = np.array(open_meaning(tmp_path, table, encoder, "use", max_chunks=10))
    (tmp_path / MEANING_DIR / "vectors.npy").write_bytes(b"not an array")
    again = open_meaning(tmp_path, table, encoder, "use", max_chunks=10)
    assert again is not None and np.allclose(good, again)
