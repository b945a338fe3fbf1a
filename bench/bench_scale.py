"""Does the assistant stay fast when the dev questions' evidence hides among N chunks?

Builds a synthetic haystack (bench/synth_corpus.py) around the real corpus in a temporary
folder, then measures, each phase in its own child process so that memory figures are per
phase and this process stays small:
  ingest   wall time, chunks/s, peak RSS, index size on disk
  serve    start-up (Assistant construction), peak RSS, warm `ask` p50/p95 over the dev
           questions (first pass is the warm-up), evidence@5 on the dev `answer` questions;
           the plain LangChain baseline (Chroma similarity search, same embeddings, top 4,
           no BM25) on the same collection: evidence@4 and p50/p95, timed alternately
and the same on the real corpus alone, in the same run, for comparison.

    .venv/bin/python bench/bench_scale.py                     # 5,000 chunks, a minute or two
    .venv/bin/python bench/bench_scale.py --chunks 100000 --record   # appends to RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import synth_corpus
from common import (
    DEV,
    RESULTS,
    Timer,
    append_results,
    evidence_hit,
    markdown_table,
    p50_p95,
    percentile,
    proc_status_mb,
    self_peak_mb,
    self_rss_mb,
    timed_ms,
)

DEFAULT_CHUNKS = 5_000
RECORD_HEADING = "## Scale run:"
WARMUP_DOC = """---
id: warm-up
title: Warm-up
language: en
---
A short document that makes the child load the embedding model before anything is timed.
"""


# -- measuring a child process ----------------------------------------------------------------


def run_child(phase: str, args: list[str], timeout: float) -> dict[str, Any]:
    """Run this file as `--child phase`; its JSON result plus wall time and peak RSS.

    Peak RSS is the child's own VmHWM at its end, or, when it is killed at the timeout, the
    highest VmHWM read while it ran.
    """
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = Path(fh.name)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", phase, "--out", str(out),
           *args]
    clock = Timer()
    proc = subprocess.Popen(cmd)
    peak = 0.0
    status = "ok"
    while proc.poll() is None:
        peak = max(peak, proc_status_mb(proc.pid, "VmHWM"))
        if clock.s > timeout:
            proc.kill()
            proc.wait()
            status = f"killed after {timeout:.0f} s (timeout)"
            break
        time.sleep(0.5)
    wall = clock.s
    result: dict[str, Any] = {}
    if out.exists() and out.stat().st_size:
        result = json.loads(out.read_text(encoding="utf-8"))
    out.unlink(missing_ok=True)
    if status == "ok" and proc.returncode != 0:
        status = f"failed (exit code {proc.returncode})"
    result.update(status=status, child_wall_s=wall,
                  peak_rss_mb=max(peak, result.get("peak_rss_mb", 0.0)))
    return result


def dir_size_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


# -- the two child phases --------------------------------------------------------------------


def child_ingest(corpus: Path, index: Path, out: Path) -> None:
    """The ingest phase, in its own process: its figures as JSON in `out`."""
    import inspect

    from assistant.ingest.indexing import ingest
    from assistant.settings import Settings

    # Model load is not ingest: a one-document ingest elsewhere loads it first.
    with Timer() as warmup:
        warm = index.parent / f"{index.name}-warm-up"
        (warm / "corpus").mkdir(parents=True, exist_ok=True)
        (warm / "corpus" / "warm-up.md").write_text(WARMUP_DOC, encoding="utf-8")
        ingest(_settings(Settings, warm / "corpus", warm / "index"))
        shutil.rmtree(warm)

    total = sum(1 for p in corpus.iterdir() if p.suffix == ".md" and p.name != "README.md")
    done = 0

    def progress(_doc_id: str) -> None:
        nonlocal done
        done += 1
        if done % 250 == 0:  # called as each document is queued; embedding follows in batches
            print(f"  ingest: {done:,}/{total:,} documents queued, "
                  f"{clock.s:.0f} s, RSS {self_rss_mb():.0f} MB",
                  file=sys.stderr, flush=True)

    kwargs = {"on_document": progress} if "on_document" in inspect.signature(ingest).parameters \
        else {}
    clock = Timer()  # progress() reads it while ingest runs
    report = ingest(_settings(Settings, corpus, index), **kwargs)
    seconds = clock.s
    e = _settings(Settings, corpus, index).embedding
    _write(out, {
        "embedding": f"{e.model} ({getattr(e, 'backend', 'torch')} backend)",
        "documents": getattr(report, "documents", None),
        "chunks": getattr(report, "chunks", None),
        "skipped": len(getattr(report, "skipped", []) or []),
        "ingest_s": seconds,
        "model_load_s": warmup.s,
        "rss_end_mb": self_rss_mb(),
        "peak_rss_mb": self_peak_mb(),
    })


@dataclass
class _FirstPass:
    """The warm-up pass over the questions, which is also where retrieval quality is read."""

    ms: list[float] = field(default_factory=list)
    kinds_ok: int = 0
    kinds_wrong: list[str] = field(default_factory=list)
    facts: list[bool] = field(default_factory=list)  # the expected facts are in the reply
    facts_wrong: list[str] = field(default_factory=list)
    hits: list[bool] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    missed_top: dict[str, list[str]] = field(default_factory=dict)  # what came first instead
    haystack_share: list[float] = field(default_factory=list)
    base_hits: list[str] = field(default_factory=list)


def _first_pass(assistant: Any, baseline: Any, questions: list[Any]) -> _FirstPass:
    from assistant.evaluation import facts_ok

    f = _FirstPass()
    for q in questions:
        a, ms = timed_ms(assistant.ask, q.question, q.history or None)
        f.ms.append(ms)
        if a.kind == q.expect:
            f.kinds_ok += 1
        else:
            f.kinds_wrong.append(f"{q.id} {a.kind}")
        if q.expect == "answer" and (ok := facts_ok(q, a)) is not None:
            f.facts.append(ok)
            if not ok:
                f.facts_wrong.append(q.id)
        if q.expect == "answer" and q.evidence:
            top = a.retrieved[:5]
            hit = evidence_hit(q.evidence, (p.text for p in top))
            f.hits.append(hit)
            if not hit:
                f.missed.append(q.id)
                f.missed_top[q.id] = [f"{p.doc_id}: {p.title}" for p in top]
            if top:
                f.haystack_share.append(sum(p.doc_id.startswith("synth-") for p in top) / len(top))
            # The plain LangChain baseline on the same collection: Chroma's similarity search,
            # same embeddings, top 4, no BM25.
            found = baseline.similarity_search(q.question, k=4)
            if evidence_hit(q.evidence, (d.page_content for d in found)):
                f.base_hits.append(q.id)
    return f


def _timed_passes(assistant: Any, baseline: Any, questions: list[Any], repeat: int
                  ) -> tuple[list[float], list[float], dict[str, list[float]]]:
    """(ours ms, baseline ms, ours ms by stage), the two systems timed question by question."""
    lat: list[float] = []
    base_lat: list[float] = []
    stages: dict[str, list[float]] = {}
    for _ in range(repeat):
        for q in questions:
            base_lat.append(timed_ms(baseline.similarity_search, q.question, k=4)[1])
            a, ms = timed_ms(assistant.ask, q.question, q.history or None)
            lat.append(ms)
            for name, stage_ms in (a.timings_ms or {}).items():
                stages.setdefault(name, []).append(stage_ms)
    return lat, base_lat, stages


def child_serve(corpus: Path, index: Path, questions_path: Path, repeat: int, out: Path) -> None:
    """The serve phase, in its own process: start-up, the warm-up pass, the timed passes."""
    with Timer() as imports:
        from assistant.evaluation import load_questions
        from assistant.service import Assistant
        from assistant.settings import Settings

    settings = _settings(Settings, corpus, index)
    with Timer() as startup:
        assistant = Assistant(settings, build_index=False)
    result: dict[str, Any] = {"imports_s": imports.s, "startup_s": startup.s,
                              "rss_after_startup_mb": self_rss_mb()}
    print(f"  serve: start-up {startup.s:.1f} s, RSS {self_rss_mb():.0f} MB",
          file=sys.stderr, flush=True)

    questions = load_questions(questions_path)
    baseline = assistant.index.store
    f = _first_pass(assistant, baseline, questions)
    lat, base_lat, stages = _timed_passes(assistant, baseline, questions, repeat)
    (p50, p95), (base_p50, base_p95) = p50_p95(lat), p50_p95(base_lat)
    result.update(
        questions=len(questions), timed_asks=len(lat), p50_ms=p50, p95_ms=p95,
        max_ms=max(lat), first_pass_max_ms=max(f.ms),
        stage_p50_ms={k: percentile(v, 50) for k, v in stages.items() if k != "total"},
        evidence_hits=sum(f.hits), evidence_total=len(f.hits), evidence_missed=f.missed,
        baseline_evidence_hits=len(f.base_hits),
        baseline_p50_ms=base_p50, baseline_p95_ms=base_p95,
        missed_top5=f.missed_top,
        kind_ok=f.kinds_ok, kind_wrong=f.kinds_wrong,
        facts_ok=sum(f.facts), facts_total=len(f.facts), facts_wrong=f.facts_wrong,
        haystack_share=float(np.mean(f.haystack_share)) if f.haystack_share else 0,
        rss_end_mb=self_rss_mb(), peak_rss_mb=self_peak_mb(),
    )
    _write(out, result)


def _settings(settings_cls: type, corpus: Path, index: Path) -> Any:
    s = settings_cls()
    s.paths.corpus_dir = corpus
    s.paths.index_dir = index
    s.paths.data_dir = index.parent / "data"
    return s


def _write(out: Path, data: dict[str, Any]) -> None:
    out.write_text(json.dumps(data), encoding="utf-8")


# -- the parent --------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text()
                      .splitlines() if line.startswith("MemTotal:"))
    except (OSError, StopIteration):
        mem_kb = 0
    return {"cores": os.cpu_count(), "ram_gib": mem_kb / 1024**2, "cpu": model}


def measure_corpus(label: str, corpus: Path, work: Path, repeat: int, timeout: float,
                   questions: Path) -> dict[str, Any]:
    """Ingest then serve `corpus` in two children; both phases' figures."""
    index = work / f"{label}-index"
    print(f"[{label}] ingest ...", file=sys.stderr, flush=True)
    ing = run_child("ingest", ["--corpus", str(corpus), "--index", str(index)], timeout)
    ing["index_mb"] = dir_size_mb(index)
    res: dict[str, Any] = {"ingest": ing}
    if ing["status"] != "ok":
        return res
    print(f"[{label}] serve ...", file=sys.stderr, flush=True)
    res["serve"] = run_child(
        "serve", ["--corpus", str(corpus), "--index", str(index), "--questions", str(questions),
                  "--repeat", str(repeat)], timeout)
    return res


def run_scale(chunks: int = DEFAULT_CHUNKS, seed: int = 1, repeat: int = 10,
              timeout: float = 3600, questions: Path = DEV, keep: Path | None = None
              ) -> dict[str, Any]:
    """The whole scale benchmark; returns every figure (see `table`)."""
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    try:
        real_corpus = work / "real-corpus"
        shutil.copytree(synth_corpus.REAL_CORPUS, real_corpus)
        real = measure_corpus("real", real_corpus, work, repeat, timeout, questions)
        print(f"[scale] generating ~{chunks:,} chunks ...", file=sys.stderr, flush=True)
        gen = synth_corpus.generate(work / "corpus", chunks, seed,
                                    forbidden=synth_corpus.dev_evidence(questions))
        scale = measure_corpus("scale", work / "corpus", work, repeat, timeout, questions)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return {
        "target_chunks": chunks, "seed": seed, "repeat": repeat, "started": started.isoformat(),
        "machine": machine(), "generation": vars(gen), "real": real, "scale": scale,
        "parent_peak_rss_mb": self_peak_mb(),
        "load_average": [round(load_before[1], 2), round(os.getloadavg()[1], 2)],
        "wall_s": (datetime.now(UTC) - started).total_seconds(),
    }


# -- the table -------------------------------------------------------------------------------


def _fmt(value: Any, spec: str) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        return value
    return format(value, spec)


def _get(col: dict[str, Any], phase: str, key: str) -> Any:
    return col.get(phase, {}).get(key)


def _per_s(col: dict[str, Any]) -> float | None:
    ing = col.get("ingest", {})
    if ing.get("status") != "ok" or not ing.get("ingest_s"):
        return None
    return ing["chunks"] / ing["ingest_s"]


def _evidence(col: dict[str, Any], hits: str = "evidence_hits") -> str | None:
    s = col.get("serve", {})
    if hits not in s or not s.get("evidence_total"):
        return None
    n, t = s[hits], s["evidence_total"]
    return f"{n}/{t} ({n / t:.0%})"


def _baseline_latency(col: dict[str, Any]) -> str | None:
    s = col.get("serve", {})
    if "baseline_p95_ms" not in s:
        return None
    return f"{s['baseline_p50_ms']:.1f} / {s['baseline_p95_ms']:.1f}"


def _p95_ratio(col: dict[str, Any]) -> float | None:
    s = col.get("serve", {})
    return s["p95_ms"] / s["baseline_p95_ms"] if s.get("baseline_p95_ms") else None


def _facts(col: dict[str, Any]) -> str | None:
    s = col.get("serve", {})
    if not s.get("facts_total"):
        return None
    return f"{s['facts_ok']}/{s['facts_total']} ({s['facts_ok'] / s['facts_total']:.0%})"


def _kinds(col: dict[str, Any]) -> str | None:
    s = col.get("serve", {})
    return f"{s['kind_ok']}/{s['questions']}" if "kind_ok" in s else None


def _listed(col: dict[str, Any], key: str) -> str:
    return ", ".join(_get(col, "serve", key) or []) or "–"


def _rows(cols: list[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    """(figure, its value in each column), in the table's order."""

    def each(phase: str, key: str, spec: str) -> list[str]:
        return [_fmt(_get(c, phase, key), spec) for c in cols]

    def by(fn: Callable[[dict[str, Any]], Any], spec: str = "") -> list[str]:
        return [_fmt(fn(c), spec) for c in cols]

    stages = list(dict.fromkeys(k for c in cols for k in _get(c, "serve", "stage_p50_ms") or {}))
    return [
        ("ingest status", [_get(c, "ingest", "status") for c in cols]),
        ("documents", each("ingest", "documents", ",")),
        ("chunks", each("ingest", "chunks", ",")),
        ("model load before ingest (s)", each("ingest", "model_load_s", ".1f")),
        ("ingest wall (s)", each("ingest", "ingest_s", ".1f")),
        ("ingest chunks/s", by(_per_s, ".1f")),
        ("ingest peak RSS (MB)", each("ingest", "peak_rss_mb", ".0f")),
        ("index on disk (MB)", each("ingest", "index_mb", ".1f")),
        ("serve status", [_get(c, "serve", "status") or "not run" for c in cols]),
        ("start-up: Assistant() (s)", each("serve", "startup_s", ".1f")),
        ("RSS after start-up (MB)", each("serve", "rss_after_startup_mb", ".0f")),
        ("serve peak RSS (MB)", each("serve", "peak_rss_mb", ".0f")),
        ("warm ask p50 (ms)", each("serve", "p50_ms", ".1f")),
        ("warm ask p95 (ms)", each("serve", "p95_ms", ".1f")),
        ("warm ask max (ms)", each("serve", "max_ms", ".1f")),
        ("first-pass ask max (ms)", each("serve", "first_pass_max_ms", ".1f")),
        *((f"  {name} stage p50 (ms)",
           [_fmt((_get(c, "serve", "stage_p50_ms") or {}).get(name), ".1f") for c in cols])
          for name in stages),
        ("evidence@5 (dev answer qs)", by(_evidence)),
        ("baseline evidence@4", by(lambda c: _evidence(c, "baseline_evidence_hits"))),
        ("baseline ask p50 / p95 (ms)", by(_baseline_latency)),
        ("warm p95, ours / baseline", by(_p95_ratio, ".2f")),
        ("missed evidence", [_listed(c, "evidence_missed") if "serve" in c else "–"
                             for c in cols]),
        ("facts in reply (dev answer qs)", by(_facts)),
        ("facts missing", [_listed(c, "facts_wrong") for c in cols]),
        ("reply kind as expected", by(_kinds)),
        ("unexpected kinds", [_listed(c, "kind_wrong") for c in cols]),
        ("haystack share of top 5", ["–", _fmt(_get(cols[1], "serve", "haystack_share"), ".0%")]),
    ]


def table(r: dict[str, Any]) -> list[str]:
    """The figures as a markdown table (readable as plain text too)."""
    rows = _rows([r["real"], r["scale"]])
    return markdown_table(("figure", "real corpus", "with haystack"),
                          [(name, *values) for name, values in rows])


def summary(r: dict[str, Any]) -> list[str]:
    g, m = r["generation"], r["machine"]
    return [
        f"Haystack: {g['documents']:,} synthetic documents, {g['characters']:,} characters "
        f"(target {r['target_chunks']:,} chunks, seed {r['seed']}), generated in "
        f"{g['seconds']:.1f} s; {r['repeat']} timed passes over the dev questions after a "
        "warm-up pass.",
        f"Embedding: {r['scale'].get('ingest', {}).get('embedding', 'unknown')}. "
        f"Machine: {m['cores']} cores, {m['ram_gib']:.1f} GiB RAM, {m['cpu']}; 5-minute load "
        f"average {r['load_average'][0]} at the start, {r['load_average'][1]} at the end "
        "(other work on the machine makes timings noisy). "
        f"Whole run {r['wall_s'] / 60:.1f} min; benchmark parent peak RSS "
        f"{r['parent_peak_rss_mb']:.0f} MB.",
    ]


def record(r: dict[str, Any], path: Path = RESULTS) -> None:
    """Append this run to RESULTS.md under a dated heading."""
    when = datetime.fromisoformat(r["started"]).strftime("%Y-%m-%d %H:%M UTC")
    chunks = r["scale"].get("ingest", {}).get("chunks") or r["target_chunks"]
    lines = ["", f"{RECORD_HEADING} {chunks:,} chunks, {when}", "", *summary(r), "",
             *table(r), ""]
    append_results(lines, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=DEFAULT_CHUNKS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=10,
                        help="timed passes after the warm-up (x 20 questions, each system)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per child phase")
    parser.add_argument("--questions", type=Path, default=DEV)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    parser.add_argument("--record", action="store_true", help=f"append to {RESULTS.name}")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--child", choices=("ingest", "serve"), help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--index", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "ingest":
        return child_ingest(args.corpus, args.index, args.out)
    if args.child == "serve":
        return child_serve(args.corpus, args.index, args.questions, args.repeat, args.out)
    r = run_scale(args.chunks, args.seed, args.repeat, args.timeout, args.questions, args.keep)
    print("\n".join(["", *summary(r), "", *table(r)]))
    if args.json:
        args.json.write_text(json.dumps(r, indent=1), encoding="utf-8")
    if args.record:
        record(r)
        print(f"\nappended to {RESULTS}")


if __name__ == "__main__":
    main()
