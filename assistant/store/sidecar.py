"""Local files beside the Chroma index, so a process serves without reading Chroma at start.

Layout under `index_dir/sidecar/`, written by ingest (the single writer) or rebuilt from
Chroma by any process that finds it missing or stale; vectors, texts and the BM25 arrays are
memory-mapped, so start-up reads little and the OS shares the pages between processes:

  manifest.json  format, index fingerprint, content hash of the chunk ids, row count, and
                 the BM25 tokenizer's name
  chunks.json    chunk ids in row order (by document, then position) and the document table
  spans.npy      int64 (n, 4): document row, start, end, chunk index
  texts.bin      the chunk texts, UTF-8, end to end; offsets.npy gives each one's bytes
  vectors.npy    float32 (n, dim): the chunk vectors, as stored in Chroma
  bm25/          the bm25s index of the chunks' lexical tokens

Staleness: ingest writes the content hash into the collection metadata once the collection
is complete; the sidecar is fresh when its fingerprint, content hash and row count match
the collection's. This also covers a Chroma server: each replica keeps its own sidecar.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
from filelock import FileLock

from assistant.store.vectorstore import CONTENT_KEY, FINGERPRINT_KEY, VectorIndex

log = logging.getLogger(__name__)

SIDECAR_DIR = "sidecar"
FORMAT = 1
Tokenizer = Callable[[str, str], list[str]]  # (text, language) -> tokens


def tokenizer_name(tokenize: Tokenizer) -> str:
    """Names the tokenizer in the manifest: a table built with another one is stale. A
    tokenizer whose output changes takes a new name."""
    name = f"{tokenize.__module__}.{tokenize.__qualname__}"
    version = getattr(tokenize, "version", None)
    return f"{name}:{version}" if version else name


def content_hash(ids: Iterable[str], fingerprint: dict[str, Any] | None) -> str:
    """What the stored chunks are: chunk ids hash their document, position and text."""
    h = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode())
    for cid in sorted(ids):
        h.update(b"\n" + cid.encode())
    return h.hexdigest()


@dataclass
class ChunkTable:
    """Every chunk of the index as arrays: row i is one chunk, in (document, position) order."""

    ids: list[str]
    docs: list[dict[str, str]]  # {"id", "title"} per document row
    spans: np.ndarray  # int64 (n, 4): document row, start, end, chunk index
    offsets: np.ndarray  # int64 (n + 1): byte offsets of each text in `texts`
    texts: bytes | mmap.mmap
    vectors: np.ndarray  # float32 (n, dim)
    bm25: bm25s.BM25 | None
    manifest: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def row_of(self) -> dict[str, int]:
        return {cid: i for i, cid in enumerate(self.ids)}

    def text(self, i: int) -> str:
        return self.texts[int(self.offsets[i]) : int(self.offsets[i + 1])].decode("utf-8")

    def chunk(self, i: int) -> dict[str, Any]:
        d, start, end, index = (int(x) for x in self.spans[i])
        doc = self.docs[d]
        return {"id": self.ids[i], "doc_id": doc["id"], "title": doc["title"], "start": start,
                "end": end, "chunk_index": index, "text": self.text(i)}


def build(rows: Iterable[dict[str, Any]], fingerprint: dict[str, Any] | None,
          tokenize: Tokenizer) -> ChunkTable:
    """A table from Chroma rows (id, text, metadata, vector)."""
    rows = sorted(rows, key=lambda r: (str(r.get("doc_id", "")), int(r.get("chunk_index", 0))))
    doc_row: dict[str, int] = {}
    docs: list[dict[str, str]] = []
    spans = np.zeros((len(rows), 4), dtype=np.int64)
    encoded = [r["text"].encode("utf-8") for r in rows]
    for i, r in enumerate(rows):
        doc_id = str(r.get("doc_id", ""))
        if doc_id not in doc_row:
            doc_row[doc_id] = len(docs)
            docs.append({"id": doc_id, "title": str(r.get("title", ""))})
        spans[i] = (doc_row[doc_id], int(r["start"]), int(r["end"]), int(r["chunk_index"]))
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    if rows:
        vectors = np.ascontiguousarray(np.stack([r["vector"] for r in rows]), dtype=np.float32)
    else:
        vectors = np.zeros((0, 0), dtype=np.float32)
    bm25 = None
    if rows:
        bm25 = bm25s.BM25()
        # Every chunk gets at least one token so BM25's matrix rows line up with chunks.
        # Each chunk in its document's language (older collections have none: English).
        bm25.index([tokenize(r["text"], str(r.get("language") or "en")) or ["\x00"]
                    for r in rows], show_progress=False)
    ids = [r["id"] for r in rows]
    manifest = {"format": FORMAT, "fingerprint": fingerprint, "count": len(rows),
                "dim": int(vectors.shape[1]), "content_hash": content_hash(ids, fingerprint),
                "tokenizer": tokenizer_name(tokenize)}
    return ChunkTable(ids, docs, spans, offsets, b"".join(encoded), vectors, bm25, manifest)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_leftovers(folder: Path) -> list[Path]:
    """Delete the temporary folders of writers that died before swapping theirs in."""
    removed = []
    for tmp in folder.parent.glob(f".{folder.name}-*.tmp"):
        pid = tmp.name[len(folder.name) + 2: -len(".tmp")]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


def new_folder(folder: Path) -> Path:
    """An empty temporary folder beside `folder`, for `swap_in` (dead writers' leftovers
    removed first)."""
    remove_leftovers(folder)
    tmp = folder.with_name(f".{folder.name}-{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    return tmp


def swap_in(tmp: Path, folder: Path) -> None:
    """Put the written `tmp` folder in place of `folder`: a reader sees the old one or the
    new one whole. A crash before the rename leaves none: it is rebuilt at next start."""
    old = folder.with_name(f".{folder.name}-old")
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def save(table: ChunkTable, folder: Path) -> None:
    """Write into a new folder, then swap it in; the manifest is written last."""
    tmp = new_folder(folder)
    (tmp / "chunks.json").write_text(
        json.dumps({"ids": table.ids, "docs": table.docs}, ensure_ascii=False), encoding="utf-8"
    )
    np.save(tmp / "spans.npy", table.spans)
    np.save(tmp / "offsets.npy", table.offsets)
    np.save(tmp / "vectors.npy", table.vectors)
    (tmp / "texts.bin").write_bytes(bytes(table.texts))
    if table.bm25 is not None:
        table.bm25.save(str(tmp / "bm25"), show_progress=False)
    with open(tmp / "manifest.json", "w", encoding="utf-8") as fh:
        json.dump(table.manifest, fh, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    swap_in(tmp, folder)


def load(folder: Path) -> ChunkTable | None:
    """The saved table, memory-mapped; None if it is missing, incomplete or another format."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            return None
        meta = json.loads((folder / "chunks.json").read_text(encoding="utf-8"))
        spans = np.load(folder / "spans.npy")
        offsets = np.load(folder / "offsets.npy")
        # Plain views of the mapped files: numpy's memmap subclass adds Python calls to every
        # slice, and queries slice these arrays dozens of times.
        vectors = np.asarray(np.load(folder / "vectors.npy", mmap_mode="r"))
        texts: bytes | mmap.mmap = b""
        if (folder / "texts.bin").stat().st_size:
            with open(folder / "texts.bin", "rb") as fh:
                texts = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        bm25 = None
        if manifest["count"]:
            bm25 = bm25s.BM25.load(str(folder / "bm25"), mmap=True, show_progress=False)
            bm25.scores = {k: np.asarray(v) if isinstance(v, np.ndarray) else v
                           for k, v in bm25.scores.items()}
    except (OSError, ValueError, KeyError) as err:
        log.warning("sidecar at %s unreadable (%s): rebuilding", folder, err)
        return None
    n = len(meta["ids"])
    if not (n == manifest["count"] == len(spans) == len(offsets) - 1 == len(vectors)):
        return None
    return ChunkTable(meta["ids"], meta["docs"], spans, offsets, texts, vectors, bm25, manifest)


def expected_state(index: VectorIndex) -> dict[str, Any]:
    """What a fresh sidecar must say, from the collection metadata (ids listed only if the
    collection predates the content hash)."""
    meta = index.metadata()
    raw = meta.get(FINGERPRINT_KEY)
    fingerprint = json.loads(raw) if raw else None
    digest = meta.get(CONTENT_KEY) or content_hash(index.all_ids(), fingerprint)
    return {"fingerprint": fingerprint, "content_hash": digest, "count": index.count()}


def is_fresh(table: ChunkTable | None, expected: dict[str, Any]) -> bool:
    return table is not None and all(table.manifest.get(k) == v for k, v in expected.items())


def _rebuild(index: VectorIndex, tokenize: Tokenizer) -> ChunkTable:
    folder = index.settings.paths.index_dir / SIDECAR_DIR
    table = build(index.iter_rows(), index.fingerprint(), tokenize)
    save(table, folder)
    return load(folder) or table


def _lock(index: VectorIndex) -> FileLock:
    index_dir = index.settings.paths.index_dir
    index_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(str(index_dir / ".sidecar.lock"))


def rebuild(index: VectorIndex, tokenize: Tokenizer) -> ChunkTable:
    """Read every chunk and vector from Chroma and write the sidecar again."""
    with _lock(index):
        return _rebuild(index, tokenize)


def _read_only_table(index: VectorIndex, folder: Path, tokenize: Tokenizer) -> ChunkTable:
    """The sidecar as it is, when Chroma cannot be opened: it must be for this model and
    tokenizer (nothing can be rebuilt on a read-only disk)."""
    table = load(folder)
    model = ((table.manifest.get("fingerprint") or {}).get("embedding_model")
             if table is not None else None)
    if (table is None or model != index.settings.embedding.model
            or table.manifest.get("tokenizer") != tokenizer_name(tokenize)):
        raise RuntimeError(f"the index at {index.settings.paths.index_dir} is read-only "
                           f"({index.read_only}) and its sidecar is missing or was built for "
                           "other settings: make it writable, or ingest into a writable copy")
    return table


def open_table(index: VectorIndex, tokenize: Tokenizer) -> ChunkTable:
    """The sidecar if fresh, else rebuilt from Chroma (one process at a time)."""
    folder = index.settings.paths.index_dir / SIDECAR_DIR
    if index.read_only:
        return _read_only_table(index, folder, tokenize)
    remove_leftovers(folder)
    expected = {**expected_state(index), "tokenizer": tokenizer_name(tokenize)}
    table = load(folder)
    if is_fresh(table, expected):
        assert table is not None
        return table
    with _lock(index):
        table = load(folder)  # another process may have rebuilt it meanwhile
        if is_fresh(table, expected):
            assert table is not None
            return table
        log.warning("sidecar at %s is missing or stale: rebuilding it from Chroma", folder)
        return _rebuild(index, tokenize)
