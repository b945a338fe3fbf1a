"""Chunking, embedding and the Chroma index, kept consistent with `corpus/`.

Index layout under `index_dir`:
  chroma/            Chroma PersistentClient data (persistent mode only)
  documents.json     the cleaned documents every citation slices into
  sidecar/           chunk table, vectors and BM25 index read at start (assistant/store/sidecar.py)
  .ingest-running    present while an ingest writes; a leftover means it was interrupted
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock
from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.ingest.corpus import Skipped, load_corpus
from assistant.models import Chunk, Document
from assistant.settings import ChunkingSettings, Settings
from assistant.store.sidecar import open_table, rebuild
from assistant.store.vectorstore import VectorIndex, is_storage_error
from assistant.text.analysis import index_tokens

# Bump when chunking logic changes in a way the settings don't show: forces a rebuild.
CHUNKER_VERSION = 1
LEXICAL_VERSION = 4
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "… ", "; ", ": ", ", ", " ", ""]
DOCUMENTS_FILE = "documents.json"
RUNNING_MARKER = ".ingest-running"


def chunk_document(doc: Document, chunking: ChunkingSettings) -> list[Chunk]:
    """Split on paragraph, then sentence, then word boundaries, recording exact offsets."""
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunking.chunk_size,
        chunk_overlap=chunking.chunk_overlap,
        separators=SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )
    chunks: list[Chunk] = []
    search_from = 0
    for i, piece in enumerate(splitter.split_text(doc.text)):
        start = doc.text.find(piece, search_from)
        if start < 0:  # cannot happen with strip_whitespace, but never guess an offset
            start = doc.text.find(piece)
        if start < 0:
            raise RuntimeError(f"chunk {i} of {doc.id} is not a slice of the document")
        end = start + len(piece)
        digest = hashlib.sha1(f"{start}:{piece}".encode()).hexdigest()[:10]
        chunks.append(Chunk(f"{doc.id}:{i:04d}:{digest}", doc.id, piece, start, end, i))
        search_from = start + 1
    return chunks


def index_fingerprint(settings: Settings) -> dict[str, Any]:
    """What the vectors depend on; any change means a full rebuild."""
    fingerprint: dict[str, Any] = {
        "embedding_model": settings.embedding.model,
        "chunk_size": settings.chunking.chunk_size,
        "chunk_overlap": settings.chunking.chunk_overlap,
        "chunker_version": CHUNKER_VERSION,
        # 2: each chunk's language stored with it and BM25 in that language; 3: ordinals as
        # one token; 4: informal spellings read as standard words.
        "lexical_version": LEXICAL_VERSION,
    }
    # torch and fp32 ONNX give the same vectors (to 1e-7); int8 weights do not.
    if settings.embedding.backend == "onnx-int8":
        fingerprint["embedding_backend"] = "onnx-int8"
    return fingerprint


@dataclass
class IngestReport:
    documents: int = 0
    chunks: int = 0
    embedded: list[str] = field(default_factory=list)  # doc ids (re-)embedded
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    fixes: dict[str, list[str]] = field(default_factory=dict)
    flagged: dict[str, list[str]] = field(default_factory=dict)  # text that speaks to readers
    rebuilt: bool = False
    repaired: bool = False
    seconds: float = 0.0

    def lines(self) -> list[str]:
        out = [
            f"{self.documents} documents, {self.chunks} chunks; "
            f"embedded {len(self.embedded)}, unchanged {len(self.unchanged)}, "
            f"removed {len(self.removed)}, skipped {len(self.skipped)} "
            f"({self.seconds:.1f} s)"
        ]
        if self.rebuilt:
            out.append("index rebuilt: embedding model or chunking settings changed")
        if self.repaired:
            out.append("an interrupted ingest was found and repaired")
        for doc_id, fixes in self.fixes.items():
            for fix in fixes:
                out.append(f"cleaned {doc_id}: {fix}")
        for doc_id, flags in self.flagged.items():
            for flag in flags:
                out.append(f"FLAGGED {doc_id}: {flag} (never presented as the assistant's advice)")
        for doc_id in self.embedded:
            out.append(f"embedded {doc_id}")
        for doc_id in self.removed:
            out.append(f"removed {doc_id}")
        for s in self.skipped:
            out.append(f"SKIPPED {s.path}: {s.reason}")
        return out


WRITE_BATCH = 512  # chunks per embedding call and Chroma write


class _BatchWriter:
    """Queues re-embedded documents and writes them about WRITE_BATCH chunks at a time."""

    def __init__(self, index: VectorIndex) -> None:
        self.index = index
        self.pending: list[tuple[Document, list[Chunk], bool]] = []
        self.size = 0

    def add(self, doc: Document, chunks: list[Chunk], *, replaces: bool) -> None:
        self.pending.append((doc, chunks, replaces))
        self.size += len(chunks)
        if self.size >= WRITE_BATCH:
            self.flush()

    def flush(self) -> None:
        batch, self.pending, self.size = self.pending, [], 0  # a failed write is not retried
        if batch:
            self.index.write_documents(batch)


def _write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_documents(index_dir: Path) -> dict[str, dict[str, Any]]:
    path = index_dir / DOCUMENTS_FILE
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def index_state(index_dir: Path) -> str:
    """'missing', 'interrupted' or 'ready'."""
    if (index_dir / RUNNING_MARKER).exists():
        return "interrupted"
    if not (index_dir / DOCUMENTS_FILE).exists():
        return "missing"
    return "ready"


def ingest(
    settings: Settings,
    *,
    on_document: Callable[[str], None] | None = None,
) -> IngestReport:
    """Bring the index in line with the corpus; safe to run again after any interruption.

    `on_document` is called before each document is embedded (used to test interruptions).
    """
    t0 = time.perf_counter()
    index_dir = settings.paths.index_dir
    index_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(index_dir / ".ingest.lock")):
        report = IngestReport(repaired=(index_dir / RUNNING_MARKER).exists())
        limits = settings.limits
        indexed = {k: v.get("path", "") for k, v in read_documents(index_dir).items()}
        loaded = load_corpus(settings.paths.corpus_dir, indexed=indexed,
                             max_bytes=limits.document_bytes, max_line=limits.document_line_chars)
        report.skipped = loaded.skipped
        docs = {d.id: d for d in loaded.documents}
        for d in loaded.documents:
            if d.fixes:
                report.fixes[d.id] = [f"{f.broken!r} -> {f.repaired!r} x{f.count}" for f in d.fixes]
            if d.flags:
                report.flagged[d.id] = d.flags

        (index_dir / RUNNING_MARKER).write_text(str(os.getpid()))
        index = VectorIndex(settings)
        fingerprint, stored_fingerprint = index_fingerprint(settings), index.fingerprint()
        if stored_fingerprint != fingerprint:
            report.rebuilt = stored_fingerprint is not None
            index.reset(fingerprint)

        stored = index.chunk_ids_by_doc()
        for doc_id in sorted(set(stored) - set(docs)):
            index.delete_doc(doc_id)
            report.removed.append(doc_id)

        writer = _BatchWriter(index)
        try:
            for doc_id, doc in docs.items():
                chunks = chunk_document(doc, settings.chunking)
                report.chunks += len(chunks)
                have = stored.get(doc_id, {})
                # Up to date only if exactly the expected chunks are there, from this version.
                expected = {c.id for c in chunks}
                if set(have) == expected and set(have.values()) == {doc.content_hash}:
                    report.unchanged.append(doc_id)
                    continue
                if on_document:
                    on_document(doc_id)
                writer.add(doc, chunks, replaces=bool(have))
                report.embedded.append(doc_id)
            writer.flush()
        except Exception:
            # The documents queued before the failure are still written; the marker stays,
            # so the next run finishes the rest.
            writer.flush()
            raise

        # The sidecar follows the collection: rebuilt after any write, else checked.
        if report.embedded or report.removed or report.rebuilt or report.repaired:
            table = rebuild(index, index_tokens)
        else:
            table = open_table(index, index_tokens)
        if index.content_hash() != table.manifest["content_hash"]:
            index.set_content_hash(table.manifest["content_hash"])
        _write_json_atomic(
            index_dir / DOCUMENTS_FILE,
            {doc_id: {**doc.metadata(), "hash": doc.content_hash, "flags": doc.flags,
                      "text": doc.text}
             for doc_id, doc in docs.items()},
        )
        (index_dir / RUNNING_MARKER).unlink()
        report.documents = len(docs)
        report.seconds = time.perf_counter() - t0
        return report


FAILED_MARKER = ".ingest-failed"
MIN_FREE_BYTES = 64 * 1024 * 1024  # under this, an ingest at start would only fill the disk


def corpus_signature(corpus_dir: Path) -> str:
    """Names, sizes and times of the corpus files: whether the corpus changed since."""
    parts = []
    for path in sorted(corpus_dir.iterdir()) if corpus_dir.is_dir() else []:
        try:
            st = path.lstat()
        except OSError:
            continue
        parts.append(f"{path.name}\x1f{st.st_size}\x1f{st.st_mtime_ns}")
    return hashlib.sha256("\x1e".join(parts).encode("utf-8")).hexdigest()


def ingest_before_serving(settings: Settings) -> str | None:
    """Build or repair the index before serving; on a storage fault, say why and return it.

    The caller then serves the last good snapshot (the sidecar and documents.json that the
    failed run never replaced). A failure is remembered with the corpus it failed on, so a
    restart with the same corpus does not run the same failing ingest again.
    """
    index_dir = settings.paths.index_dir
    marker = index_dir / FAILED_MARKER
    signature = corpus_signature(settings.paths.corpus_dir)
    try:
        failed = json.loads(marker.read_text(encoding="utf-8")) if marker.exists() else None
    except (OSError, ValueError):
        failed = None
    if failed and failed.get("corpus") == signature:
        return f"{failed.get('reason')} (an earlier ingest; run `python -m assistant ingest`)"
    try:
        free = shutil.disk_usage(index_dir if index_dir.exists() else index_dir.parent).free
        if free < MIN_FREE_BYTES:
            raise OSError(errno.ENOSPC, f"only {free // 1024} KiB free", str(index_dir))
        ingest(settings)
    except Exception as exc:
        if not is_storage_error(exc):
            raise
        reason = storage_problem(exc)
        # A full disk may not hold the note either: the free-space check covers that case.
        with contextlib.suppress(OSError):
            _write_json_atomic(marker, {"reason": reason, "corpus": signature})
        return reason
    marker.unlink(missing_ok=True)
    return None


def storage_problem(exc: BaseException) -> str:
    """One line for a storage fault: what, and where."""
    filename = getattr(exc, "filename", None)
    where = f" ({filename})" if filename else ""
    return f"ingest failed: {getattr(exc, 'strerror', None) or exc}{where}"
