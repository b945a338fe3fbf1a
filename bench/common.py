"""What the bench scripts share: paths, timing, memory, evidence checks and report layout.

Every bench script imports this module before anything from the project. `python bench/x.py`
puts bench/ on sys.path, so `common` is found; this module then puts the project root first
on sys.path, so that `assistant` and `tests` come from this checkout, installed or not.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import numpy as np

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))

# The dev questions live beside the checkout, not in it: they are shared with the evaluation.
DEV = ROOT.parent / "shared" / "eval" / "dev_questions.jsonl"
RESULTS = BENCH / "RESULTS.md"

T = TypeVar("T")
R = TypeVar("R")


# -- timing ------------------------------------------------------------------------------------


class Timer:
    """Wall time of a block: `with Timer() as t: ...`, then `t.s` or `t.ms`.

    Read before the block ends (or without `with`, from its creation), it gives the time so
    far: what a streaming loop needs for its first-token time.
    """

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.end: float | None = None

    def __enter__(self) -> Timer:
        self.start = time.perf_counter()
        self.end = None
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.end = time.perf_counter()

    @property
    def s(self) -> float:
        return (self.end if self.end is not None else time.perf_counter()) - self.start

    @property
    def ms(self) -> float:
        return self.s * 1000


def timed_ms(fn: Callable[..., R], *args: Any, **kwargs: Any) -> tuple[R, float]:
    """`fn(*args, **kwargs)` and how long it took in ms: for loops that time one call each."""
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, (time.perf_counter() - t0) * 1000


def warm_up(fn: Callable[[T], object], items: Iterable[T], rounds: int = 1) -> None:
    """Call `fn` on every item, untimed: first calls pay for lazy set-up (model load, caches,
    compiled regexes) that a warm figure must not include."""
    for _ in range(rounds):
        for item in items:
            fn(item)


def time_each(fn: Callable[[T], object], items: Sequence[T], rounds: int = 1) -> list[float]:
    """ms of each `fn(item)`, `rounds` times over the items."""
    return [timed_ms(fn, item)[1] for _ in range(rounds) for item in items]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (q in 0-100), linear between ranks as numpy's default; NaN when
    there is nothing, so that a run that timed nothing still prints its other figures."""
    return float(np.percentile(values, q)) if len(values) else float("nan")


def p50_p95(values: Sequence[float]) -> tuple[float, float]:
    return percentile(values, 50), percentile(values, 95)


def rank_percentile(values: Sequence[float], q: float) -> float:
    """The sorted value at index floor(q% of n), no interpolation: bench_guardrails' p95 from
    its first figures on, kept so that new runs compare with those in RESULTS.md."""
    return sorted(values)[min(len(values) - 1, int(q / 100 * len(values)))]


# -- memory ------------------------------------------------------------------------------------


def proc_status_mb(pid: int, field: str) -> float:
    """A memory line of /proc/<pid>/status in MB (0 when the process is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def self_rss_mb() -> float:
    return proc_status_mb(os.getpid(), "VmRSS")


def self_peak_mb() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over an exec,
    so a child would report its parent's peak when that was higher."""
    return proc_status_mb(os.getpid(), "VmHWM") or (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    )


# -- what a reply or a retrieval holds --------------------------------------------------------


def evidence_hit(evidence: Iterable[str], texts: Iterable[str]) -> bool:
    """Some evidence phrase in some text, case and accents ignored."""
    from assistant.text.language import fold  # here: importing common must stay cheap

    folded = [fold(t) for t in texts]
    return any(fold(e) in t for e in evidence for t in folded)


def has_facts(text: str, facts: Iterable[Iterable[str]]) -> bool:
    """Every fact has one of its alternatives in the text, case and accents ignored."""
    from assistant.text.language import fold

    folded = fold(text)
    return all(any(fold(alt) in folded for alt in alts) for alts in facts)


# -- reporting ---------------------------------------------------------------------------------


def ratio_table(ours: dict[str, float], baseline: dict[str, float],
                rows: Iterable[tuple[str, str, str]], width: int) -> list[str]:
    """Ours, the baseline and their ratio, a figure a line: rows are (label, key, format)."""
    lines = [f"{'':{width}}{'ours':>10}{'baseline':>10}{'ratio':>8}"]
    for label, key, fmt in rows:
        lines.append(f"{label:{width}}{ours[key]:>10{fmt}}{baseline[key]:>10{fmt}}"
                     f"{ours[key] / baseline[key]:>8.2f}")
    return lines


def key_figures(figures: Iterable[tuple[str, str]], width: int) -> list[str]:
    """`label  value` lines, the values lined up in one column."""
    return [f"{label:<{width}}{value}" for label, value in figures]


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """A markdown table that reads as plain text too: the first column left-aligned, the
    others right-aligned, every column as wide as its widest cell."""
    rows = [[str(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    first, rest = widths[0], widths[1:]
    out = ["| " + " | ".join([f"{header[0]:<{first}}",
                              *(f"{h:>{w}}" for h, w in zip(header[1:], rest, strict=True))])
           + " |",
           f"|{'-' * (first + 2)}|" + "".join(f"{'-' * (w + 1)}:|" for w in rest)]
    for row in rows:
        out.append("| " + " | ".join([f"{row[0]:<{first}}",
                                      *(f"{v:>{w}}" for v, w in zip(row[1:], rest, strict=True))])
                   + " |")
    return out


def append_results(lines: Sequence[str], path: Path = RESULTS) -> None:
    """Append lines to RESULTS.md (the figures the README quotes), never rewriting it."""
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
