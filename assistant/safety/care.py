"""The care directory: checked help and emergency contacts, shown in English or French.

The data lives in assistant/safety/care_directory.yaml, built only from the checked care facts.
Nothing here composes a phone number, address or opening hours: every one comes from that file.
Hours whose confidence is not H are shown as "check current hours".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.text.language import Lang
from assistant.text.tables import load_yaml

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
    "call_first": {"en": "Call first: not taking new patients at the moment.",
                   "fr": "Appelez avant : ne prend pas de nouveaux patients en ce moment."},
    "and": {"en": " and ", "fr": " et le "},
}

# A care reply names Drogues Info Service once, on its own last line; the other lines that
# send people to it say "the helpline below" instead (longest forms first).
POINTER_MENTIONS: dict[str, list[tuple[str, str]]] = {
    "en": [("Drogues Info Service", "the helpline below")],
    "fr": [("auprès de Drogues Info Service", "auprès de la ligne d'écoute ci-dessous"),
           ("à Drogues Info Service", "à la ligne d'écoute ci-dessous"),
           ("via Drogues Info Service", "via la ligne d'écoute ci-dessous"),
           ("Drogues Info Service", "la ligne d'écoute ci-dessous")],
}

STATUSES = ("open", "suspended", "intake_paused")
# A line of a care reply: name (and phone), what it offers, how to reach it.
DASH = " — "

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
    # What care replies read (CARE_NEEDS.md): whether it can be shown, which needs it meets,
    # how to get there worded after its confidence, and the reply wording.
    status: str = "open"
    needs: list[str] = field(default_factory=list)
    how_to_reach: dict[str, str] | None = None
    address_confidence: str | None = None
    confidence_parts: dict[str, str] | None = None
    names: dict[str, str] | None = None
    offer: dict[str, str] | None = None
    area: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"{self.id}: status {self.status!r} is not one of {STATUSES}")
        if self.status == "suspended" and self.needs:
            raise ValueError(f"{self.id}: a suspended entry meets no need")
        if self.status == "intake_paused" and not self.how_to_reach:
            raise ValueError(f"{self.id}: an intake_paused entry needs its 'call first' note")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CareEntry:
        data = dict(raw)
        data["purpose"] = data.pop("for")
        return cls(**data)

    @property
    def showable(self) -> bool:
        """Whether a reply may send people to it (never a suspended service)."""
        return self.status != "suspended"

    def display_name(self, lang: Lang) -> str:
        """The name in the reply's language (its gloss translated), else the one name."""
        return self.names[lang] if self.names else self.name

    def hours_text(self, lang: Lang) -> str | None:
        """Confirmed hours as written; unconfirmed hours only as a prompt to check them."""
        if not self.hours:
            return None
        if self.hours_confidence == "H":
            return self.hours[lang]
        return TEXT["check_hours"][lang]

    def resource(self, lang: Lang) -> dict[str, Any]:
        """The JSON-able form used in Answer.resources."""
        out: dict[str, Any] = {"id": self.id, "name": self.display_name(lang),
                               "phone": self.phone, "url": self.url, "for": self.purpose[lang]}
        if self.address:
            out["address"] = self.address[lang]
        if hours := self.hours_text(lang):
            out["hours"] = hours
        if self.caution:
            out["caution"] = self.caution[lang]
        if self.how_to_reach:
            out["how_to_reach"] = self.how_to_reach[lang]
        out["status"] = self.status
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


    def reply_line(self, lang: Lang) -> str:
        """One line of a care reply: name (and phone) - what it offers - how to reach it.

        Only the directory's own words: the address when it is confirmed (else the area and
        the how-to-reach note, which says it is to confirm), hours only when confirmed, and
        Drogues Info Service as "the helpline below" (the reply's last line names it)."""
        reach = _unpointed(self.how_to_reach[lang], lang) if self.how_to_reach else ""
        if self.status == "intake_paused" and not _says_call_first(reach):
            reach = f"{TEXT['call_first'][lang]} {reach}".strip()
        head = self.display_name(lang)
        if self.phone and self.phone not in f"{head} {reach}":
            head = f"{head}{_colon(lang)}{self.phone}"
        offer = self.offer[lang] if self.offer else _unpointed(self.purpose[lang], lang)
        where = []
        if self.address and self.address_confidence == "H":
            where.append(self.address[lang])
        elif self.area:
            where.append(self.area[lang])
        if reach:
            where.append(reach)
        if self.hours and self.hours_confidence == "H":
            where.append(f"{TEXT['hours'][lang]}{_colon(lang)}{self.hours[lang]}")
        parts = [head, offer.rstrip("."), ". ".join(p.rstrip(".") for p in where)]
        return "- " + DASH.join(p for p in parts if p) + "."

    def suspended_line(self, lang: Lang) -> str:
        """For a suspended entry someone asks about: that it is suspended, in its own words
        (never as a place to go)."""
        note = (self.how_to_reach or self.caution or self.purpose)[lang]
        return f"{self.display_name(lang)}{_colon(lang)}{_unpointed(note, lang)}"


def _unpointed(text: str, lang: Lang) -> str:
    for name, instead in POINTER_MENTIONS[lang]:
        text = text.replace(name, instead)
    return text


def _says_call_first(text: str) -> bool:
    return text.lower().startswith(("call first", "appelez avant"))


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
        raw = load_yaml(Path(path))
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

    def checked_note(self, lang: Lang, entries: list[CareEntry] | None = None) -> str:
        """"checked <date>": the directory's date, or the dates the given entries were
        checked on (a reply shows when what it shows was checked)."""
        dates = sorted({e.checked for e in entries or [] if e.checked}) or [self.last_checked]
        return TEXT["checked"][lang].format(date=TEXT["and"][lang].join(dates))

    def pointer_reply_line(self, lang: Lang) -> str:
        """The one Drogues Info Service line of a care reply: phone, offer, hours, website."""
        dis = self.get(POINTER_ID)
        parts = [f"{dis.name}{_colon(lang)}{dis.phone}", (dis.offer or dis.purpose)[lang]]
        if hours := dis.hours_text(lang):
            parts.append(hours)
        if dis.url:
            parts.append(dis.url.removeprefix("https://").removeprefix("www."))
        return "- " + DASH.join(p.rstrip(".") for p in parts) + "."

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
