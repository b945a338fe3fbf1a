"""The command line, run as a user would: `python -m assistant ...` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from assistant.settings import PROJECT_ROOT, Settings
from tests.conftest import DEV_QUESTIONS

REPLY_KEYS = {"kind", "lang", "text", "citations", "retrieved", "resources", "timings_ms"}
CITATION_KEYS = {"n", "doc_id", "title", "quote", "start", "end", "score"}
PASSAGE_KEYS = {"doc_id", "chunk_id", "text", "score", "start", "end"}


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ASSISTANT_PATHS__CORPUS_DIR": str(settings.paths.corpus_dir),
        "ASSISTANT_PATHS__INDEX_DIR": str(settings.paths.index_dir),
        "ASSISTANT_PATHS__DATA_DIR": str(settings.paths.data_dir),
    }
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )


def test_ask_json_has_the_documented_shape(corpus_settings: Settings) -> None:
    proc = run_cli(corpus_settings, "ask", "What does Charonnes hand out from his van?", "--json")
    assert proc.returncode == 0, proc.stderr
    reply = json.loads(proc.stdout)
    assert set(reply) == REPLY_KEYS
    assert reply["kind"] == "answer" and reply["lang"] == "en"
    assert "free crack pipes and gauze" in reply["text"]
    assert reply["citations"] and all(set(c) == CITATION_KEYS for c in reply["citations"])
    assert reply["retrieved"] and all(set(p) == PASSAGE_KEYS for p in reply["retrieved"])
    assert reply["resources"][0]["id"] == "drogues-info-service"
    assert {"guard", "retrieve", "generate", "total"} <= set(reply["timings_ms"])
    docs = json.loads((corpus_settings.paths.index_dir / "documents.json").read_text("utf-8"))
    for c in reply["citations"]:
        assert docs[c["doc_id"]]["text"][c["start"] : c["end"]] == c["quote"]


def test_eval_prints_metrics_and_writes_replies(corpus_settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "replies.jsonl"
    proc = run_cli(corpus_settings, "eval", str(DEV_QUESTIONS), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    for line in ("retrieval hit rate @5     100%", "citation validity         100%",
                 "  no_answer               100%", "latency p50 / p95"):
        assert line in proc.stdout
    replies = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [r["id"] for r in replies] == [f"dev{i:02d}" for i in range(1, 21)]
    assert all(set(r) == REPLY_KEYS | {"id"} for r in replies)


def test_ingest_reports_fixes_and_skipped_files(tmp_path: Path) -> None:
    from tests.conftest import copy_corpus, make_settings

    s = make_settings(tmp_path, copy_corpus(tmp_path / "corpus"))
    (s.paths.corpus_dir / "broken.txt").write_bytes("Café".encode("latin-1"))
    proc = run_cli(s, "ingest")
    assert proc.returncode == 0, proc.stderr
    assert "3 documents" in proc.stdout
    assert "cleaned hidalgo-letter-castex: 'Và © ran' -> 'Véran' x1" in proc.stdout
    assert "SKIPPED broken.txt: not UTF-8 text" in proc.stdout


def test_eval_rejects_a_malformed_question_file(corpus_settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "q1", "question": "hi"}\n', "utf-8")
    proc = run_cli(corpus_settings, "eval", str(bad))
    assert proc.returncode == 2
    assert "bad.jsonl:1: not a question line" in proc.stderr
