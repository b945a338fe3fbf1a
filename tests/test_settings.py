"""One settings object: defaults, a profile file, environment variables on top."""

from __future__ import annotations

import pytest

from assistant.settings import Settings


def test_defaults() -> None:
    s = Settings()
    assert s.embedding.model == "bundled:all-MiniLM-L6-v2"
    assert s.vector_store.mode == "persistent"
    assert s.retrieval.top_k == 5


def test_profile_file_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_PROFILE", "server")
    s = Settings()
    assert (s.vector_store.mode, s.vector_store.port) == ("http", 8000)
    monkeypatch.setenv("ASSISTANT_VECTOR_STORE__PORT", "9001")
    monkeypatch.setenv("ASSISTANT_RETRIEVAL__RRF_K", "10")
    s = Settings()
    assert (s.vector_store.mode, s.vector_store.port) == ("http", 9001)
    assert s.retrieval.rrf_k == 10


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_VECTOR_STORE__MODE", "cloud")
    with pytest.raises(ValueError, match="mode"):
        Settings()
