"""Simultaneous gradio_client users asking the dev questions over real HTTP (loopback), at 16
and 32 users, with an emergency message sent every second while they ask.

    python bench/bench_ui_concurrency.py                  # starts `python app.py` on a free port
    python bench/bench_ui_concurrency.py --users 16 32 64 --rounds 2
    python bench/bench_ui_concurrency.py --url http://127.0.0.1:7860/   # an app already running

Each user has its own Client (its own session) and asks every dev question once per round,
starting at a different question, all users at the same time; every run is bounded by
--timeout. Prints, per level: p50/p95/max latency, throughput, errors, replies of the expected
kind (the dev file's `expect`), the emergency messages' latency under that load (they bypass
the workers' queue), and the app's memory before and after (when this script started it).
Exits non-zero when any request failed.
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


@dataclass
class Level:
    users: int
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
          start: threading.Barrier, deadline: float) -> None:
    from gradio_client import Client

    try:
        client = Client(url, verbose=False)
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


def _emergencies(url: str, level: Level, done: threading.Event) -> None:
    """One emergency a second while the users ask: how long a person in danger waits."""
    from gradio_client import Client

    client = Client(url, verbose=False)
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
              timeout_s: float) -> Level:
    level = Level(users)
    start = threading.Barrier(users)
    deadline = time.monotonic() + timeout_s
    done = threading.Event()
    with Timer() as t:
        threads = [threading.Thread(target=_user,
                                    args=(url, u, level, questions, rounds, start, deadline))
                   for u in range(users)]
        for th in threads:
            th.start()
        probe = threading.Thread(target=_emergencies, args=(url, level, done))
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
    print(f"users: {level.users}  requests: {n}  wall: {level.wall:.1f} s  "
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
            level = run_level(url, users, questions, args.rounds, args.timeout)
            report(level, before, _rss_mb(pid))
            failed |= bool(level.errors)
    finally:
        if server is not None:
            from tests.conftest_ui import stop_server

            stop_server(server)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
