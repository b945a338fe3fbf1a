"""The project's YAML tables (rules, word lists, strings, the care directory), read safely.

libyaml's C parser where PyYAML has it: the same documents as `yaml.safe_load`, about ten
times faster, and the tables are read at every start (the care directory alone took 0.8 s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str) -> Any:
    """`yaml.safe_load` of a string, with the C parser when installed."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader


def load_yaml(path: Path | str) -> Any:
    """The parsed YAML file (UTF-8)."""
    return parse_yaml(Path(path).read_text(encoding="utf-8"))
