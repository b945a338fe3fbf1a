"""Fixtures for the language-model tests: the real GGUF model and a real OpenAI-compatible server.

Imported by tests/conftest.py. A missing model file fails the tests that need it (never a skip):
`make model` fetches it.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.settings import PROJECT_ROOT, Settings

SERVER_START_TIMEOUT_S = 120


@pytest.fixture(scope="session")
def gguf_path() -> Path:
    """The model file of the settings (ASSISTANT_LLM__MODEL_PATH); fails the test if missing."""
    path = Settings().llm.model_path
    if not path.is_file():
        pytest.fail(f"language model not found at {path}: run `make model`", pytrace=False)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=2) as reply:
            return json.load(reply).get("status") == "ok"
    except (OSError, urllib.error.URLError, ValueError):
        return False  # not listening yet, or 503 while the model loads


@pytest.fixture(scope="session")
def openai_server(gguf_path: Path) -> Iterator[str]:
    """`python -m assistant.answer.llm serve` on a free port; yields its base URL (…/v1)."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    artifacts = PROJECT_ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    log = open(artifacts / "llm-server.log", "wb")  # noqa: SIM115 - closed after the server
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant.answer.llm", "serve", "--model", str(gguf_path),
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not _healthy(base):
            if proc.poll() is not None:
                pytest.fail(f"the model server exited with {proc.returncode}: see {log.name}")
            if time.monotonic() > deadline:
                pytest.fail(f"the model server was not healthy after {SERVER_START_TIMEOUT_S} s")
            time.sleep(0.5)
        yield f"{base}/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
