"""Each chunk's vector in the multilingual encoder (the guard's), for the re-rank.

The retrieval model reads French poorly; the multilingual encoder puts a French question and
an English passage (or the reverse) in one space. Its chunk vectors live beside the sidecar,
in `index_dir/meaning/`, and follow the sidecar's content hash: they are rebuilt when the
chunks change or the encoder does.

  manifest.json  encoder name, the sidecar's content hash, row count
  vectors.npy    float32 (n, dim), in the sidecar's row order
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
from filelock import FileLock
from langchain_core.embeddings import Embeddings

from assistant.store.sidecar import ChunkTable, new_folder, swap_in

log = logging.getLogger(__name__)

MEANING_DIR = "meaning"
BATCH = 64


def _expected(table: ChunkTable, encoder_name: str) -> dict[str, object]:
    return {"encoder": encoder_name, "content_hash": table.manifest.get("content_hash"),
            "count": len(table)}


def _load(folder: Path, expected: dict[str, object]) -> np.ndarray | None:
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if manifest != expected:
            return None
        vectors = np.asarray(np.load(folder / "vectors.npy", mmap_mode="r"))
    except (OSError, ValueError) as err:
        if (folder / "manifest.json").exists():
            log.warning("meaning vectors at %s unreadable (%s): rebuilding", folder, err)
        return None
    return vectors if len(vectors) == expected["count"] else None


def _save(folder: Path, vectors: np.ndarray, expected: dict[str, object]) -> None:
    """Into a new folder, swapped in whole (a reader never sees half a file)."""
    tmp = new_folder(folder)
    np.save(tmp / "vectors.npy", vectors)
    (tmp / "manifest.json").write_text(json.dumps(expected, sort_keys=True), encoding="utf-8")
    swap_in(tmp, folder)


def open_meaning(index_dir: Path, table: ChunkTable, encoder: Embeddings, encoder_name: str,
                 max_chunks: int, read_only: bool = False) -> np.ndarray | None:
    """The chunks' multilingual vectors: read if fresh, else embedded and saved (one process
    at a time). None above `max_chunks` chunks (embedding them would hold up the start: about
    3 ms a chunk) or when a read-only index has none fresh."""
    folder = index_dir / MEANING_DIR
    expected = _expected(table, encoder_name)
    vectors = _load(folder, expected)
    if vectors is not None or not len(table) or read_only:
        return vectors
    if len(table) > max_chunks:
        log.warning("%d chunks: over %d, the re-rank goes without the multilingual encoder",
                    len(table), max_chunks)
        return None
    index_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(index_dir / ".meaning.lock")):
        vectors = _load(folder, expected)  # another process may have built them meanwhile
        if vectors is None:
            texts = [table.text(i) for i in range(len(table))]
            built = [np.asarray(encoder.embed_documents(texts[i:i + BATCH]), np.float32)
                     for i in range(0, len(texts), BATCH)]
            _save(folder, np.ascontiguousarray(np.concatenate(built)), expected)
            vectors = _load(folder, expected)
    return vectors
