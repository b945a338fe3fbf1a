"""Reader feedback on replies, in SQLite (WAL), and its CSV export.

Every write opens its own connection and takes the write lock up front (BEGIN IMMEDIATE),
with a long busy timeout and retries, so concurrent writers (threads or processes) wait
for each other instead of failing: no feedback is lost.

One judgement is one row: a person's later feedback on the same reply in the same session (a
thumb, then the form) updates their row instead of adding a second one.
"""

from __future__ import annotations

import csv
import json
import logging
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

DB_NAME = "feedback.sqlite3"
RATINGS = ("up", "down", "")
COLUMNS = [
    "id", "created_at", "updated_at", "session", "reply_id", "rating", "wrong_source",
    "missing_information", "comment", "question", "rewritten", "reply", "kind", "lang",
    "citations", "source",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL DEFAULT '',
    session TEXT NOT NULL DEFAULT '',
    reply_id TEXT NOT NULL DEFAULT '',
    rating TEXT NOT NULL DEFAULT '' CHECK (rating IN ('up', 'down', '')),
    wrong_source INTEGER NOT NULL DEFAULT 0,
    missing_information INTEGER NOT NULL DEFAULT 0,
    comment TEXT NOT NULL DEFAULT '',
    question TEXT NOT NULL DEFAULT '',
    rewritten TEXT NOT NULL DEFAULT '',
    reply TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT '',
    lang TEXT NOT NULL DEFAULT '',
    citations TEXT NOT NULL DEFAULT '[]',
    source TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS feedback_reply ON feedback (reply_id);
"""
# Columns added after the first release, for databases created before them.
_MIGRATIONS = {"updated_at": "ALTER TABLE feedback ADD COLUMN updated_at TEXT NOT NULL DEFAULT ''"}
# Feedback fields a later judgement of the same person on the same reply updates, and the
# rows that person's judgement of that reply lives in (parameters: session, reply_id).
_JUDGEMENT = ("rating", "wrong_source", "missing_information", "comment")
_SAME_JUDGE = "session = ? AND reply_id = ? AND source = 'ui'"

_MAX_COMMENT = 5000  # a comment is a note, not a document


@dataclass
class Feedback:
    """One piece of feedback on one reply."""

    rating: str = ""  # "up", "down" or "" (flags or a comment only)
    wrong_source: bool = False
    missing_information: bool = False
    comment: str = ""
    reply_id: str = ""
    session: str = ""
    question: str = ""
    rewritten: str = ""
    reply: str = ""
    kind: str = ""
    lang: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)
    source: str = "ui"  # "ui" or "api"

    def __post_init__(self) -> None:
        self.rating = (self.rating or "").strip().lower()
        if self.rating not in RATINGS:
            raise ValueError(f"rating must be one of 'up', 'down' or '', not {self.rating!r}")
        self.comment = (self.comment or "").strip()[:_MAX_COMMENT]

    def is_empty(self) -> bool:
        return not (self.rating or self.wrong_source or self.missing_information or self.comment)


def default_db_path(data_dir: Path) -> Path:
    return Path(data_dir) / DB_NAME


class FeedbackUnavailable(RuntimeError):
    """The feedback database cannot be written (read-only or full disk, no permission)."""


_MAX_PENDING = 1000  # feedback kept in memory while the database cannot be written


class FeedbackStore:
    """Feedback table, one row per judgement; safe to share between threads and processes.

    When the database cannot be written, the app keeps answering: `add` raises
    FeedbackUnavailable (the UI says so), the row waits in memory (bounded) and is written with
    the next row that can be.
    """

    def __init__(self, db_path: Path | str, *, timeout_s: float = 30.0) -> None:
        self.db_path = Path(db_path)
        self.timeout_s = timeout_s
        self._init_lock = threading.Lock()
        self._ready = False
        self.pending: deque[Feedback] = deque(maxlen=_MAX_PENDING)
        self.problem = ""
        try:
            self._init_db()
        except (OSError, sqlite3.Error) as exc:
            self._unavailable(exc)

    def _init_db(self) -> None:
        with self._init_lock:
            if self._ready:
                return
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as conn:
                # WAL lets readers (the export) run while the app writes.
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(_SCHEMA)
                have = {r[1] for r in conn.execute("PRAGMA table_info(feedback)")}
                for column, sql in _MIGRATIONS.items():
                    if column not in have:
                        conn.execute(sql)
            self._ready = True
            self.problem = ""

    def _unavailable(self, exc: BaseException) -> None:
        if not self.problem:  # said once, not on every click; never with the feedback's text
            log.error("feedback database %s cannot be written (%s: %s); feedback is kept in "
                      "memory until it can", self.db_path, type(exc).__name__, exc)
        self.problem = f"{type(exc).__name__}: {exc}"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.db_path, timeout=self.timeout_s, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout={int(self.timeout_s * 1000)}")
            conn.execute("PRAGMA synchronous=FULL")  # a committed row survives a crash
            yield conn
        finally:
            conn.close()

    def add(self, item: Feedback) -> int:
        """Store one feedback row (and any waiting since a failure); returns its id.

        Raises FeedbackUnavailable when the database cannot be written; the row is kept.
        """
        try:
            self._init_db()
            while self.pending:
                self._insert(self.pending[0])
                self.pending.popleft()
            return self._insert(item)
        except (OSError, sqlite3.Error) as exc:
            if isinstance(exc, sqlite3.OperationalError) and _contention(exc):
                raise  # the database is there and busy past every retry: not a storage fault
            self.pending.append(item)
            self._unavailable(exc)
            raise FeedbackUnavailable(self.problem) from None

    def _insert(self, item: Feedback) -> int:
        """One row, or the update of this person's row on this reply."""
        row = asdict(item)
        row["wrong_source"] = int(bool(row["wrong_source"]))
        row["missing_information"] = int(bool(row["missing_information"]))
        row["citations"] = json.dumps(row["citations"], ensure_ascii=False)
        row["created_at"] = row["updated_at"] = _now()
        return self._transaction(lambda conn: _write(conn, row))

    def _transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work` in one write transaction; retries while another writer holds the lock."""
        deadline = time.monotonic() + self.timeout_s * 2
        delay = 0.01
        while True:
            try:
                with self._connect() as conn:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        result = work(conn)
                        conn.execute("COMMIT")
                    except BaseException:
                        conn.execute("ROLLBACK")
                        raise
                    return result
            except sqlite3.OperationalError as exc:
                # busy_timeout covers most contention; this covers lock errors it doesn't.
                if not _contention(exc):
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def withdraw_rating(self, session: str, reply_id: str) -> bool:
        """A thumb taken back: the person's rating on the reply is cleared (flags and comment
        stay). False when there was no row to change."""
        if not (session and reply_id):
            return False

        def clear(conn: sqlite3.Connection) -> bool:
            cur = conn.execute(
                f"UPDATE feedback SET rating = '', updated_at = ? WHERE id = (SELECT MAX(id) "
                f"FROM feedback WHERE {_SAME_JUDGE})", (_now(), session, reply_id))
            return cur.rowcount > 0

        try:
            self._init_db()
            return self._transaction(clear)
        except (OSError, sqlite3.Error) as exc:
            self._unavailable(exc)
            raise FeedbackUnavailable(self.problem) from None

    def count(self) -> int:
        with self._connect() as conn:
            return int(conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0])

    def rows(self) -> list[dict[str, Any]]:
        return _read_rows(self.db_path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _write(conn: sqlite3.Connection, row: dict[str, Any]) -> int:
    """Insert the row, or merge it into the same person's earlier row on the same reply (UI
    feedback with a session): a new rating replaces the old, flags add up, a new comment
    replaces the old one. Returns the row id."""
    earlier = None
    if row["session"] and row["reply_id"] and row["source"] == "ui":
        earlier = conn.execute(
            f"SELECT id, {', '.join(_JUDGEMENT)} FROM feedback WHERE {_SAME_JUDGE} "
            "ORDER BY id DESC LIMIT 1", (row["session"], row["reply_id"])).fetchone()
    if earlier is None:
        cols = [c for c in COLUMNS if c != "id"]
        cur = conn.execute(f"INSERT INTO feedback ({', '.join(cols)}) "
                           f"VALUES ({', '.join(':' + c for c in cols)})",
                           {c: row[c] for c in cols})
        return int(cur.lastrowid or 0)
    row_id, rating, wrong, missing, comment = earlier
    conn.execute(
        "UPDATE feedback SET rating = ?, wrong_source = ?, missing_information = ?, "
        "comment = ?, updated_at = ? WHERE id = ?",
        (row["rating"] or rating, int(row["wrong_source"] or wrong),
         int(row["missing_information"] or missing), row["comment"] or comment,
         row["updated_at"], row_id))
    return int(row_id)


def _contention(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


# A cell a spreadsheet would run as a formula ("=HYPERLINK(…)", "+1", "@SUM"): written with a
# leading apostrophe, as OWASP advises, so it shows as the text it is.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _read_rows(db_path: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        conn.row_factory = sqlite3.Row
        cur = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id")
        return [dict(r) for r in cur.fetchall()]
    finally:
        conn.close()


def export_csv(db_path: Path | str, out: Path | str | IO[str]) -> int:
    """Write every feedback row as CSV (header first) to a path, '-' (stdout) or a text file.

    Returns the number of rows written. Raises FileNotFoundError when there is no database.
    """
    db_path = Path(db_path)
    if not db_path.exists():
        raise FileNotFoundError(f"no feedback database at {db_path}")
    rows = _read_rows(db_path)

    def write(fh: IO[str]) -> None:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)

    if isinstance(out, str | Path) and str(out) == "-":
        write(sys.stdout)
    elif isinstance(out, str | Path):
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            write(fh)
        tmp.replace(path)
    else:
        write(out)
    return len(rows)
