"""Simultaneous users asking the dev questions over real HTTP (loopback), at 16 and 32 users,
with an emergency message sent every second while they ask.

    python bench/bench_ui_concurrency.py                  # starts `python app.py` on a free port
    python bench/bench_ui_concurrency.py --users 16 32 64 --rounds 2
    python bench/bench_ui_concurrency.py --url http://127.0.0.1:7860/   # an app already running

Each user has its own client and connection and asks every dev question once per round,
starting at a different question, all users at the same time; every run is bounded by
--timeout. Prints, per level: p50/p95/max latency, throughput, errors, replies of the expected
kind (the dev file's `expect`), the emergency messages' latency under that load (they bypass
the workers' queue), and the app's memory before and after (when this script started it).
Exits non-zero when any request failed.

Users speak Gradio's documented HTTP API (POST /gradio_api/call/ask, then its event stream),
as curl would; `--client gradio` uses gradio_client instead. Both load generators run on the
same 2 cores as the app: gradio_client spends about twice the app's CPU per request (27 s
against 14 s for 330 requests here), which the app's figures would then pay for.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from common import DEV, Timer, percentile

EMERGENCY = "my friend smoked crack and now he is not breathing and won't wake up"


class HttpClient:
    """One user over Gradio's HTTP API: a kept-alive connection, no background threads, and
    one session for all its questions, as a browser tab or gradio_client has (Gradio builds
    a session's state on its first request: about a third of the app's CPU when every
    request is a new session)."""

    def __init__(self, url: str) -> None:
        import uuid

        import httpx

        self.http = httpx.Client(base_url=url, timeout=120)
        self.session = uuid.uuid4().hex[:11]

    def predict(self, question: str, history: object, api_name: str = "/ask") -> object:
        path = "gradio_api/call" + api_name
        r = self.http.post(path, json={"data": [question, history, ""],
                                       "session_hash": self.session})
        r.raise_for_status()
        event = ""
        with self.http.stream("GET", f"{path}/{r.json()['event_id']}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    data = json.loads(line[5:])
                    if event == "error":
                        raise RuntimeError(f"the app reported an error: {data}")
                    return data[0]
        raise RuntimeError("the event stream ended without a reply")


CLIENTS = {"http": HttpClient}


def make_client(kind: str, url: str) -> object:
    if kind == "gradio":
        from gradio_client import Client

        return Client(url, verbose=False)
    return CLIENTS[kind](url)


@dataclass
class Level:
    users: int
    client: str = "http"
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    expected: int = 0
    emergency: list[float] = field(default_factory=list)
    emergency_wrong: int = 0
    wall: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


def _user(url: str, u: int, level: Level, questions: list[tuple[str, str]], rounds: int,
          start: threading.Barrier, deadline: float, kind: str) -> None:
    try:
        client = make_client(kind, url)
    except Exception as exc:  # noqa: BLE001 - counted as an error, the run goes on
        with level.lock:
            level.errors.append(f"user {u}: connect: {exc!r}")
        start.wait()
        return
    start.wait()  # every user fires at once
    order = questions[u % len(questions):] + questions[: u % len(questions)]
    for _ in range(rounds):
        for q, expect in order:
            if time.monotonic() > deadline:
                return
            clock = Timer()
            try:
                reply = client.predict(q, None, api_name="/ask")
                if not isinstance(reply, dict) or not reply.get("text", "").strip():
                    raise ValueError(f"empty reply: {reply!r}")
            except Exception as exc:  # noqa: BLE001 - counted as an error
                with level.lock:
                    level.errors.append(f"user {u}: {q[:40]!r}: {exc!r}")
                continue
            with level.lock:
                level.latencies.append(clock.s)
                level.expected += reply.get("kind") == expect


def _emergencies(url: str, level: Level, done: threading.Event, kind: str) -> None:
    """One emergency a second while the users ask: how long a person in danger waits."""
    client = make_client(kind, url)
    time.sleep(0.5)
    while not done.is_set():
        clock = Timer()
        try:
            reply = client.predict(EMERGENCY, None, api_name="/ask")
        except Exception as exc:  # noqa: BLE001 - counted as an error
            with level.lock:
                level.errors.append(f"emergency: {exc!r}")
            continue
        with level.lock:
            level.emergency.append(clock.s)
            level.emergency_wrong += reply.get("kind") != "emergency"
        done.wait(1.0)


def run_level(url: str, users: int, questions: list[tuple[str, str]], rounds: int,
              timeout_s: float, kind: str) -> Level:
    level = Level(users, client=kind)
    start = threading.Barrier(users)
    deadline = time.monotonic() + timeout_s
    done = threading.Event()
    with Timer() as t:
        threads = [threading.Thread(target=_user,
                                    args=(url, u, level, questions, rounds, start, deadline,
                                          kind))
                   for u in range(users)]
        for th in threads:
            th.start()
        probe = threading.Thread(target=_emergencies, args=(url, level, done, kind))
        probe.start()
        for th in threads:
            th.join()
        done.set()
        probe.join()
    level.wall = t.s
    return level


def report(level: Level, rss_before: float | None, rss_after: float | None) -> None:
    lat = level.latencies
    n = len(lat) + len(level.errors)
    ms = lambda xs, p: percentile(xs, p) * 1000 if xs else float("nan")  # noqa: E731
    print(f"users: {level.users} ({level.client} client)  requests: {n}  wall: {level.wall:.1f} s  "
          f"throughput: {len(lat) / level.wall:.2f} req/s")
    print(f"  latency p50: {ms(lat, 50):.0f} ms  p95: {ms(lat, 95):.0f} ms  "
          f"max: {max(lat, default=float('nan')) * 1000:.0f} ms  "
          f"mean: {statistics.fmean(lat) * 1000 if lat else float('nan'):.0f} ms")
    print(f"  errors: {len(level.errors)}  replies of the expected kind: "
          f"{level.expected}/{len(lat)}")
    em = level.emergency
    print(f"  emergency under load: {len(em)} sent, p50 {ms(em, 50):.0f} ms, "
          f"max {max(em, default=float('nan')) * 1000:.0f} ms, "
          f"not emergency: {level.emergency_wrong}")
    if rss_before is not None and rss_after is not None:
        print(f"  app memory (RSS): {rss_before:.0f} MB before, {rss_after:.0f} MB after")
    for e in level.errors[:10]:
        print("    " + e)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running app; default: start one on a free port")
    parser.add_argument("--users", type=int, nargs="+", default=[16, 32])
    parser.add_argument("--rounds", type=int, default=1, help="passes over the dev questions")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per level")
    parser.add_argument("--questions", type=Path, default=DEV)
    parser.add_argument("--client", choices=["http", "gradio"], default="http")
    args = parser.parse_args()

    rows = [json.loads(line) for line in args.questions.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    questions = [(r["question"], r.get("expect", "")) for r in rows]
    server, pid = None, None
    url = args.url
    if not url:
        from tests.conftest_ui import start_server

        server = start_server()
        url, pid = server.url, server.proc.pid
        print(f"started app at {url}")
    failed = False
    try:
        for users in args.users:
            before = _rss_mb(pid)
            level = run_level(url, users, questions, args.rounds, args.timeout, args.client)
            report(level, before, _rss_mb(pid))
            failed |= bool(level.errors)
    finally:
        if server is not None:
            from tests.conftest_ui import stop_server

            stop_server(server)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
