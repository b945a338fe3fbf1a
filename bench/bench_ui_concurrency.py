"""16 simultaneous gradio_client users asking the dev questions over real HTTP.

    python bench/bench_ui_concurrency.py                 # starts `python app.py` on a free port
    python bench/bench_ui_concurrency.py --url http://127.0.0.1:7860/   # an app already running

Each user has its own Client (its own session) and asks every dev question once, starting at
a different question, all users at the same time. Prints p50/p95/max latency per request,
throughput and the error count; exits non-zero when any request failed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
from pathlib import Path

from common import DEV, Timer, percentile


def run(url: str, users: int, questions: list[str], rounds: int) -> int:
    """Every user asks every question `rounds` times, all at once; prints the figures and
    returns the exit code (1 when any request failed)."""
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    kinds: dict[str, int] = {}
    lock = threading.Lock()
    start = threading.Barrier(users)

    def user(u: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as exc:  # noqa: BLE001 - counted as an error, the run goes on
            with lock:
                errors.append(f"user {u}: connect: {exc!r}")
            start.wait()
            return
        start.wait()  # every user fires at once
        order = questions[u % len(questions):] + questions[: u % len(questions)]
        for _ in range(rounds):
            for q in order:
                clock = Timer()
                try:
                    reply = client.predict(q, None, api_name="/ask")
                    if not isinstance(reply, dict) or not reply.get("text", "").strip():
                        raise ValueError(f"empty reply: {reply!r}")
                except Exception as exc:  # noqa: BLE001 - counted as an error
                    with lock:
                        errors.append(f"user {u}: {q[:40]!r}: {exc!r}")
                    continue
                dt = clock.s
                with lock:
                    latencies.append(dt)
                    kinds[reply["kind"]] = kinds.get(reply["kind"], 0) + 1

    with Timer() as t:
        threads = [threading.Thread(target=user, args=(u,)) for u in range(users)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    wall = t.s

    n = len(latencies) + len(errors)
    print(f"users: {users}  requests: {n}  rounds: {rounds}  wall: {wall:.1f} s  "
          f"throughput: {len(latencies) / wall:.2f} req/s")
    print(f"latency p50: {percentile(latencies, 50) * 1000:.0f} ms  "
          f"p95: {percentile(latencies, 95) * 1000:.0f} ms  "
          f"max: {max(latencies, default=float('nan')) * 1000:.0f} ms  "
          f"mean: {statistics.fmean(latencies) * 1000 if latencies else float('nan'):.0f} ms")
    print(f"errors: {len(errors)}")
    print("reply kinds: " + ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())))
    for e in errors[:10]:
        print("  " + e)
    return 1 if errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running app; default: start one on a free port")
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1, help="passes over the dev questions")
    parser.add_argument("--questions", type=Path, default=DEV)
    args = parser.parse_args()

    questions = [json.loads(line)["question"]
                 for line in args.questions.read_text(encoding="utf-8").splitlines() if line]
    if args.url:
        return run(args.url, args.users, questions, args.rounds)

    from tests.conftest_ui import start_server, stop_server

    server = start_server()
    print(f"started app at {server.url}")
    try:
        return run(server.url, args.users, questions, args.rounds)
    finally:
        stop_server(server)


if __name__ == "__main__":
    sys.exit(main())
