"""The care directory: checked help and emergency contacts, shown in English or French.

The data lives in assistant/safety/care_directory.yaml, built only from the checked care facts.
Nothing here composes a phone number, address or opening hours: every one comes from that file.
Hours whose confidence is not H are shown as "check current hours".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.text.language import Lang

POINTER_ID = "drogues-info-service"

TEXT = {
    "check_hours": {"en": "check current hours", "fr": "vérifiez les horaires actuels"},
    "checked": {"en": "checked {date}", "fr": "vérifié le {date}"},
    "pointer": {
        "en": "Drogues Info Service: 0 800 23 13 13, free and anonymous - drogues-info-service.fr",
        "fr": "Drogues Info Service : 0 800 23 13 13, gratuit et anonyme - drogues-info-service.fr",
    },
    "address": {"en": "Address", "fr": "Adresse"},
    "hours": {"en": "Hours", "fr": "Horaires"},
    "free": {"en": "free", "fr": "gratuit"},
}

# Which entries a care reply shows for a topic, most relevant first.
TOPIC_ENTRIES: dict[str, list[str]] = {
    "general": ["drogues-info-service", "csapa", "caarud"],
    "stop": ["csapa", "drogues-info-service", "caarud"],
    "treatment": ["csapa", "drogues-info-service"],
    "equipment": ["caarud", "drogues-info-service"],
    "harm_reduction": ["caarud", "drogues-info-service"],
    "family": ["drogues-info-service", "csapa"],
    "halte": ["halte-paris", "halte-strasbourg", "caarud", "drogues-info-service"],
    "suicide": ["suicide-3114", "samu-15", "eu-112"],
    "distress": ["drogues-info-service", "sos-amitie", "csapa"],
    "poisoning": ["poison-centre-paris", "samu-15", "eu-112"],
    "overdose": ["samu-15", "eu-112", "poison-centre-paris"],
    "deaf": ["urgence-114"],
}


@dataclass
class CareEntry:
    """One checked contact; texts are dicts {"en": ..., "fr": ...}."""

    id: str
    name: str
    group: str
    topics: list[str]
    purpose: dict[str, str]
    phone: str | None = None
    url: str | None = None
    address: dict[str, str] | None = None
    hours: dict[str, str] | None = None
    hours_confidence: str = "L"
    caution: dict[str, str] | None = None
    free: bool = False
    anonymous: bool = False
    languages: list[str] = field(default_factory=list)
    source: str = ""
    confidence: str = ""
    checked: str = ""

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CareEntry:
        data = dict(raw)
        data["purpose"] = data.pop("for")
        return cls(**data)

    def hours_text(self, lang: Lang) -> str | None:
        """Confirmed hours as written; unconfirmed hours only as a prompt to check them."""
        if not self.hours:
            return None
        if self.hours_confidence == "H":
            return self.hours[lang]
        return TEXT["check_hours"][lang]

    def resource(self, lang: Lang) -> dict[str, Any]:
        """The JSON-able form used in Answer.resources."""
        out: dict[str, Any] = {"id": self.id, "name": self.name, "phone": self.phone,
                               "url": self.url, "for": self.purpose[lang]}
        if self.address:
            out["address"] = self.address[lang]
        if hours := self.hours_text(lang):
            out["hours"] = hours
        if self.caution:
            out["caution"] = self.caution[lang]
        out["source"] = self.source
        out["checked"] = self.checked
        return out

    def line(self, lang: Lang) -> str:
        """One bullet of a reply: name, phone, what it is for, address, hours, website."""
        colon = _colon(lang)
        parts = [f"{self.name}{colon}{self.phone}" if self.phone else self.name, self.purpose[lang]]
        if self.address:
            parts.append(f"{TEXT['address'][lang]}{colon}{self.address[lang]}")
        if hours := self.hours_text(lang):
            parts.append(f"{TEXT['hours'][lang]}{colon}{hours}")
        if self.url:
            parts.append(self.url.removeprefix("https://").removeprefix("www."))
        return "- " + ". ".join(p.rstrip(".") for p in parts) + "."


def _colon(lang: Lang) -> str:
    """French typography puts a space before the colon."""
    return " : " if lang == "fr" else ": "


class CareDirectory:
    """The checked entries plus the fixed lines every reply kind uses."""

    def __init__(self, entries: list[CareEntry], last_checked: str) -> None:
        self.entries = entries
        self.last_checked = last_checked
        self._by_id = {e.id: e for e in entries}

    @classmethod
    def load(cls, path: Path) -> CareDirectory:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        entries = [CareEntry.from_dict(e) for e in raw["entries"]]
        return cls(entries, str(raw["last_checked"]))

    def get(self, entry_id: str) -> CareEntry:
        return self._by_id[entry_id]

    def for_topics(self, topics: list[str]) -> list[CareEntry]:
        """Entries for the given topics, most relevant first, each once; general by default."""
        ids: list[str] = []
        for topic in topics or ["general"]:
            for entry_id in TOPIC_ENTRIES.get(topic, []):
                if entry_id not in ids:
                    ids.append(entry_id)
        if POINTER_ID not in ids:
            ids.append(POINTER_ID)
        return [self._by_id[i] for i in ids if i in self._by_id]

    def pointer_line(self, lang: Lang) -> str:
        """The one line every answer, no_answer and care reply ends with."""
        return TEXT["pointer"][lang]

    def pointer_resource(self, lang: Lang) -> dict[str, Any]:
        return self.get(POINTER_ID).resource(lang)

    def checked_note(self, lang: Lang) -> str:
        return TEXT["checked"][lang].format(date=self.last_checked)

    def banner(self, lang: Lang) -> list[dict[str, str]]:
        """Data for a UI care banner: a list of {"label", "phone", "note"} dicts, most urgent
        first (15/112, 3114, Drogues Info Service); each note ends with the last-checked date."""
        checked = self.checked_note(lang)
        if lang == "fr":
            rows = [
                ("Urgence (SAMU / européen)", "15 / 112", "overdose, malaise, ne respire plus"),
                ("Prévention du suicide", "3114", "gratuit, 24 h/24"),
                ("Drogues Info Service", "0 800 23 13 13", "gratuit et anonyme"),
            ]
        else:
            rows = [
                ("Emergency (SAMU / EU)", "15 / 112", "overdose, collapse, not breathing"),
                ("Suicide prevention", "3114", "free, 24/7"),
                ("Drogues Info Service", "0 800 23 13 13", "free and anonymous"),
            ]
        return [{"label": label, "phone": phone, "note": f"{note} ({checked})"}
                for label, phone, note in rows]
