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


# -- status, needs and how to reach (once a separate `care_meta` section) --------------------
NEED_TAGS = {"stop_treatment", "substitution", "harm_reduction_kit", "naloxone",
             "injection_room", "rest_sleep", "shelter", "women", "young_people", "relative",
             "testing", "listening"}
# Whole English words that must not show in a French text (see tests/test_care_replies.py).
ENGLISH = re.compile(r"\b(?:free|care|centre for|harm reduction|harm-reduction|find|call first|"
                     r"address|hours|checked|helpline|street|not confirmed|ask|women|only|the|"
                     r"and|with|for|check|below)\b", re.IGNORECASE)


def test_entry_fields_sit_in_the_entries() -> None:
    import yaml

    raw = yaml.safe_load((ROOT / "assistant/safety/care_directory.yaml").read_text("utf-8"))
    assert "care_meta" not in raw
    by_id = {e["id"]: e for e in raw["entries"]}
    assert by_id["marmottan"]["status"] == "intake_paused"
    assert by_id["marmottan"]["confidence_parts"] == {"address_phone_hours": "H", "intake": "M"}
    assert by_id["sleep-in-paris"]["how_to_reach"]["fr"] == (
        "Adresse non confirmée : demandez l'adresse actuelle à Drogues Info Service ou à un "
        "CAARUD ; on voit le médecin sur place avant d'avoir un lit.")
    assert by_id["espace-de-repos-gaia-aurore"]["address_confidence"] == "not confirmed"


def test_status_needs_and_reach(care: CareDirectory) -> None:
    assert care.get("aides-caarud-paris-2e").status == "suspended"
    assert not care.get("aides-caarud-paris-2e").showable
    assert care.get("csapa").status == "open"  # the default
    for e in care.entries:
        assert set(e.needs) <= NEED_TAGS, e.id
        assert e.status != "suspended" or not e.needs
        assert e.address_confidence in (None, "H", "M", "not confirmed")
        if e.how_to_reach:
            assert e.how_to_reach["en"] and e.how_to_reach["fr"]


def test_unknown_status_is_refused() -> None:
    from assistant.safety.care import CareEntry

    with pytest.raises(ValueError):
        CareEntry("x", "X", "help", [], {"en": "a", "fr": "b"}, status="closed")


@pytest.mark.skipif(not FACTS.exists(), reason="checked facts file not available")
def test_street_numbers_come_from_the_checked_facts(care: CareDirectory) -> None:
    facts = FACTS.read_text(encoding="utf-8")
    for e in care.entries:
        for address in (e.address or {}).values():
            for street in re.findall(r"\d+(?:-\d+)? (?:rue|bd|quai) (?:de |du |d')?[\w-]+",
                                     address):
                assert street in facts, street


def test_french_texts_have_no_english(care: CareDirectory) -> None:
    for e in care.entries:
        texts = [e.display_name("fr"), e.purpose["fr"]]
        for part in (e.offer, e.how_to_reach, e.area, e.address, e.caution, e.hours):
            if part:
                texts.append(part["fr"])
        for text in texts:
            assert not ENGLISH.findall(text), (e.id, text)
    assert care.get("csapa").display_name("fr") == "CSAPA (centres de soins en addictologie)"


def test_reply_lines(care: CareDirectory) -> None:
    marmottan = care.get("marmottan").reply_line("fr")
    assert marmottan.startswith("- Hôpital Marmottan (CSAPA) — ")
    assert marmottan.count("01 56 68 70 30") == 1 and "Appelez avant" in marmottan
    assert "17-19 rue d'Armaillé, 75017 Paris" in marmottan and "Horaires : lun." in marmottan
    femmes = care.get("espace-femmes-oppelia").reply_line("en")
    assert "Paris 10e. Women only. Street address not confirmed" in femmes
    assert care.get("sos-amitie").reply_line("en").startswith("- SOS Amitié: 09 72 39 40 50 — ")
    # Unconfirmed hours are not shown; the old 68 bd Ney site is not given as the address.
    assert "8:00" not in care.pointer_reply_line("en")
    assert "bd Ney" not in care.get("espace-de-repos-gaia-aurore").reply_line("fr")
    for e in care.entries:
        for lang in ("en", "fr"):
            if e.id != "drogues-info-service":
                assert "Drogues Info Service" not in e.reply_line(lang), e.id
    assert care.pointer_reply_line("fr").startswith("- Drogues Info Service : 0 800 23 13 13 — ")


def test_checked_note_gives_the_dates_shown(care: CareDirectory) -> None:
    shown = [care.get("csapa"), care.get("marmottan")]
    assert care.checked_note("en", shown) == "checked 2026-11-22 and 2026-12-02"
    assert care.checked_note("fr") == "vérifié le 2026-11-22"
