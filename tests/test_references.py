"""Publishable references on source cards, care numbers as tel: links, user links as text.

Over the real corpus and index (tests/conftest.py), and once in the real app in headless
Chromium, since only the browser shows what the chatbot's Markdown makes of a reply.
"""

from __future__ import annotations

import html
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from assistant.app.render import (
    T,
    directory_phones,
    esc_md,
    render_reply,
    render_source_card,
    render_user,
    source_reference,
)
from assistant.ingest.indexing import ingest, read_documents
from assistant.models import Citation
from assistant.settings import Settings
from tests.conftest_ui import AppServer, app_server  # noqa: F401 - fixture

SITES_Q = "Which sites did Anne Hidalgo propose for crack users' care?"
VAN_Q = "What does Charonnes hand out from his van?"
EMERGENCY_Q = "My friend smoked crack and now he is not breathing, what do I do?"
SUICIDE_Q = "I want to kill myself"
NOT_PUBLISHABLE = ("Seed file", "seed file", "Unknown publication", "unknown", ".txt")
# Every label a card shows, by its strings.yaml key.
CARD_LABELS = ("published", "author", "outlet", "document", "chars", "no_date", "src_details",
               "source", "provenance", "copy", "copied")
USER_LINKS = ["![x](http://evil/a.png)", "[click](javascript:alert(1))",
              "see https://example.com/a_b.png and www.example.org or a@b.com"]


def first_sentence(doc_id: str, doc: dict[str, Any]) -> Citation:
    text = doc["text"]
    end = text.index(". ") + 1
    return Citation(1, doc_id, doc["title"], text[:end], 0, end, 1.0)


def copied(card: str) -> str:
    """What the card's button puts on the clipboard."""
    match = re.search(r'data-copy="([^"]*)"', card)
    assert match, card
    return html.unescape(match.group(1))


def details(card: str) -> tuple[str, str]:
    """(the card without its fold, the fold)."""
    match = re.search(r'<details class="src-details">.*?</details>', card, re.DOTALL)
    assert match, card
    return card[: match.start()] + card[match.end():], match.group(0)


def tel_numbers(rendered: str) -> list[str]:
    return re.findall(r'href="tel:([^"]*)"', rendered)


# -- references ----------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_corpus_document_has_a_publishable_reference(assistant, lang: str) -> None:
    assert set(assistant.documents) == {"crack-plan-dagnaud", "hidalgo-letter-castex",
                                        "reperes-crack-paris"}
    for doc_id, doc in assistant.documents.items():
        c = first_sentence(doc_id, doc)
        card = render_source_card(0, c, doc, lang)
        reference = source_reference(c, doc, lang)
        clip = copied(card)
        assert reference in clip and c.quote in clip
        for text in (reference, clip):
            assert doc["title"] in text and doc_id in text
            assert f"{T[lang]['chars']} {c.start}–{c.end}" in text
            assert not [w for w in NOT_PUBLISHABLE if w in text], text
        # The English articles came with no date: the reference says so the way citations
        # do; the French document was compiled on a known day.
        date = T[lang]["no_date"] if doc["published"].startswith("unknown") else \
            f"{doc['published']}."
        assert reference == (f"{doc['title']}. {date} "
                             f"[{doc_id}, {T[lang]['chars']} {c.start}–{c.end}]")
        shown, _fold = details(card)
        meta = re.sub(r'<div class="src-context">.*?</div>|data-copy="[^"]*"', "", shown,
                      flags=re.DOTALL)
        assert not [w for w in NOT_PUBLISHABLE if w in meta], meta


def test_cited_answers_give_cards_with_quote_and_reference(assistant) -> None:
    seen = set()
    for question in (SITES_Q, VAN_Q, "Quand le plan crack a-t-il été signé ?"):
        answer = assistant.ask(question)
        assert answer.kind == "answer" and answer.citations, answer.text
        for c in answer.citations:
            doc = assistant.documents[c.doc_id]
            clip = copied(render_source_card(0, c, doc, "en"))
            assert clip.startswith(f"“{c.quote}” — {doc['title']}.")
            assert clip.endswith(f"[{c.doc_id}, characters {c.start}–{c.end}]")
            seen.add(c.doc_id)
    assert seen == set(assistant.documents)


def test_known_author_outlet_and_date_are_in_the_reference(assistant) -> None:
    doc = {**assistant.documents["hidalgo-letter-castex"], "author": "Jane Doe",
           "outlet": "Le Monde", "published": "2021-08-09"}
    c = first_sentence("hidalgo-letter-castex", doc)
    assert source_reference(c, doc, "fr") == (
        f"{doc['title']}. Jane Doe, Le Monde, 2021-08-09. "
        f"[hidalgo-letter-castex, caractères 0–{c.end}]")
    card = render_source_card(0, c, doc, "en")
    assert "<span>Author: Jane Doe</span>" in card and "<span>Outlet: Le Monde</span>" in card
    assert "<span>Published: 2021-08-09</span>" in card


def test_details_fold_holds_source_and_provenance(assistant) -> None:
    for doc_id, doc in assistant.documents.items():
        card = render_source_card(0, first_sentence(doc_id, doc), doc, "en")
        shown, fold = details(card)
        assert fold.startswith('<details class="src-details"><summary>'
                               "Provenance and cleaning notes</summary>")  # closed: no "open"
        assert html.escape(doc["provenance"]) in fold and html.escape(doc["source"]) in fold
        assert html.escape(doc["provenance"]) not in shown
        assert html.escape(doc["source"]) not in shown
    letter = assistant.documents["hidalgo-letter-castex"]
    assert "Véran" in letter["provenance"]  # the cleaning note travels with the document


def test_french_cards_have_only_french_labels(assistant) -> None:
    for doc_id, doc in assistant.documents.items():
        c = first_sentence(doc_id, doc)
        card = render_source_card(0, c, doc, "fr")
        # Labels only: the quote, its context and the document's own notes stay in English.
        labels = re.sub(r'<div class="src-context">.*?</div>|data-copy="[^"]*"', "", card,
                        flags=re.DOTALL)
        labels = re.sub(r"(<p>[^<]*? : )[^<]*(</p>)", r"\1\2", labels)
        date = "s.d." if doc["published"].startswith("unknown") else doc["published"]
        assert f"Publication : {date}" in labels and "Copier la citation" in labels
        assert f"Document : {doc_id}, caractères 0–{c.end}" in labels
        assert "<summary>Provenance et notes de nettoyage</summary>" in labels
        english = [T["en"][k] for k in CARD_LABELS if T["en"][k] != T["fr"][k]]
        assert not [w for w in english if w in labels], labels
        assert copied(card).startswith("«\u00a0")


def test_front_matter_author_and_outlet_reach_the_documents_table(scratch: Settings) -> None:
    (scratch.paths.corpus_dir / "note.md").write_text(
        "---\nid: note\ntitle: A note\npublished: 2021-08-09\nauthor: [Jane Doe, John Roe]\n"
        "outlet: Le Monde\nsource: https://example.org/note\nprovenance: Copied by hand.\n---\n"
        "The rooms opened in 2016. They are run by an association.\n", "utf-8")
    ingest(scratch)
    doc = read_documents(scratch.paths.index_dir)["note"]
    assert (doc["author"], doc["outlet"], doc["published"]) == (
        "Jane Doe, John Roe", "Le Monde", "2021-08-09")
    c = Citation(1, "note", "A note", "The rooms opened in 2016.", 0, 25, 1.0)
    assert source_reference(c, doc, "en") == (
        "A note. Jane Doe, John Roe, Le Monde, 2021-08-09. [note, characters 0–25]")


def test_corpus_front_matter_names_no_seed_file() -> None:
    corpus = Path(__file__).resolve().parent.parent / "corpus"
    for path in corpus.glob("*.md"):
        if path.name == "README.md":
            continue
        head = path.read_text(encoding="utf-8").split("\n---\n", 1)[0]
        assert not re.search(r"(?i)seed|\.txt|unknown publication", head), path.name


# -- care numbers as tel: links ------------------------------------------------------------------
def directory_digits() -> set[str]:
    return {re.sub(r"\D", "", p) for p in directory_phones()}


@pytest.mark.parametrize(("question", "expected"), [
    (EMERGENCY_Q, {"15", "112", "114", "0140054848"}),
    (SUICIDE_Q, {"3114", "15", "112"}),
    ("Je veux mourir", {"3114", "15", "112"}),
    ("Where can I get help to stop using crack in Paris?", {"0156687030"}),
])
def test_real_replies_link_only_directory_numbers(assistant, question: str,
                                                  expected: set[str]) -> None:
    answer = assistant.ask(question)
    out = render_reply(answer.text, answer.kind, 0, answer.citations, answer.lang)
    linked = set(tel_numbers(out))
    assert linked <= directory_digits(), linked
    # Drogues Info Service is in every one of these replies.
    assert expected | {"0800231313"} <= linked, (answer.text, linked)


def test_cited_answer_keeps_its_citation_link_and_links_no_figure(assistant) -> None:
    answer = assistant.ask(SITES_Q)
    out = render_reply(answer.text, answer.kind, 4, answer.citations, "en")
    assert '<a class="cite" href="#src-4-1" title="source 1">[1]</a>' in out
    assert tel_numbers(out) == ["0800231313"]  # "19th", "XXth" and the rest stay text


def test_numbers_outside_the_directory_or_inside_figures_stay_text() -> None:
    text = ("Call 15 (SAMU) or 112 now; deaf: 114 by SMS. Not 17, 18, 01 23 45 67 89, "
            "118 218, +3114, 2015, 15:00, 11–15, 1.15, 15 000 or 0 800 23 13 134.")
    out = render_reply(text, "emergency", 0, [], "en")
    assert tel_numbers(out) == ["15", "112", "114"]
    assert ("17, 18, 01 23 45 67 89, 118 218, \\+3114, 2015, 15:00, 11–15, 1\\.15, "
            "15 000 or 0 800 23 13 134\\.") in out


def test_short_numbers_in_quotes_are_not_phones() -> None:
    quote = "In 2021, 15 sites opened and 112 people were housed."
    c = Citation(1, "d", "T", quote, 0, len(quote), 1.0)
    for kind in ("answer", "care"):
        text = f"Here is where to find help: call 3114.\n{quote} [1]\n\nDrogues Info Service: " \
               "0 800 23 13 13."
        out = render_reply(text, kind, 0, [c], "en")
        expected = ["3114", "0800231313"] if kind == "care" else ["0800231313"]
        assert tel_numbers(out) == expected, out
        assert 'href="#src-0-1"' in out


def test_reply_text_around_links_is_still_escaped() -> None:
    c = Citation(1, "d", "T", "q", 0, 1, 1.0)
    out = render_reply("<script>x</script> call 3114 <img src=x> [1] **b** 0 800 23 13 13",
                       "care", 0, [c], "en")
    assert "<script" not in out and "<img" not in out and "&lt;script&gt;" in out
    assert "\\*\\*b\\*\\*" in out and 'href="#src-0-1"' in out
    assert tel_numbers(out) == ["0800231313"]  # the line cites a document: no short number


# -- user links shown as text --------------------------------------------------------------------
@pytest.mark.parametrize("typed", USER_LINKS)
def test_user_links_are_plain_text(typed: str) -> None:
    out = render_user(typed, "en")
    # CommonMark reads it back as the typed characters, with no link, image or backslash.
    rendered = MarkdownIt("commonmark").render(out)
    assert "<a" not in rendered and "<img" not in rendered
    assert html.unescape(re.sub(r"</?p>", "", rendered)).strip() == typed
    # GFM (the chatbot's Markdown) also links bare addresses: none is left to find.
    assert "://" not in out and "www." not in out


def test_markdown_punctuation_and_latex_are_escaped() -> None:
    out = esc_md("$$x^2$$ and `code`")
    assert out == "\\$\\$x^2\\$\\$ and \\`code\\`"


# -- in the real app ------------------------------------------------------------------------------
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
browser = pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                             reason="headless Chromium not installed")


@pytest.fixture(scope="module")
def page(app_server: AppServer) -> Iterator[Any]:  # noqa: F811
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--no-first-run", f"--user-data-dir={profile}", "--window-size=1440,1100"):
        options.add_argument(arg)
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        drv.get(app_server.url)
        _wait(drv, lambda d: d.find_elements("css selector", "#question textarea"))
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(driver: Any, cond: Any, timeout: float = 60) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(cond)


def _ask(driver: Any, question: str) -> tuple[Any, Any]:
    """Send a question; (its user bubble, the finished reply)."""
    bots = "#chat [data-testid='bot']"
    before = len(driver.find_elements("css selector", bots))
    box = driver.find_element("css selector", "#question textarea")
    driver.execute_script("arguments[0].value = arguments[1];"
                          "arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
                          box, question)
    driver.find_element("css selector", "#ask-btn").click()
    _wait(driver, lambda d: len(d.find_elements("css selector", bots)) > before
          and d.find_elements("css selector", bots)[-1].text.strip() not in ("", "…"))
    busy = "#chat .pending, #chat .generating"
    _wait(driver, lambda d: not d.find_elements("css selector", busy))
    user = driver.find_elements("css selector", "#chat [data-testid='user']")[-1]
    return user, driver.find_elements("css selector", bots)[-1]


@pytest.mark.slow
@browser
def test_in_the_browser_user_links_show_as_typed(page: Any) -> None:
    typed = " ".join(USER_LINKS)
    user, _reply = _ask(page, typed)
    assert user.text.strip() == typed
    assert not user.find_elements("css selector", "img, a")


@pytest.mark.slow
@browser
def test_in_the_browser_numbers_dial_and_cards_fold_their_notes(page: Any) -> None:
    _user, reply = _ask(page, EMERGENCY_Q)
    links = [a.get_attribute("href") for a in reply.find_elements("css selector", "a.tel")]
    assert {"tel:15", "tel:112", "tel:0800231313"} <= set(links), links
    assert "\\" not in reply.text
    _user, reply = _ask(page, SITES_Q)
    page.execute_script("arguments[0].click()", reply.find_element("css selector", "a.cite"))
    card = _wait(page, lambda d: d.find_element("css selector", "#sources-panel .source.active"))
    fold = card.find_element("css selector", "details.src-details")
    assert fold.get_attribute("open") is None
    assert "Provenance and cleaning notes" in card.text
    assert "Unattributed" not in card.text  # folded away until opened
    page.execute_script("arguments[0].click()", fold.find_element("css selector", "summary"))
    _wait(page, lambda d: "Unattributed English text" in card.text)
    clip = card.find_element("css selector", "button.copy-quote").get_attribute("data-copy")
    assert "hidalgo-letter-castex, characters" in clip and "Seed" not in clip
