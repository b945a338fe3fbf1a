"""Reading and cleaning the source documents in `corpus/`.

A document file is `.md`/`.txt` (optional YAML front matter), `.html`/`.htm` or `.pdf`.
The cleaned body is the text every offset and citation refers to.
"""

from __future__ import annotations

import io
import re
import stat
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import ftfy
import yaml

from assistant.models import Document, Fix
from assistant.text.contact import voice
from assistant.text.language import detect_language
from assistant.text.tables import parse_yaml

SUPPORTED_SUFFIXES = (".md", ".txt", ".html", ".htm", ".pdf")
MAX_FILE_BYTES = 20 * 1024 * 1024  # defaults; ingest passes settings.limits
MAX_LINE_CHARS = 100_000

# Breakage that ftfy cannot undo because the copy we received also had spaces inserted or
# bytes replaced by "??". Each entry is an exact string, replaced only where it occurs.
# (broken, repaired, why)
FIX_TABLE: tuple[tuple[str, str, str], ...] = (
    (
        "Và © ran",
        "Véran",
        "UTF-8 'é' read as Windows-1252 ('Ã©') then spaced out: Olivier Véran, health minister",
    ),
    (
        "[â ?? ¦]",
        "[…]",
        "UTF-8 '…' read as Windows-1252 ('â€¦') with '€' lost to '??': an ellipsis of omission",
    ),
    (
        "presented © “",
        "presented “",
        "stray '©' (leftover byte of a broken opening quote) before a quotation",
    ),
)

_FTFY_CONFIG = ftfy.TextFixerConfig(
    # Keep the article's own typography: curly quotes, widths and ligatures stay as given.
    uncurl_quotes=False,
    fix_character_width=False,
    fix_latin_ligatures=False,
    normalization="NFC",
)


@dataclass
class CleanResult:
    text: str
    fixes: list[Fix] = field(default_factory=list)
    ftfy_changed: bool = False


def clean_text(raw: str) -> CleanResult:
    """Repair broken characters; never rewrite words. Deterministic."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    fixed = ftfy.fix_text(text, config=_FTFY_CONFIG)
    result = CleanResult(text=fixed, ftfy_changed=fixed != text)
    for broken, repaired, reason in FIX_TABLE:
        n = result.text.count(broken)
        if n:
            result.text = result.text.replace(broken, repaired)
            result.fixes.append(Fix(broken, repaired, reason, n))
    _neutralise_markers(result)
    # Control characters other than newline and tab are never content.
    result.text = "".join(
        ch for ch in result.text if ch in "\n\t" or unicodedata.category(ch) != "Cc"
    )
    result.text = result.text.strip()
    return result


# "[3]" in a document would read as the reply's own citation marker once quoted: the brackets
# become full-width ones, the text stays readable and every offset stays where it was.
_MARKER = re.compile(r"\[(\s*\d+(?:\s*[,;]\s*\d+)*\s*)\]")


def _neutralise_markers(result: CleanResult) -> None:
    found = _MARKER.findall(result.text)
    if not found:
        return
    result.text = _MARKER.sub(lambda m: f"\uff3b{m.group(1)}\uff3d", result.text)
    example = f"[{found[0]}]"
    result.fixes.append(Fix(example, f"\uff3b{found[0]}\uff3d",
                            "bracketed numbers would read as citation markers", len(found)))


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class LoadReport:
    documents: list[Document] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


class UnreadableFile(ValueError):
    """A file that cannot become a document; the message says why."""


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug or "document"


def _decode(data: bytes) -> str:
    if not data.strip():
        raise UnreadableFile("empty file")
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary content (NUL bytes): not a text document")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8 and ingest again"
        ) from None
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t")
    if controls > max(8, len(text) // 100):
        raise UnreadableFile("binary content (control characters): not a text document")
    return text


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n", re.DOTALL)


def split_front_matter(text: str) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text.lstrip("\ufeff"))
    if not match:
        return {}, text
    try:
        meta = parse_yaml(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise UnreadableFile(f"front matter is not valid YAML: {exc.__class__.__name__}") from None
    if not isinstance(meta, dict):
        raise UnreadableFile("front matter must be a YAML mapping")
    return meta, text.lstrip("\ufeff")[match.end():]


def meta_text(meta: dict, key: str) -> str:
    """A front-matter field as one line of text: "" when absent, empty or null.

    YAML reads `published: 2021-08-09` as a date and `author: [A, B]` as a list; both become
    the text a reference prints.
    """
    value = meta.get(key)
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v).strip() for v in value if v is not None and str(v).strip())
    return " ".join(str(value).split())


def _html_text(raw: str) -> tuple[str, str | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "nav", "footer", "header"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else None
    if soup.title:
        soup.title.decompose()
    blocks = []
    for el in soup.find_all(["h1", "h2", "h3", "h4", "p", "li", "blockquote", "pre", "td"]):
        if el.find(["p", "li", "blockquote"]):
            continue  # the inner block is taken on its own
        line = " ".join(el.get_text(" ", strip=True).split())
        if line:
            blocks.append(line)
    if not blocks:
        blocks = [" ".join(soup.get_text(" ", strip=True).split())]
    return "\n\n".join(b for b in blocks if b), title


def _pdf_text(data: bytes) -> tuple[str, str | None]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise UnreadableFile("encrypted PDF")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise UnreadableFile(f"unreadable PDF: {exc}") from None
    return "\n\n".join(p for p in pages if p), title


def _first_line_title(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line if len(line) <= 90 else line[:87].rsplit(" ", 1)[0] + "…"
    return "Untitled"


def read_document(path: Path, *, max_bytes: int = MAX_FILE_BYTES,
                  max_line: int = MAX_LINE_CHARS) -> Document:
    """Read one file into a cleaned Document, or raise UnreadableFile."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnreadableFile(f"unsupported file type '{suffix or path.name}'")
    size = path.stat().st_size
    if size > max_bytes:
        raise UnreadableFile(f"file too large ({size:,} bytes, limit {max_bytes:,})")
    data = path.read_bytes()
    meta: dict = {}
    title: str | None = None
    if suffix == ".pdf":
        if not data.startswith(b"%PDF"):
            raise UnreadableFile("not a PDF file (no %PDF header)")
        body, title = _pdf_text(data)
    else:
        text = _decode(data)
        meta, body = split_front_matter(text)
        if suffix in (".html", ".htm"):
            body, title = _html_text(body)
    cleaned = clean_text(body)
    if not cleaned.text:
        raise UnreadableFile("no text after cleaning")
    longest = max(len(line) for line in cleaned.text.split("\n"))
    if longest > max_line:
        # A dump or a minified page, not prose: it would become thousands of chunks that
        # crowd every search.
        raise UnreadableFile(f"a line of {longest:,} characters (limit {max_line:,}): "
                             "not prose; split it into paragraphs")
    doc_id = slugify(str(meta.get("id") or path.stem))
    return Document(
        id=doc_id,
        title=str(meta.get("title") or title or _first_line_title(cleaned.text)),
        text=cleaned.text,
        language=str(meta.get("language") or detect_language(cleaned.text)),
        published=meta_text(meta, "published") or "unknown",
        source=meta_text(meta, "source") or "unknown",
        provenance=meta_text(meta, "provenance") or f"added to the corpus as {path.name}",
        path=path.name,
        fixes=cleaned.fixes,
        flags=voice(cleaned.text).describe(),
        author=meta_text(meta, "author"),
        outlet=meta_text(meta, "outlet"),
    )


def iter_corpus_files(corpus_dir: Path) -> Iterable[Path]:
    """Every entry of the corpus folder a maintainer may have meant as a document."""
    for path in sorted(corpus_dir.iterdir()):
        if not path.name.startswith(".") and path.name != "README.md":
            yield path


def refusal(path: Path, corpus_dir: Path) -> str | None:
    """Why an entry of the corpus folder is not read at all, or None for a regular file.

    Only regular files inside the folder are read: a link out of it (to /etc/passwd, say)
    would publish what it points to, and a FIFO or device would block the ingest.
    """
    try:
        if path.is_symlink():
            target = path.resolve(strict=True)
            if not target.is_relative_to(corpus_dir.resolve()):
                return "a link to a file outside the corpus folder: refused"
        mode = path.stat().st_mode
    except (OSError, RuntimeError) as exc:
        return f"cannot read: {getattr(exc, 'strerror', None) or exc}"
    if stat.S_ISDIR(mode):
        return "a folder: documents go directly in the corpus folder"
    if not stat.S_ISREG(mode):
        kind = "FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else "device"
        return f"not a regular file ({kind}): refused"
    return None


def load_corpus(corpus_dir: Path, *, indexed: dict[str, str] | None = None,
                max_bytes: int = MAX_FILE_BYTES, max_line: int = MAX_LINE_CHARS) -> LoadReport:
    """Read every file; unreadable ones are reported with a reason, the rest still load.

    `indexed` maps the ids already in the index to their file names: when a new file claims
    an id that an indexed file holds, the indexed one stays and the newcomer is reported,
    whatever the file names' order.
    """
    report = LoadReport()
    by_id: dict[str, Document] = {}
    for path in iter_corpus_files(corpus_dir):
        why = refusal(path, corpus_dir)
        try:
            if why:
                raise UnreadableFile(why)
            doc = read_document(path, max_bytes=max_bytes, max_line=max_line)
        except UnreadableFile as exc:
            report.skipped.append(Skipped(path.name, str(exc)))
            continue
        except OSError as exc:
            report.skipped.append(Skipped(path.name, f"cannot read file: {exc.strerror}"))
            continue
        held = by_id.get(doc.id)
        if held is None:
            by_id[doc.id] = doc
            continue
        keep, drop = (doc, held) if (indexed or {}).get(doc.id) == doc.path else (held, doc)
        by_id[doc.id] = keep
        report.skipped.append(Skipped(drop.path, f"duplicate document id '{doc.id}' (kept "
                                      f"{keep.path}, the one already indexed or read first)"))
    report.documents = list(by_id.values())
    return report
