"""A synthetic haystack for scale benchmarks: many realistic documents around the real corpus.

`generate(out_dir, n_chunks_target, seed)` writes press articles, council minutes, official
reports and NGO activity reports (markdown with YAML front matter, 2–20k characters, headings
and paragraphs) about drug policy, addiction care, harm reduction, public health, housing,
policing and city politics in other cities and countries, plus unrelated municipal topics
(transport, schools, budgets, parks), then copies the real corpus in. The haystack shares the
real corpus's vocabulary so that it competes with the real evidence, but its names, places,
dates and figures are invented, and no document may contain a sentence of the real corpus or
a phrase given in `forbidden` (a document that would is drawn again).

Everything comes from the tables in bench/data/synth_*.yaml (places, people, slot pools,
topics and their sentence templates, document kinds), number formulas and a seeded RNG: the
same seed gives the same files, and 100,000 chunks take seconds. This file is the logic.

    .venv/bin/python bench/synth_corpus.py OUT --chunks 100000 --seed 1
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import string
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import yaml

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
# Its own path set-up, not bench/common.py's: the tests load this file by its path, with
# bench/ not on sys.path.
sys.path.insert(0, str(ROOT))

from assistant.text.language import fold  # noqa: E402

REAL_CORPUS = ROOT / "corpus"
DEV_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev_questions.jsonl"
DATA = BENCH / "data"

# Characters per chunk for this generator's paragraphs with 600/120 chunking (measured with
# assistant.ingest.indexing.chunk_document): chunks end on paragraph or sentence boundaries, so they
# advance a little less than the 480 new characters of a full chunk.
CHARS_PER_CHUNK = 432

# -- the tables (bench/data/synth_*.yaml) ------------------------------------------------------


class City(NamedTuple):
    country: str
    region: str  # where its people's names come from: a key of FIRST and LAST
    currency: str
    districts: tuple[str, ...]
    french: bool  # its press is partly in French: only these cities get French articles


def _frozen(value: Any) -> Any:
    """YAML lists as tuples, all the way down: the tables are read-only."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value


def _load(name: str) -> dict[str, Any]:
    with open(DATA / f"synth_{name}.yaml", encoding="utf-8") as fh:
        return _frozen(yaml.safe_load(fh))


# Read once, at import: every document draws from them. Each list's order is part of the
# output (the RNG draws by position), like the seed.
_WORLD, _SLOTS, _TOPICS, _DOCS = (_load(n) for n in ("world", "slots", "topics", "documents"))

CITIES: dict[str, City] = {
    name: City(c["country"], c["names"], c["currency"], c["districts"], c["french"])
    for name, c in _WORLD["cities"].items()
}
FIRST: dict[str, tuple[str, ...]] = {k: tuple(v.split()) for k, v in _WORLD["first_names"].items()}
LAST: dict[str, tuple[str, ...]] = {k: tuple(v.split()) for k, v in _WORLD["last_names"].items()}
ORGS: tuple[str, ...] = _WORLD["organisations"]
OUTLETS: tuple[str, ...] = _WORLD["outlets"]
AGENCIES: tuple[str, ...] = _WORLD["agencies"]
HOSPITALS: tuple[str, ...] = _WORLD["hospitals"]

# Slots filled from these pools each time they appear (a pool entry may hold slots itself).
POOLS: dict[str, tuple[str, ...]] = _SLOTS["pools"]

# Each topic: headline templates, sentences, and things people say.
TOPICS: dict[str, dict[str, tuple[str, ...]]] = _TOPICS["topics"]
DRUG_TOPICS: tuple[str, ...] = _TOPICS["drug_topics"]
OTHER_TOPICS: tuple[str, ...] = _TOPICS["other_topics"]
NGO_TOPICS: tuple[str, ...] = _TOPICS["ngo_topics"]

# Free sentences: subject + action + circumstance, so that documents don't repeat themselves.
SUBJECTS: tuple[str, ...] = _DOCS["subjects"]
ACTIONS: tuple[str, ...] = _DOCS["actions"]
CIRCUMSTANCES: tuple[str, ...] = _DOCS["circumstances"]
QUOTE_FRAMES: tuple[str, ...] = _DOCS["quote_frames"]
CONNECTORS: tuple[str, ...] = _DOCS["connectors"]
_PREPOSITIONAL: tuple[str, ...] = _DOCS["prepositional"]
MINUTES_SENTENCES: tuple[str, ...] = _DOCS["minutes_sentences"]
REPORT_SENTENCES: tuple[str, ...] = _DOCS["report_sentences"]
NGO_SENTENCES: tuple[str, ...] = _DOCS["ngo_sentences"]
HEADINGS: dict[str, tuple[str, ...]] = _DOCS["headings"]
# French documents (a share of the French-speaking cities' press).
FR_TITLES: tuple[str, ...] = _DOCS["french"]["titles"]
FR_SENTENCES: tuple[str, ...] = _DOCS["french"]["sentences"]
FR_QUOTES: tuple[str, ...] = _DOCS["french"]["quotes"]
FR_HEADINGS: tuple[str, ...] = _DOCS["french"]["headings"]

# Number slots are formulas, so they stay code: computed each time they appear. The order of
# the RNG calls in each is part of the output.
NUMBERS: dict[str, Callable[[random.Random], str]] = {
    "n": lambda r: str(r.randint(2, 95)),
    "n2": lambda r: str(r.randint(2, 40)),
    "big": lambda r: f"{r.randint(120, 9800):,}",
    "pct": lambda r: str(r.randint(3, 78)),
    "beds": lambda r: str(r.choice((12, 15, 20, 24, 30, 36, 40, 48, 60, 80, 120))),
    "hour": lambda r: f"{r.randint(6, 23)}:{r.choice(('00', '30'))}",
    "million": lambda r: f"{r.randint(1, 90) / 10 + r.choice((0, 0, 1, 3, 12)):.1f}",
    "votes": lambda r: str(r.randint(18, 61)),
    "votes2": lambda r: str(r.randint(3, 17)),
    "staff": lambda r: str(r.randint(3, 45)),
    "weeks": lambda r: str(r.randint(3, 12)),
}


# -- filling templates ----------------------------------------------------------------------


@cache
def _parts(template: str) -> tuple[tuple[str, str | None], ...]:
    return tuple((lit, name) for lit, name, _, _ in string.Formatter().parse(template))


def _fill(template: str, ctx: dict[str, str], rng: random.Random) -> str:
    out = []
    for literal, name in _parts(template):
        out.append(literal)
        if name is None:
            continue
        if name in ctx:
            out.append(ctx[name])
        elif name in NUMBERS:
            out.append(NUMBERS[name](rng))
        else:
            value = rng.choice(POOLS[name])
            out.append(_fill(value, ctx, rng) if "{" in value else value)
    return "".join(out)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _name(rng: random.Random, region: str) -> str:
    return f"{rng.choice(FIRST[region])} {rng.choice(LAST[region])}"


def _context(rng: random.Random, city: str) -> dict[str, str]:
    country, region, currency, districts, _ = CITIES[city]
    year = rng.randint(2012, 2025)
    district, district2 = rng.sample(districts, 2)
    mayor = _name(rng, region)
    return {
        "city": city, "country": country, "currency": currency, "district": district,
        "district2": district2, "mayor": f"{city} mayor {mayor}", "mayor_name": mayor,
        "org": rng.choice(ORGS),
        "hospital": rng.choice(HOSPITALS).format(city=city, district2=district2),
        "agency": rng.choice(AGENCIES), "outlet": rng.choice(OUTLETS),
        "year": str(year), "year0": str(year - rng.randint(2, 9)),
        "year2": str(year + rng.randint(1, 4)), "region": region,
        "published": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    }



def _sentence(template: str, ctx: dict[str, str], rng: random.Random, lead: bool) -> str:
    body = _fill(template, ctx, rng)
    if not lead or template.startswith(("{", "“")) or template.startswith(_PREPOSITIONAL):
        return _cap(body)
    connector = rng.choice(CONNECTORS)
    if "{district}" in connector and "{district}" in template:
        connector = "Meanwhile, "
    # A template's own first word is never a name, so it loses its capital after a lead.
    return _fill(connector, ctx, rng) + body[:1].lower() + body[1:]


def _composed(ctx: dict[str, str], rng: random.Random) -> str:
    extra = {
        "official_cap": _cap(rng.choice(POOLS["official"])),
        "org_name": _cap(rng.choice(ORGS)),
        "agency_cap": _cap(rng.choice(AGENCIES)),
        "person_role": f"{_name(rng, ctx['region'])}, "
        + _fill(rng.choice(POOLS["role"]), ctx, rng) + ",",
    }
    subject = _fill(rng.choice(SUBJECTS), {**ctx, **extra}, rng)
    action = _fill(rng.choice(ACTIONS), ctx, rng)
    return _cap(f"{subject} {action}{_fill(rng.choice(CIRCUMSTANCES), ctx, rng)}.")


def _quote(topic: dict[str, tuple[str, ...]], ctx: dict[str, str], rng: random.Random) -> str:
    speaker = f"{_name(rng, ctx['region'])}, {_fill(rng.choice(POOLS['role']), ctx, rng)}"
    first, second = (_fill(q, ctx, rng) for q in rng.sample(topic["quotes"], 2))
    return rng.choice(QUOTE_FRAMES).format(
        quote=first, quote_lower=first[:1].lower() + first[1:], quote2=second,
        speaker=speaker, speaker_cap=_cap(speaker),
    )


def _paragraph(pool: tuple[str, ...], ctx: dict[str, str], rng: random.Random,
               topic: dict[str, tuple[str, ...]] | None = None, leads: bool = True,
               free: bool = True) -> str:
    templates = rng.sample(pool, min(len(pool), rng.randint(2, 5)))
    sentences = [
        _composed(ctx, rng) if free and rng.random() < 0.4
        else _sentence(t, ctx, rng, leads and i > 0 and rng.random() < 0.25)
        for i, t in enumerate(templates)
    ]
    if topic is not None and rng.random() < 0.35:
        sentences.insert(rng.randint(0, len(sentences)), _quote(topic, ctx, rng))
    return " ".join(sentences)


def _grow(blocks: list[str], target: int, make: Callable[[], str]) -> None:
    """Add blocks up to `target` characters; a document never ends on a heading."""
    size = sum(len(b) + 2 for b in blocks) - 2  # blocks are joined by blank lines
    while size < target or blocks[-1].startswith("## "):
        block = make()
        blocks.append(block)
        size += len(block) + 2


def _may_head(blocks: list[str], after: int) -> bool:
    """A heading only after `after` blocks and never right after another heading."""
    return len(blocks) >= after and not blocks[-1].startswith("## ")


def _next_heading(blocks: list[str], headings: Iterator[str], ctx: dict[str, str],
                  rng: random.Random) -> str | None:
    """A report's next section heading: always first, then now and then until none are left."""
    if (not blocks or _may_head(blocks, 1) and rng.random() < 0.15) and (
        h := next(headings, None)
    ):
        return "## " + _fill(h, ctx, rng)
    return None


def _press(rng: random.Random, ctx: dict[str, str], target: int) -> tuple[str, list[str]]:
    name = rng.choice(DRUG_TOPICS) if rng.random() < 0.7 else rng.choice(OTHER_TOPICS)
    topic = TOPICS[name]
    # Articles stray into a neighbouring subject now and then, as real ones do.
    side = TOPICS[rng.choice(DRUG_TOPICS if name in DRUG_TOPICS else OTHER_TOPICS)]
    title = _cap(_fill(rng.choice(topic["titles"]), ctx, rng))
    blocks: list[str] = []

    def make() -> str:
        if _may_head(blocks, 2) and rng.random() < 0.12:
            return "## " + _fill(rng.choice(HEADINGS["press"]), ctx, rng)
        chosen = side if rng.random() < 0.2 else topic
        return _paragraph(chosen["sentences"], ctx, rng, chosen)

    _grow(blocks, target, make)
    return title, blocks


def _minutes(rng: random.Random, ctx: dict[str, str], target: int) -> tuple[str, list[str]]:
    day, month = ctx["published"][-2:].lstrip("0"), POOLS["month"][int(ctx["published"][5:7]) - 1]
    date = f"{day} {month} {ctx['year']}"
    title = f"{ctx['city']} city council: minutes of the meeting of {date}"
    region = ctx["region"]
    present = ", ".join(_name(rng, region) for _ in range(rng.randint(8, 16)))
    blocks = [f"Present: {ctx['mayor_name']} (chair), {present}.",
              _fill(rng.choice(MINUTES_SENTENCES[:2]), ctx, rng)]
    item = 0

    def make() -> str:
        nonlocal item
        if _may_head(blocks, 1) and rng.random() < 0.18:
            item += 1
            name = rng.choice(DRUG_TOPICS + OTHER_TOPICS * 2)
            ctx["_topic"] = name
            heading = _fill(rng.choice(TOPICS[name]["titles"]), ctx, rng)
            return f"## Item {item}: {_cap(heading)}"
        topic = TOPICS[ctx.get("_topic", "budget")]
        pool = topic["sentences"] if rng.random() < 0.6 else MINUTES_SENTENCES
        return _paragraph(pool, {**ctx, "person": _name(rng, region)}, rng, leads=False,
                          free=pool is not MINUTES_SENTENCES)

    _grow(blocks, target, make)
    return title, blocks


def _sectioned(rng: random.Random, ctx: dict[str, str], target: int, headings: Iterable[str],
               paragraph: Callable[[], str]) -> list[str]:
    """The blocks of a report: its headings in order (the first one first), paragraphs between."""
    pending = iter(headings)
    blocks: list[str] = []

    def make() -> str:
        return _next_heading(blocks, pending, ctx, rng) or paragraph()

    _grow(blocks, target, make)
    return blocks


def _report(rng: random.Random, ctx: dict[str, str], target: int) -> tuple[str, list[str]]:
    name = rng.choice(DRUG_TOPICS)
    topic = TOPICS[name]
    subject = _fill(rng.choice(topic["titles"]), ctx, rng)
    title = f"{_cap(subject)}: a report by {ctx['agency']}"

    def paragraph() -> str:
        pool = topic["sentences"] if rng.random() < 0.7 else REPORT_SENTENCES
        measure = _fill(rng.choice(POOLS["measure"]), ctx, rng)
        return _paragraph(pool, {**ctx, "measure_cap": _cap(measure)}, rng)

    return title, _sectioned(rng, ctx, target, HEADINGS["report"], paragraph)


def _ngo(rng: random.Random, ctx: dict[str, str], target: int) -> tuple[str, list[str]]:
    org = ctx["org"]
    title = f"{_cap(org)} in {ctx['city']}: activity report {ctx['year']}"
    topic = TOPICS[rng.choice(NGO_TOPICS)]

    def paragraph() -> str:
        pool = topic["sentences"] if rng.random() < 0.5 else NGO_SENTENCES
        return _paragraph(pool, {**ctx, "big2": NUMBERS["big"](rng)}, rng, topic, leads=False,
                          free=pool is not NGO_SENTENCES)

    return title, _sectioned(rng, ctx, target, HEADINGS["ngo"], paragraph)


def _french(rng: random.Random, ctx: dict[str, str], target: int) -> tuple[str, list[str]]:
    title = _fill(rng.choice(FR_TITLES), ctx, rng)
    blocks: list[str] = []

    def make() -> str:
        if _may_head(blocks, 2) and rng.random() < 0.12:
            return "## " + rng.choice(FR_HEADINGS)
        sentences = [_fill(t, ctx, rng) for t in rng.sample(FR_SENTENCES, rng.randint(2, 5))]
        if rng.random() < 0.3:
            who = f"{_name(rng, 'fr')}, de l'association {ctx['org']}"
            sentences.append(f"« {rng.choice(FR_QUOTES)} », estime {who}.")
        return " ".join(sentences)

    _grow(blocks, target, make)
    return title, blocks


# Each document kind's writer: (rng, context, target size) -> (title, blocks).
WRITERS: dict[str, Callable[[random.Random, dict[str, str], int], tuple[str, list[str]]]] = {
    "press": _press, "minutes": _minutes, "report": _report, "ngo": _ngo, "press-fr": _french,
}
# kind: its weight, size range in characters, language and source line (synth_documents.yaml).
KIND_TABLE: dict[str, dict[str, Any]] = _DOCS["kinds"]
# (kind, weight, size range in characters, writer), in the table's order.
KINDS: tuple[tuple[str, float, tuple[int, int], Callable], ...] = tuple(
    (kind, k["weight"], k["size"], WRITERS[kind]) for kind, k in KIND_TABLE.items()
)


def _yaml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def make_document(seed: int, i: int, attempt: int = 0) -> tuple[str, str]:
    """(document id, file text) of haystack document `i`; the same arguments, the same text."""
    rng = random.Random(f"{seed}:{i}:{attempt}")
    kind, _, (lo, hi), writer = rng.choices(KINDS, weights=[k[1] for k in KINDS])[0]
    language = KIND_TABLE[kind]["language"]
    # A French document is set in a city whose press is partly in French.
    cities = [c for c, v in CITIES.items() if v.french] if language == "fr" else list(CITIES)
    ctx = _context(rng, rng.choice(cities))
    # Sizes lean towards the short end, as in real collections; the last block added may
    # overshoot the target by up to a paragraph, hence the margin under the upper bound.
    target = int(lo + (hi - 800 - lo) * rng.random() ** 1.6)
    title, blocks = writer(rng, ctx, target)
    doc_id = f"synth-{seed}-{i:06d}"
    published = ctx["published"]
    source = KIND_TABLE[kind]["source"].format(
        outlet=ctx["outlet"], city=ctx["city"], agency_cap=_cap(ctx["agency"]),
        org_cap=_cap(ctx["org"]),
    )
    front = "\n".join((
        "---", f"id: {doc_id}", f"title: {_yaml_str(title)}",
        f"language: {language}", f"published: '{published}'",
        f"source: {_yaml_str(source + ' (synthetic benchmark document, seed ' + str(seed) + ')')}",
        f"provenance: {_yaml_str('generated by bench/synth_corpus.py')}", "---",
    ))
    return doc_id, front + "\n" + "\n\n".join(blocks) + "\n"


# -- forbidden phrases ----------------------------------------------------------------------


def _fold_fast(text: str) -> str:
    return text.lower() if text.isascii() else fold(text)


def real_sentences(corpus_dir: Path, min_chars: int = 25) -> list[str]:
    """Folded sentences (and lines) of the real documents: the haystack must not repeat them."""
    from assistant.ingest.corpus import load_corpus

    out: set[str] = set()
    for doc in load_corpus(corpus_dir).documents:
        for piece in re.split(r"(?<=[.!?…])\s+|\n+", doc.text):
            piece = fold(piece.strip())
            if len(piece) >= min_chars:
                out.add(piece)
    return sorted(out)


def dev_evidence(path: Path = DEV_QUESTIONS) -> list[str]:
    """The evidence phrases of a question file (none when the file is absent)."""
    if not path.exists():
        return []
    from assistant.evaluation import load_questions

    return sorted({e for q in load_questions(path) for e in q.evidence})


@dataclass
class GenerationReport:
    documents: int
    characters: int
    estimated_chunks: int
    redrawn: int  # haystack documents drawn again because they held a forbidden phrase
    seconds: float


def estimate_chunks(chars: int) -> int:
    return max(1, round(chars / CHARS_PER_CHUNK))


def generate(
    out_dir: Path,
    n_chunks_target: int,
    seed: int,
    *,
    real_corpus: Path | None = REAL_CORPUS,
    forbidden: Iterable[str] = (),
) -> GenerationReport:
    """Write haystack documents for about `n_chunks_target` chunks in all, plus the real corpus.

    Real documents count towards the target. No haystack document contains a sentence of the
    real corpus or a `forbidden` phrase (accents and case ignored).
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    banned = [fold(p) for p in forbidden if p.strip()]
    total_chars, have = 0, 0
    if real_corpus is not None:
        banned += real_sentences(real_corpus)
        for path in sorted(Path(real_corpus).iterdir()):
            if path.is_file():
                shutil.copy(path, out_dir / path.name)
                if path.name != "README.md":
                    have += estimate_chunks(len(path.read_text(encoding="utf-8")))
    i, redrawn = 0, 0
    while have < n_chunks_target:
        for attempt in range(50):
            doc_id, text = make_document(seed, i, attempt)
            folded = _fold_fast(text)
            if not any(b in folded for b in banned):
                break
            redrawn += 1
        else:
            raise RuntimeError(f"document {i}: every draw held a forbidden phrase")
        (out_dir / f"{doc_id}.md").write_text(text, encoding="utf-8")
        body = len(text) - text.index("\n---\n") - 5
        total_chars += body
        have += estimate_chunks(body)
        i += 1
    return GenerationReport(i, total_chars, have, redrawn, time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-real", action="store_true", help="haystack only")
    args = parser.parse_args()
    report = generate(args.out, args.chunks, args.seed,
                      real_corpus=None if args.no_real else REAL_CORPUS,
                      forbidden=dev_evidence())
    print(f"{report.documents:,} documents, {report.characters:,} characters, "
          f"~{report.estimated_chunks:,} chunks, {report.redrawn} redrawn, "
          f"{report.seconds:.1f} s -> {args.out}")


if __name__ == "__main__":
    main()
