"""The Chroma collection, on disk (PersistentClient) or on a `chroma run` server (HttpClient).

Chroma never embeds anything itself here: LangChain's Chroma wrapper creates the collection
with no embedding function and every vector comes from our own model.
"""

from __future__ import annotations

import errno
import json
import logging
from collections.abc import Iterator
from typing import Any

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma
from langchain_core.embeddings import Embeddings

from assistant.models import Chunk, Document
from assistant.settings import Settings
from assistant.store.embeddings import embeddings_for

log = logging.getLogger(__name__)

FINGERPRINT_KEY = "index_fingerprint"
# Hash of every stored chunk id, written by ingest once the collection is complete: a
# process compares it with its local sidecar files (assistant/store/sidecar.py) without listing ids.
CONTENT_KEY = "content_hash"
READ_PAGE = 2000  # rows per `get` when reading the whole collection


def make_client(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    vs = settings.vector_store
    if vs.mode == "http":
        return chromadb.HttpClient(host=vs.host, port=vs.port, settings=chroma_settings)
    path = settings.paths.index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


_READ_ONLY_WORDS = ("readonly", "read-only", "read only", "permission denied")
_FULL_WORDS = ("disk is full", "no space left", "disk full", "database or disk is full")


def _is_read_only_error(exc: BaseException) -> bool:
    """A storage that refuses writes (read-only file system or database, no permission)."""
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return True
    return any(w in str(exc).lower() for w in _READ_ONLY_WORDS)


def is_storage_error(exc: BaseException) -> bool:
    """A fault of the disk under the index (full, read-only, no permission), whichever layer
    (Python, SQLite inside Chroma) reports it."""
    if isinstance(exc, OSError):
        return True
    return _is_read_only_error(exc) or any(w in str(exc).lower() for w in _FULL_WORDS)


def embed_array(embeddings: Embeddings, texts: list[str]) -> np.ndarray:
    """Vectors as one float32 matrix, without a round trip through Python floats if possible."""
    direct = getattr(embeddings, "embed_array", None)
    if direct is not None:
        return direct(texts)
    return np.asarray(embeddings.embed_documents(texts), dtype=np.float32)


class VectorIndex:
    """One collection of chunk vectors, with its fingerprint in the collection metadata."""

    def __init__(self, settings: Settings, client: chromadb.ClientAPI | None = None, *,
                 allow_read_only: bool = False, snapshot: str | None = None) -> None:
        self.settings = settings
        self.embeddings = embeddings_for(settings.embedding)
        # Why Chroma is not used, when the index is served read-only from its sidecar: a
        # read-only disk or mount (Chroma writes when it opens), or `snapshot`, the reason
        # the collection cannot be trusted (an ingest failed half-way).
        self.read_only: str | None = snapshot
        if snapshot:
            self.client, self.store = None, None  # type: ignore[assignment]
            return
        try:
            self.client = client or make_client(settings)
            self.store = self._open()
        except Exception as exc:
            if not (allow_read_only and _is_read_only_error(exc)):
                raise
            self.read_only = f"{type(exc).__name__}: {exc}"
            log.warning("index at %s is read-only: serving from its sidecar alone",
                        settings.paths.index_dir)

    def _open(self, fingerprint: dict[str, Any] | None = None) -> Chroma:
        metadata = {"purpose": "paris-crack-assistant passages"}
        if fingerprint is not None:
            metadata[FINGERPRINT_KEY] = json.dumps(fingerprint, sort_keys=True)
        return Chroma(
            collection_name=self.settings.vector_store.collection,
            embedding_function=self.embeddings,
            client=self.client,
            collection_metadata=metadata,
            collection_configuration={"hnsw": {"space": "cosine"}},
        )

    @property
    def collection(self) -> chromadb.Collection:
        return self.store._collection

    def metadata(self) -> dict[str, Any]:
        """The collection metadata as stored now (another process may have changed it)."""
        name = self.settings.vector_store.collection
        return dict(self.client.get_collection(name).metadata or {})

    def fingerprint(self) -> dict[str, Any] | None:
        raw = self.metadata().get(FINGERPRINT_KEY)
        return json.loads(raw) if raw else None

    def content_hash(self) -> str | None:
        return self.metadata().get(CONTENT_KEY) or None

    def set_content_hash(self, value: str) -> None:
        # `modify` replaces the whole metadata: keep the fingerprint and the rest.
        self.collection.modify(metadata={**self.metadata(), CONTENT_KEY: value})

    def count(self) -> int:
        return self.collection.count()

    def reset(self, fingerprint: dict[str, Any]) -> None:
        """Drop every vector and start a collection for new settings."""
        self.client.delete_collection(self.settings.vector_store.collection)
        self.store = self._open(fingerprint)

    def chunk_ids_by_doc(self) -> dict[str, dict[str, str]]:
        """{doc_id: {chunk_id: doc_hash}} for everything stored."""
        out: dict[str, dict[str, str]] = {}
        for page in self._pages(["metadatas"]):
            for cid, meta in zip(page["ids"], page["metadatas"] or [], strict=False):
                meta = meta or {}
                doc = str(meta.get("doc_id", ""))
                out.setdefault(doc, {})[cid] = str(meta.get("doc_hash", ""))
        return out

    def all_ids(self) -> list[str]:
        return [cid for page in self._pages([]) for cid in page["ids"]]

    def delete_doc(self, doc_id: str) -> None:
        self.collection.delete(where={"doc_id": doc_id})

    def add_chunks(self, doc: Document, chunks: list[Chunk]) -> None:
        self.write_documents([(doc, chunks, False)])

    def write_documents(self, batch: list[tuple[Document, list[Chunk], bool]]) -> None:
        """(document, its chunks, replaces stored chunks) for several documents at once.

        One embedding call and as few Chroma writes as its batch limit allows: each Chroma
        write costs tens of milliseconds whatever its size.
        """
        replaced = [doc.id for doc, _chunks, replaces in batch if replaces]
        if replaced:
            self.collection.delete(where={"doc_id": {"$in": replaced}})
        rows = [(doc, c) for doc, chunks, _replaces in batch for c in chunks]
        if not rows:
            return
        vectors = embed_array(self.embeddings, [c.text for _doc, c in rows])
        step = max(1, self.client.get_max_batch_size())
        for b in range(0, len(rows), step):
            part = rows[b : b + step]
            self.collection.upsert(
                ids=[c.id for _doc, c in part],
                embeddings=vectors[b : b + step],
                documents=[c.text for _doc, c in part],
                metadatas=[
                    {
                        "doc_id": doc.id,
                        "doc_hash": doc.content_hash,
                        "title": doc.title,
                        "language": "fr" if doc.language.startswith("fr") else "en",
                        "start": c.start,
                        "end": c.end,
                        "chunk_index": c.index,
                    }
                    for doc, c in part
                ],
            )

    def _pages(self, include: list[str]) -> Iterator[dict[str, Any]]:
        """The whole collection, READ_PAGE rows at a time (one huge `get` is slow over HTTP)."""
        offset = 0
        while True:
            page = self.collection.get(include=include, limit=READ_PAGE, offset=offset)
            if not page["ids"]:
                return
            yield page
            offset += len(page["ids"])

    def iter_rows(self, with_vectors: bool = True) -> Iterator[dict[str, Any]]:
        """Every chunk: id, text, metadata and (optionally) its vector, page by page."""
        include = ["documents", "metadatas", *(["embeddings"] if with_vectors else [])]
        for page in self._pages(include):
            vectors = page.get("embeddings") if with_vectors else None
            for i, cid in enumerate(page["ids"]):
                row = {"id": cid, "text": page["documents"][i], **(page["metadatas"][i] or {})}
                if vectors is not None:
                    row["vector"] = vectors[i]
                yield row

    def all_chunks(self) -> list[dict[str, Any]]:
        return list(self.iter_rows(with_vectors=False))

    def dense_search(self, query: str, k: int) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity), best first."""
        vector = self.embeddings.embed_query(query)
        return self.dense_search_by_vector(vector, k)

    def dense_search_by_vector(
        self, vector: list[float] | np.ndarray, k: int
    ) -> list[tuple[str, float]]:
        """Chroma's HNSW neighbours: ids and distances only (Chroma caps k at its count)."""
        res = self.collection.query(query_embeddings=[vector], n_results=k, include=["distances"])
        return [
            (cid, 1.0 - float(dist))
            for cid, dist in zip(res["ids"][0], res["distances"][0], strict=True)
        ]
