"""Compare two `python -m assistant eval --out` files: text, kind and citations of each reply.

    python scripts/compare_replies.py BEFORE.jsonl AFTER.jsonl

Exit status 0 when every reply is the same, 1 otherwise (the differing ids are printed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

FIELDS = ("kind", "lang", "text", "citations")


def _replies(path: Path) -> dict[str, dict]:
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line)
    return {r["id"]: {k: r.get(k) for k in FIELDS} for r in rows}


def main(argv: list[str]) -> int:
    before, after = (_replies(Path(a)) for a in argv[:2])
    differ = sorted(i for i in before.keys() | after.keys() if before.get(i) != after.get(i))
    for i in differ:
        print(f"differs: {i}")
    print(f"{len(before.keys() & after.keys()) - len(differ)} of {len(before)} replies identical "
          f"(text, kind, language, citations)")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
