"""The care directory: checked facts only, cautions honoured, both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.safety.care import CareDirectory

ROOT = Path(__file__).resolve().parents[1]
FACTS = Path("/work/shared/care_facts.md")


@pytest.fixture(scope="module")
def care() -> CareDirectory:
    return CareDirectory.load(ROOT / "assistant/safety/care_directory.yaml")


def test_every_entry_is_sourced_and_dated(care: CareDirectory) -> None:
    assert care.last_checked == "2026-11-22"
    for e in care.entries:
        # 2026-11-22: the first checked facts; 2026-12-02: the "Paris services" section.
        assert e.source and e.checked in ("2026-11-22", "2026-12-02")
        assert e.confidence in {"H", "M", "L"}
        assert e.purpose["en"] and e.purpose["fr"] and e.purpose["en"] != e.purpose["fr"]


@pytest.mark.skipif(not FACTS.exists(), reason="checked facts file not available")
def test_phones_come_from_the_checked_facts(care: CareDirectory) -> None:
    facts = FACTS.read_text(encoding="utf-8")
    for e in care.entries:
        if e.phone:
            assert re.search(rf"\b{re.escape(e.phone)}\b", facts), e.phone


def test_unconfirmed_hours_are_not_shown(care: CareDirectory) -> None:
    dis = care.get("drogues-info-service")
    assert dis.hours_confidence == "M"
    assert dis.hours_text("en") == "check current hours"
    assert dis.hours_text("fr") == "vérifiez les horaires actuels"
    assert "8:00" not in dis.line("en") and "8 h" not in dis.line("fr")
    assert care.get("poison-centre-paris").hours_text("en") == "24/7"


def test_paris_halte_admits_injection_only(care: CareDirectory) -> None:
    halte = care.get("halte-paris")
    assert "people who smoke crack are not admitted" in halte.line("en")
    assert "street number not confirmed" in halte.line("en")
    assert halte.resource("fr")["caution"].startswith("Injection uniquement")
    assert "inhalation" in care.get("halte-strasbourg").line("en")


def test_pointer_line_and_resource(care: CareDirectory) -> None:
    assert care.pointer_line("en") == (
        "Drogues Info Service: 0 800 23 13 13, free and anonymous - drogues-info-service.fr")
    assert "gratuit et anonyme" in care.pointer_line("fr")
    res = care.pointer_resource("en")
    assert res["id"] == "drogues-info-service" and res["phone"] == "0 800 23 13 13"
    assert res["url"] == "https://www.drogues-info-service.fr" and res["checked"] == "2026-11-22"


def test_topics_select_entries(care: CareDirectory) -> None:
    assert [e.id for e in care.for_topics([])] == ["drogues-info-service", "csapa", "caarud"]
    assert care.for_topics(["equipment"])[0].id == "caarud"
    assert care.for_topics(["suicide"])[0].id == "suicide-3114"
    assert care.for_topics(["halte"])[-1].id == "drogues-info-service"


def test_banner(care: CareDirectory) -> None:
    en, fr = care.banner("en"), care.banner("fr")
    assert [b["phone"] for b in en] == ["15 / 112", "3114", "0 800 23 13 13"]
    assert all("2026-11-22" in b["note"] for b in en + fr)
    assert fr[1]["label"] == "Prévention du suicide"
