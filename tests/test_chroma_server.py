"""Client/server mode: the same ingest and answers against a real `chroma run` server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.ingest.indexing import ingest
from assistant.settings import Settings
from tests.conftest import copy_corpus, make_settings
from tests.conftest_ui import free_port


@pytest.fixture()
def chroma_server(tmp_path: Path) -> Iterator[int]:
    exe = shutil.which("chroma") or str(Path(__import__("sys").executable).parent / "chroma")
    port = free_port()
    log = open(tmp_path / "chroma.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [exe, "run", "--path", str(tmp_path / "chroma-server"), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("chroma run did not start: " + (tmp_path / "chroma.log").read_text())
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_ingest_and_answer_through_a_chroma_server(chroma_server: int, tmp_path: Path) -> None:
    from assistant.service import Assistant

    s: Settings = make_settings(tmp_path, copy_corpus(tmp_path / "corpus"))
    s.vector_store.mode = "http"
    s.vector_store.port = chroma_server
    report = ingest(s)
    assert sorted(report.embedded) == ["crack-plan-dagnaud", "hidalgo-letter-castex",
                                     "reperes-crack-paris"]
    assert not (s.paths.index_dir / "chroma").exists()  # vectors live on the server
    assert ingest(s).embedded == []  # incremental over HTTP too

    a = Assistant(s, build_index=False).ask("Who did the mayor of Paris send her letter to?")
    assert a.kind == "answer"
    assert "Prime Minister Jean Castex" in a.text
