"""Cleaning and reading documents: repairs are exact, files that can't be read are reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.ingest.corpus import (
    FIX_TABLE,
    UnreadableFile,
    clean_text,
    load_corpus,
    read_document,
)
from tests.conftest import CORPUS, SHARED


def test_seed_mojibake_is_repaired_and_reported() -> None:
    raw = (SHARED / "seeds" / "004_98fcf45585bbabb3.txt").read_text(encoding="utf-8")
    result = clean_text(raw)
    assert "Olivier Véran had judged" in result.text
    assert "trafficking in cocaine and its derivatives […], to dismantle" in result.text
    assert "presented “four solutions”" in result.text
    for broken in ("Và ©", "â ??", "¦", "©"):
        assert broken not in result.text
    assert {f.repaired for f in result.fixes} == {"Véran", "[…]", "presented “"}
    assert all(f.count == 1 for f in result.fixes)


def test_cleaning_changes_no_word() -> None:
    """Outside the documented fixes, the cleaned text has exactly the words of the seed."""
    raw = (SHARED / "seeds" / "004_98fcf45585bbabb3.txt").read_text(encoding="utf-8")
    patched = raw
    for broken, repaired, _ in FIX_TABLE:
        patched = patched.replace(broken, repaired)
    assert clean_text(raw).text.split() == patched.strip().split()
    seed0 = (SHARED / "seeds" / "000_1f387d2cab58bff2.txt").read_text(encoding="utf-8")
    assert clean_text(seed0).text == seed0.strip()
    assert clean_text(seed0).fixes == []


def test_cleaning_is_deterministic_and_idempotent() -> None:
    raw = (SHARED / "seeds" / "004_98fcf45585bbabb3.txt").read_text(encoding="utf-8")
    once = clean_text(raw).text
    assert clean_text(raw).text == once
    assert clean_text(once).text == once
    assert clean_text(once).fixes == []


def test_ftfy_repairs_classic_mojibake_but_keeps_typography() -> None:
    result = clean_text("Le cafÃ© de la rue â€” “quoted” text\r\nnext line\x07")
    assert result.text == "Le café de la rue — “quoted” text\nnext line"
    assert result.ftfy_changed


def test_corpus_documents_carry_front_matter() -> None:
    report = load_corpus(CORPUS)
    assert report.skipped == []
    docs = {d.id: d for d in report.documents}
    assert set(docs) == {"crack-plan-dagnaud", "hidalgo-letter-castex", "reperes-crack-paris"}
    # The project's own French document says when and from what it was compiled.
    reperes = docs["reperes-crack-paris"]
    assert reperes.language == "fr" and reperes.published == "2026-12-02"
    assert "Compilé par le projet" in reperes.source and "## Références" in reperes.text
    letter = docs["hidalgo-letter-castex"]
    assert letter.language == "en"
    assert letter.published.startswith("unknown")
    # Source and provenance are written for readers: what the text is, no seed-file names.
    assert "machine translation of a French news report" in letter.source
    assert ".txt" not in letter.source and ".txt" not in letter.provenance
    assert "Véran" in letter.provenance and letter.author == "" and letter.outlet == ""
    assert "Véran" in letter.text and "---" not in letter.text[:10]
    assert letter.text.startswith("The PS mayor of Paris Anne Hidalgo")


def test_plain_text_without_front_matter_gets_defaults(tmp_path: Path) -> None:
    f = tmp_path / "Note de Terrain.txt"
    f.write_text("Le plan crack à Paris\n\nLes usagers de drogues sont accueillis.", "utf-8")
    doc = read_document(f)
    assert doc.id == "note-de-terrain"
    assert doc.title == "Le plan crack à Paris"
    assert doc.language == "fr"
    assert doc.published == "unknown" and doc.source == "unknown"
    assert "Note de Terrain.txt" in doc.provenance


def test_html_document(tmp_path: Path) -> None:
    f = tmp_path / "page.html"
    f.write_text(
        "<html><head><title>Salles de consommation</title><script>alert(1)</script></head>"
        "<body><nav>menu</nav><h1>Rooms</h1><p>The rooms opened in <b>2016</b>.</p>"
        "<p>They are run by an association.</p></body></html>",
        "utf-8",
    )
    doc = read_document(f)
    assert doc.title == "Salles de consommation"
    assert doc.text == "Rooms\n\nThe rooms opened in 2016 .\n\nThey are run by an association."
    assert "alert" not in doc.text and "menu" not in doc.text


def _tiny_pdf(text: str) -> bytes:
    """A one-page PDF with one line of text, offsets computed so any reader accepts it."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return out


def test_pdf_document(tmp_path: Path) -> None:
    f = tmp_path / "report.pdf"
    f.write_bytes(_tiny_pdf("Harm reduction services in Paris"))
    doc = read_document(f)
    assert doc.text == "Harm reduction services in Paris"
    assert doc.id == "report"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", b"", "empty file"),
        ("blank.txt", b"   \n\n  ", "empty file"),
        ("junk.txt", bytes(range(256)) * 8, "binary content"),
        ("latin1.txt", "Le café est fermé".encode("latin-1"), "not UTF-8"),
        ("fake.pdf", b"this is not a pdf", "not a PDF"),
        ("broken.pdf", b"%PDF-1.4\n garbage", "unreadable PDF"),
        ("image.png", b"\x89PNG\r\n", "unsupported file type"),
        ("bad-yaml.md", b"---\ntitle: [unclosed\n---\nBody text", "front matter"),
        ("only-meta.md", b"---\ntitle: x\n---\n   \n", "no text"),
    ],
)
def test_unreadable_files_are_rejected_with_a_reason(
    tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(UnreadableFile, match=reason):
        read_document(f)


def test_bad_files_are_skipped_and_the_rest_load(tmp_path: Path) -> None:
    (tmp_path / "good.md").write_text("A readable document about care.", "utf-8")
    (tmp_path / "junk.txt").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "latin1.txt").write_bytes("Café".encode("latin-1"))
    (tmp_path / "zz-copy.md").write_text("---\nid: good\n---\nSame id as good.md", "utf-8")
    report = load_corpus(tmp_path)
    assert [d.id for d in report.documents] == ["good"]
    skipped = {s.path: s.reason for s in report.skipped}
    assert set(skipped) == {"junk.txt", "latin1.txt", "zz-copy.md"}
    assert "duplicate document id 'good'" in skipped["zz-copy.md"]
