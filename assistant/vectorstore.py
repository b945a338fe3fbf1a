"""The Chroma collection, on disk (PersistentClient) or on a `chroma run` server (HttpClient).

Chroma never embeds anything itself here: LangChain's Chroma wrapper creates the collection
with no embedding function and every vector comes from our own model.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import chromadb
from chromadb.config import Settings as ChromaSettings
from langchain_chroma import Chroma

from assistant.embeddings import get_embeddings
from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.corpus import Document
    from assistant.indexing import Chunk

FINGERPRINT_KEY = "index_fingerprint"


def make_client(settings: Settings) -> chromadb.ClientAPI:
    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    vs = settings.vector_store
    if vs.mode == "http":
        return chromadb.HttpClient(host=vs.host, port=vs.port, settings=chroma_settings)
    path = settings.paths.index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class VectorIndex:
    """One collection of chunk vectors, with its fingerprint in the collection metadata."""

    def __init__(self, settings: Settings, client: chromadb.ClientAPI | None = None) -> None:
        self.settings = settings
        self.client = client or make_client(settings)
        e = settings.embedding
        self.embeddings = get_embeddings(e.model, e.device, e.batch_size)
        self.store = self._open()

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

    def fingerprint(self) -> dict[str, Any] | None:
        raw = (self.collection.metadata or {}).get(FINGERPRINT_KEY)
        return json.loads(raw) if raw else None

    def reset(self, fingerprint: dict[str, Any]) -> None:
        """Drop every vector and start a collection for new settings."""
        self.client.delete_collection(self.settings.vector_store.collection)
        self.store = self._open(fingerprint)

    def chunk_ids_by_doc(self) -> dict[str, dict[str, str]]:
        """{doc_id: {chunk_id: doc_hash}} for everything stored."""
        got = self.collection.get(include=["metadatas"])
        out: dict[str, dict[str, str]] = {}
        for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
            meta = meta or {}
            out.setdefault(str(meta.get("doc_id", "")), {})[cid] = str(meta.get("doc_hash", ""))
        return out

    def delete_doc(self, doc_id: str) -> None:
        self.collection.delete(where={"doc_id": doc_id})

    def add_chunks(self, doc: Document, chunks: list[Chunk]) -> None:
        if not chunks:
            return
        self.store.add_texts(
            texts=[c.text for c in chunks],
            ids=[c.id for c in chunks],
            metadatas=[
                {
                    "doc_id": doc.id,
                    "doc_hash": doc.content_hash,
                    "title": doc.title,
                    "start": c.start,
                    "end": c.end,
                    "chunk_index": c.index,
                }
                for c in chunks
            ],
        )

    def all_chunks(self) -> list[dict[str, Any]]:
        got = self.collection.get(include=["documents", "metadatas"])
        return [
            {"id": cid, "text": text, **(meta or {})}
            for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        ]

    def dense_search(self, query: str, k: int) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity), best first."""
        vector = self.embeddings.embed_query(query)
        return self.dense_search_by_vector(vector, k)

    def dense_search_by_vector(self, vector: list[float], k: int) -> list[tuple[str, float]]:
        n = self.collection.count()
        if n == 0:
            return []
        res = self.collection.query(
            query_embeddings=[vector], n_results=min(k, n), include=["distances"]
        )
        return [
            (cid, 1.0 - float(dist))
            for cid, dist in zip(res["ids"][0], res["distances"][0], strict=True)
        ]
