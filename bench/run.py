"""The benchmark figures in one run (`make bench` calls this, then the other benches).

    .venv/bin/python bench/run.py           # (a)-(d) below, a few minutes
    .venv/bin/python bench/run.py --large   # only the 100,000-chunk scale run (long), recorded

(a) ingest throughput (chunks/s), (b) warm `ask` p50/p95 and evidence@5 for the assistant
and the plain LangChain baseline (bench/bench_core.py), (c) the scale benchmark at its
default size (bench/bench_scale.py), (d) the last 100,000-chunk figures from RESULTS.md.
`--large` runs the scale benchmark at 100,000 chunks and appends its figures, with the date
and the machine, to RESULTS.md.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import TYPE_CHECKING

import bench_scale
from common import RESULTS, ratio_table

if TYPE_CHECKING:
    from bench_core import Comparison

LARGE_CHUNKS = 100_000


def core_lines(c: Comparison) -> list[str]:
    """(b) as this run prints it: bench_core's figures under run.py's own labels."""
    o, b = c.ours, c.baseline
    lines = ratio_table(o, b, (("ingest, real corpus (s)", "ingest_s", ".2f"),
                               ("warm ask p50 (ms)", "p50", ".1f"),
                               ("warm ask p95 (ms)", "p95", ".1f")), width=30)
    lines.append(f"{'evidence@5 (dev answer qs)':30}{o['hit']:>10.0%}{b['hit']:>10.0%}"
                 "   (baseline: top 4 of similarity_search)")
    if "chunks" in o and "chunks" in b:
        lines.append(f"{'ingest chunks/s, real corpus':30}{o['chunks'] / o['ingest_s']:>10.1f}"
                     f"{b['chunks'] / b['ingest_s']:>10.1f}")
    lines.append(f"{c.repeat} timed passes over the dev questions; the baseline retrieves only "
                 "(no guardrails, no answer), ours runs the whole Assistant.ask.")
    return lines


def recorded_runs(path: Path = RESULTS) -> list[tuple[int, str]]:
    """(chunks, section text) of every scale run recorded in RESULTS.md, oldest first."""
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    heading = re.escape(bench_scale.RECORD_HEADING)
    runs = []
    for m in re.finditer(rf"^{heading} ([\d,]+) chunks.*?(?=^## |\Z)", text, re.S | re.M):
        runs.append((int(m.group(1).replace(",", "")), m.group(0).strip()))
    return runs


def last_large(path: Path = RESULTS) -> str | None:
    large = [text for chunks, text in recorded_runs(path) if chunks >= LARGE_CHUNKS * 0.9]
    return large[-1] if large else None


def large_run(repeat: int, timeout: float | None) -> None:
    """--large: only the 100,000-chunk scale run, printed and appended to RESULTS.md."""
    print(f"== scale run, {LARGE_CHUNKS:,} chunks (each phase logs its progress) ==",
          flush=True)
    r = bench_scale.run_scale(LARGE_CHUNKS, repeat=repeat, timeout=timeout or 8 * 3600)
    print("\n".join([*bench_scale.summary(r), "", *bench_scale.table(r)]))
    bench_scale.record(r)
    print(f"\nappended to {RESULTS}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # 10 passes: 200 timed asks a system, so that p95 is not one or two slow calls.
    parser.add_argument("--repeat", type=int, default=10,
                        help="timed passes over the dev questions, ours vs baseline")
    parser.add_argument("--chunks", type=int, default=bench_scale.DEFAULT_CHUNKS,
                        help="size of the scale run")
    parser.add_argument("--large", action="store_true",
                        help=f"only the {LARGE_CHUNKS:,}-chunk scale run, appended to RESULTS.md")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds per scale phase (default 1 h, 8 h with --large)")
    args = parser.parse_args()
    if args.large:
        large_run(args.repeat, args.timeout)
        return

    # Imported here: --large and --help need none of bench_core's models and stores.
    from bench_core import compare

    print("== (b) ours vs plain LangChain baseline, real corpus ==", flush=True)
    print("\n".join(core_lines(compare(args.repeat))), flush=True)

    print(f"\n== (c) scale run, {args.chunks:,} chunks ==", flush=True)
    r = bench_scale.run_scale(args.chunks, repeat=args.repeat, timeout=args.timeout or 3600)
    print("\n".join([*bench_scale.summary(r), "", *bench_scale.table(r)]))

    print("\n== (a) ingest throughput ==")
    ing = r["scale"].get("ingest", {})
    if ing.get("status") == "ok" and ing.get("ingest_s"):
        print(f"{ing['chunks'] / ing['ingest_s']:.1f} chunks/s ({ing['chunks']:,} chunks in "
              f"{ing['ingest_s']:.1f} s, model load excluded)")
    else:
        print(f"scale ingest did not finish: {ing.get('status')}")

    print("\n== (d) last recorded large run (bench/RESULTS.md) ==")
    print(last_large() or "none yet: run `.venv/bin/python bench/run.py --large`")


if __name__ == "__main__":
    main()
