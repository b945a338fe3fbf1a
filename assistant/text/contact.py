"""Contact details and instructions inside text: what a document must never say for the
assistant. The tables are data (`contact.yaml`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from assistant.text.tables import load_yaml

_T = load_yaml(Path(__file__).resolve().parent / "contact.yaml")
_PHONE_RUN = re.compile(_T["phone_run"])
_PHONE_MIN_DIGITS = int(_T["phone_min_digits"])
_CALL_SHORT = re.compile(_T["call_short_number"], re.IGNORECASE)
_LINKS = re.compile("|".join(_T["urls"] + _T["emails"]), re.IGNORECASE)
_INSTRUCTIONS = re.compile("|".join(f"(?:{p})" for p in _T["instructions"]), re.IGNORECASE)


@dataclass
class Voice:
    """What in a text speaks to the reader: contact details and instruction-like phrases."""

    contacts: list[str] = field(default_factory=list)
    instructions: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.contacts or self.instructions)

    def describe(self) -> list[str]:
        out = []
        if self.contacts:
            out.append("contact details: " + ", ".join(dict.fromkeys(self.contacts)))
        if self.instructions:
            out.append("instruction-like text: "
                       + ", ".join(f"'{s}'" for s in dict.fromkeys(self.instructions)))
        return out


def contact_details(text: str) -> list[str]:
    """Phone numbers, short numbers after a calling verb, web and e-mail addresses."""
    found = [m.group(0).strip() for m in _PHONE_RUN.finditer(text)
             if sum(ch.isdigit() for ch in m.group(0)) >= _PHONE_MIN_DIGITS]
    found += [m.group(0).strip() for m in _CALL_SHORT.finditer(text)]
    found += [m.group(0).rstrip(".,;)") for m in _LINKS.finditer(text)]
    return found


def instructions(text: str) -> list[str]:
    return [m.group(0) for m in _INSTRUCTIONS.finditer(text)]


def voice(text: str) -> Voice:
    """Everything in `text` that would speak for the assistant if it were repeated."""
    return Voice(contact_details(text), instructions(text))
