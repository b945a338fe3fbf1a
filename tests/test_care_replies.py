"""Care replies that help: the entries fit what the message asks, each line comes from the
directory, one Drogues Info Service line, the reply entirely in its language.

Scored on the test split of tests/data/care_messages.jsonl; the word tables of
assistant/safety/needs.yaml were written from the train split only.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from assistant.safety.care import CareDirectory
from assistant.safety.guardrails import Decision, Guardrails
from assistant.safety.needs import NEEDS, TABLES_FILE, CareNeeds, choose_entries, detect_needs

ROOT = Path(__file__).resolve().parents[1]
CARE_PATH = ROOT / "assistant/safety/care_directory.yaml"
MESSAGES = [json.loads(line) for line in
            (ROOT / "tests/data/care_messages.jsonl").read_text(encoding="utf-8").splitlines()]
TEST = [m for m in MESSAGES if m["split"] == "test"]
TRAIN = [m for m in MESSAGES if m["split"] == "train"]
POINTER = "drogues-info-service"
# The bound is the brief's, set before the test split was first scored.
MIN_HIT_RATE = 0.85

# English that must not show in a French reply, as whole words (so "care" does not hit
# "carence", "the" does not hit "thé", "for" does not hit "fort").
ENGLISH_WORDS = [
    "free", "care", "centre for", "harm reduction", "harm-reduction", "find", "call first",
    "address", "hours", "checked", "helpline", "street", "not confirmed", "to confirm", "ask",
    "women", "young people", "only", "every day", "the", "and", "with", "for", "check",
    "open", "closed", "shelter", "testing", "sterile", "equipment", "supervised", "below",
    "near", "you", "your",
]
ENGLISH = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in ENGLISH_WORDS) + r")\b",
                     re.IGNORECASE)
# Phone-like strings: French ten-digit and 0 800 numbers, the short emergency and help
# numbers, and any other long run of digits (an invented number in another format).
PHONE = re.compile(r"\b0 800(?: \d{2,3}){2,3}\b|\b0\d(?: \d\d){4}\b|\b\d(?:[ .]?\d){7,}\b"
                   r"|(?<![\d-])\b(?:15|112|114|115|3114)\b(?![\d-])")
# A street with a number ("17-19 rue d'Armaillé"), up to the next punctuation.
STREET = re.compile(r"\b\d+(?:-\d+)? (?:rue|bd|boulevard|avenue|quai|place|impasse|passage)"
                    r" [^,.;()]+", re.IGNORECASE)
UNCONFIRMED = re.compile(r"not confirmed|to confirm|non confirm|à confirmer", re.IGNORECASE)


@pytest.fixture(scope="module")
def guard() -> Guardrails:
    return Guardrails.load(CareDirectory.load(CARE_PATH))


@pytest.fixture(scope="module")
def care(guard: Guardrails) -> CareDirectory:
    return guard.care


def care_decision(guard: Guardrails, row: dict) -> Decision:
    """The guard's decision on the message, as a care decision in the message's language
    (a message the guard reads otherwise still gets its care reply measured)."""
    decision = guard.check(row["message"], lang=row["lang"])
    if decision.kind != "care":
        decision = replace(decision, kind="care", label="care")
    return decision


def care_reply(guard: Guardrails, row: dict) -> tuple[str, list[str], Decision]:
    decision = care_decision(guard, row)
    text, resources = guard.reply(decision)
    return text, [r["id"] for r in resources], decision


def hit_rates(guard: Guardrails, rows: list[dict]) -> tuple[float, float]:
    """Share of messages with a `relevant` entry among the reply's resources; and the same
    not counting Drogues Info Service (on every reply), over messages with another one."""
    hits, strict, strict_n = 0, 0, 0
    for row in rows:
        _, ids, _ = care_reply(guard, row)
        hits += bool(set(ids) & set(row["relevant"]))
        others = set(row["relevant"]) - {POINTER}
        if others:
            strict_n += 1
            strict += bool(set(ids) & others)
    return hits / len(rows), strict / strict_n


def test_message_set_shape() -> None:
    assert len(TEST) >= 30 and len(TRAIN) >= 30
    assert {m["lang"] for m in TEST} == {"en", "fr"}
    assert all(set(m["needs"]) <= set(NEEDS) for m in MESSAGES)


def test_relevant_entry_hit_rate(guard: Guardrails) -> None:
    train, train_strict = hit_rates(guard, TRAIN)
    test, test_strict = hit_rates(guard, TEST)
    print(f"\nrelevant-entry hit rate: train {train:.3f}, test {test:.3f}; "
          f"without Drogues Info Service: train {train_strict:.3f}, test {test_strict:.3f}")
    assert test >= MIN_HIT_RATE


@pytest.mark.parametrize("row", TEST, ids=[m["id"] for m in TEST])
def test_reply_is_safe_and_sourced(guard: Guardrails, care: CareDirectory, row: dict) -> None:
    text, ids, _ = care_reply(guard, row)
    assert not set(ids) & set(row["must_not"]), (ids, row["must_not"])
    _assert_no_suspended(care, text, ids)
    _assert_contacts_from_directory(care, text, row["lang"])
    assert text.count("Drogues Info Service") == 1, text
    assert POINTER in ids and 2 <= len(ids) <= 5, ids
    if row["lang"] == "fr":
        assert not ENGLISH.findall(text), (ENGLISH.findall(text), text)


@pytest.mark.parametrize("row", TEST + TRAIN, ids=[m["id"] for m in TEST + TRAIN])
def test_entries_are_for_the_person(guard: Guardrails, care: CareDirectory, row: dict) -> None:
    text, ids, decision = care_reply(guard, row)
    reading = decision.care_needs
    assert reading is not None
    if "women" not in reading.needs:
        assert "espace-femmes-oppelia" not in ids
    if "young_people" not in reading.needs:
        assert "fil-sante-jeunes" not in ids
    if reading.smokes_only:
        assert not {"halte-paris", "halte-paris-lhomme"} & set(ids)
    lines = text.split("\n")
    for entry_id in ids:
        entry = care.get(entry_id)
        line = next((x for x in lines if x.startswith(f"- {entry.display_name(row['lang'])}")),
                    None)
        assert line is not None, (entry_id, text)
        if entry.status == "intake_paused":
            assert re.search(r"call first|appelez avant", line, re.IGNORECASE), line
        if entry.address_confidence == "not confirmed":
            assert UNCONFIRMED.search(line), line


def _assert_no_suspended(care: CareDirectory, text: str, ids: list[str]) -> None:
    for entry in care.entries:
        if entry.status != "suspended":
            continue
        assert entry.id not in ids
        for lang in ("en", "fr"):
            if entry.address:
                assert entry.address[lang] not in text
            for line in text.split("\n"):
                if entry.display_name(lang) in line:  # only to say it is suspended
                    assert re.search(r"suspend", line, re.IGNORECASE), line


def _assert_contacts_from_directory(care: CareDirectory, text: str, lang: str) -> None:
    phones = {e.phone for e in care.entries if e.phone}
    for phone in PHONE.findall(text):
        assert phone in phones, (phone, text)
    addresses = [e.address[lang] for e in care.entries if e.address]
    for street in STREET.findall(text):
        assert any(street in a for a in addresses), (street, text)


# -- the example that started this -----------------------------------------------------------
def test_stop_question_in_french_gets_paris_places(guard: Guardrails) -> None:
    msg = "je fume du crack depuis des mois et je n'arrive plus à arrêter, je peux aller où ?"
    d = guard.check(msg)
    text, resources = guard.reply(d)
    ids = [r["id"] for r in resources]
    assert d.kind == "care" and d.lang == "fr"
    assert d.care_needs is not None and d.care_needs.needs == ["stop_treatment"]
    # "je n'arrive plus à arrêter" is distress (assistant/safety/LABELS.md): a line to talk
    # to now may come first; the places to stop follow, in order.
    assert [i for i in ids if i != "sos-amitie"][:2] == ["csapa", "marmottan"]
    assert ids[-1] == POINTER
    assert "CSAPA (centres de soins en addictologie)" in text
    assert "17-19 rue d'Armaillé, 75017 Paris" in text and "Appelez avant (01 56 68 70 30)" in text
    assert "addiction care centres" not in text and not ENGLISH.findall(text)
    assert text.count("Drogues Info Service") == 1 and "ligne d'écoute ci-dessous" in text
    assert text.endswith("(vérifié le 2026-11-22 et le 2026-12-02)")


def test_no_need_gives_the_default_in_the_reply_language(guard: Guardrails) -> None:
    text, resources = guard.reply(guard.check("j'ai besoin d'aide avec le crack"))
    assert [r["id"] for r in resources] == ["csapa", "caarud", POINTER]
    assert "CAARUD (centres de réduction des risques)" in text and not ENGLISH.findall(text)
    en, _ = guard.reply(Decision("care", "en", topics=[], label="care",
                                 care_needs=CareNeeds()))
    assert "CSAPA (addiction care centres)" in en and en.count("Drogues Info Service") == 1


def test_smoker_asking_for_the_halte_is_told_it_does_not_admit_them(guard: Guardrails) -> None:
    d = care_decision(guard, {"message": "on peut fumer à la salle de Lariboisière ?",
                              "lang": "fr"})
    text, resources = guard.reply(d)
    ids = [r["id"] for r in resources]
    assert "halte-paris-lhomme" not in ids and "halte-paris" not in ids
    assert "les personnes qui fument du crack n'y sont pas admises" in text
    assert "caarud" in ids and "halte-strasbourg" in ids
    inj, res = guard.reply(care_decision(guard, {"message": "je m'injecte, la salle de shoot "
                                                       "c'est où ?", "lang": "fr"}))
    assert [r["id"] for r in res][0] == "halte-paris-lhomme"
    assert "halte-paris" not in [r["id"] for r in res]  # the same place, shown once


def test_suspended_service_asked_by_name_is_only_said_suspended(guard: Guardrails) -> None:
    text, resources = guard.reply(guard.check("le CAARUD AIDES rue de Cléry est ouvert ?"))
    assert "aides-caarud-paris-2e" not in [r["id"] for r in resources]
    assert "CAARUD AIDES Paris 2e (SUSPENDU) : Suspendu depuis le 28 avril 2025" in text
    assert "76 rue de Cléry" not in text and text.count("Drogues Info Service") == 1


def test_women_only_and_young_only_entries(guard: Guardrails, care: CareDirectory) -> None:
    woman = detect_needs("jsuis une meuf a la rue, jveux juste dormir un peu")
    assert {"women", "rest_sleep"} <= set(woman.needs)
    assert choose_entries(care, woman).entries[0].id == "espace-femmes-oppelia"
    husband = detect_needs("ma femme fume du crack, comment l'aider ?")
    assert "women" not in husband.needs and "relative" in husband.needs
    ids = [e.id for e in choose_entries(care, husband).entries]
    assert "espace-femmes-oppelia" not in ids and ids[0] == "relatives-3114"
    assert "young_people" in detect_needs("I'm 17 and I want to stop smoking rock").needs
    assert "young_people" not in detect_needs("je fume depuis 15 ans").needs
    assert "minor" in detect_needs("my 16-year-old nephew smokes crack").traits


def test_typos_and_sms_are_read() -> None:
    assert detect_needs("je veux areter le crak").needs == ["stop_treatment"]
    assert detect_needs("hebergment d'urgence stp").needs == ["shelter"]
    assert detect_needs("metadone a paris ?").needs == ["substitution"]
    assert detect_needs("besoin de parler a qqn").needs == ["listening"]
    assert detect_needs("where can I get clean pipes?").needs == ["harm_reduction_kit"]
    assert detect_needs("Free STI testing").needs == ["testing"]  # not "resting"


def test_need_tables_agree_with_the_directory(care: CareDirectory) -> None:
    tables = yaml.safe_load(TABLES_FILE.read_text(encoding="utf-8"))
    assert set(tables["needs"]) == set(NEEDS) == set(tables["show"])
    known = {e.id for e in care.entries}
    for need, ids in tables["show"].items():
        assert set(ids) <= known, need
        assert all(care.get(i).showable for i in ids), need
        # Every open entry the directory tags with the need is one a reply can show for it.
        tagged = {e.id for e in care.entries if need in e.needs and e.showable}
        assert tagged - {POINTER} <= set(ids), (need, tagged - set(ids))
    assert all(set(e.needs) <= set(NEEDS) for e in care.entries)
