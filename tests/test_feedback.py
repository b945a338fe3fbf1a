"""Feedback is stored in SQLite (WAL), survives concurrent writers, and exports as CSV."""

from __future__ import annotations

import csv
import io
import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest

from assistant.app.feedback import COLUMNS, Feedback, FeedbackStore, export_csv


def test_add_and_export_round_trip(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    rid = store.add(Feedback(
        rating="down", wrong_source=True, comment='quote, with "commas"\nand a newline',
        reply_id="r1", question="Which sites?", reply="The XXth [1].",
        citations=[{"n": 1, "doc_id": "hidalgo-letter-castex"}],
    ))
    assert rid == 1
    out = tmp_path / "out" / "feedback.csv"
    assert export_csv(tmp_path / "fb.sqlite3", out) == 1
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert list(rows[0]) == COLUMNS
    assert rows[0]["rating"] == "down"
    assert rows[0]["wrong_source"] == "1"
    assert rows[0]["missing_information"] == "0"
    assert rows[0]["comment"] == 'quote, with "commas"\nand a newline'
    assert "hidalgo-letter-castex" in rows[0]["citations"]


def test_database_is_in_wal_mode(tmp_path: Path) -> None:
    FeedbackStore(tmp_path / "fb.sqlite3")
    conn = sqlite3.connect(tmp_path / "fb.sqlite3")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_export_to_a_text_stream(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.add(Feedback(rating="up", missing_information=True))
    buf = io.StringIO()
    assert export_csv(tmp_path / "fb.sqlite3", buf) == 1
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("id,created_at,")
    assert ",up,0,1," in lines[1]


def test_export_without_a_database_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no feedback database"):
        export_csv(tmp_path / "missing.sqlite3", tmp_path / "x.csv")


def test_invalid_rating_is_refused() -> None:
    with pytest.raises(ValueError, match="rating"):
        Feedback(rating="meh")


def test_concurrent_threads_lose_nothing(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    n_threads, per_thread = 16, 25
    errors: list[BaseException] = []

    def writer(t: int) -> None:
        try:
            for i in range(per_thread):
                store.add(Feedback(rating="up", comment=f"t{t}-{i}", session=f"s{t}"))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    comments = {r["comment"] for r in store.rows()}
    assert len(comments) == n_threads * per_thread


def _process_writer(db: str, p: int, n: int) -> None:
    store = FeedbackStore(db)
    for i in range(n):
        store.add(Feedback(rating="down", comment=f"p{p}-{i}"))


def test_concurrent_processes_lose_nothing(tmp_path: Path) -> None:
    db = str(tmp_path / "fb.sqlite3")
    FeedbackStore(db)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_process_writer, args=(db, p, 40)) for p in range(4)]
    for pr in procs:
        pr.start()
    for pr in procs:
        pr.join(timeout=120)
        assert pr.exitcode == 0
    assert FeedbackStore(db).count() == 4 * 40
