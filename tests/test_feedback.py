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


def test_one_judgement_is_one_row(tmp_path: Path) -> None:
    """A thumb, then the form, on the same reply in the same session: one row, updated."""
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    first = store.add(Feedback(rating="up", reply_id="r1", session="s1", question="Q?"))
    again = store.add(Feedback(wrong_source=True, comment="the quote is off", reply_id="r1",
                               session="s1", question="Q?"))
    assert again == first
    rows = store.rows()
    assert len(rows) == 1
    row = rows[0]
    assert (row["rating"], row["wrong_source"], row["comment"]) == ("up", 1, "the quote is off")
    assert row["updated_at"] >= row["created_at"]
    # A changed mind replaces the rating; a new comment replaces the old one.
    store.add(Feedback(rating="down", comment="worse", reply_id="r1", session="s1"))
    row = store.rows()[0]
    assert (store.count(), row["rating"], row["wrong_source"], row["comment"]) == \
        (1, "down", 1, "worse")


def test_other_people_and_other_replies_get_their_own_rows(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.add(Feedback(rating="up", reply_id="r1", session="s1"))
    store.add(Feedback(rating="down", reply_id="r1", session="s2"))  # someone else
    store.add(Feedback(rating="up", reply_id="r2", session="s1"))  # another reply
    store.add(Feedback(rating="up", reply_id="r1", session="s1", source="api"))  # the API
    store.add(Feedback(rating="up", reply_id="r1", session=""))  # no session: no merging
    store.add(Feedback(rating="up", reply_id="r1", session=""))
    assert store.count() == 6


def test_a_withdrawn_thumb_clears_the_rating_only(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "fb.sqlite3")
    store.add(Feedback(rating="up", missing_information=True, reply_id="r1", session="s1"))
    assert store.withdraw_rating("s1", "r1") is True
    row = store.rows()[0]
    assert (row["rating"], row["missing_information"]) == ("", 1)
    assert store.withdraw_rating("s1", "unknown-reply") is False


def test_a_database_from_before_updated_at_is_migrated(tmp_path: Path) -> None:
    db = tmp_path / "fb.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT "
                 "NOT NULL, session TEXT NOT NULL DEFAULT '', reply_id TEXT NOT NULL DEFAULT "
                 "'', rating TEXT NOT NULL DEFAULT '', wrong_source INTEGER NOT NULL DEFAULT 0, "
                 "missing_information INTEGER NOT NULL DEFAULT 0, comment TEXT NOT NULL "
                 "DEFAULT '', question TEXT NOT NULL DEFAULT '', rewritten TEXT NOT NULL "
                 "DEFAULT '', reply TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL DEFAULT '', "
                 "lang TEXT NOT NULL DEFAULT '', citations TEXT NOT NULL DEFAULT '[]', source "
                 "TEXT NOT NULL DEFAULT '')")
    conn.execute("INSERT INTO feedback (created_at, reply_id, rating) VALUES ('t', 'old', 'up')")
    conn.commit()
    conn.close()
    store = FeedbackStore(db)
    store.add(Feedback(rating="down", reply_id="r1", session="s1"))
    assert [(r["reply_id"], r["rating"]) for r in store.rows()] == [("old", "up"), ("r1", "down")]
