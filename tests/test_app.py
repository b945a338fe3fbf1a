"""The app over real HTTP, driven with gradio_client: cited answers, emergencies, feedback,
follow-ups, odd input and 16 simultaneous users."""

from __future__ import annotations

import json
import re
import sqlite3
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from gradio_client import Client

from assistant.app.render import (
    render_banner,
    render_reply,
    render_source_card,
    render_user,
)
from assistant.app.staff import render_staff
from assistant.ingest.indexing import read_documents
from assistant.models import Citation
from assistant.safety.care import CareDirectory
from assistant.settings import get_settings
from tests.conftest_ui import STAFF_PASSWORD, AppServer, app_server  # noqa: F401 - fixture

slow = pytest.mark.slow

DEV = Path("/work/shared/eval/dev_questions.jsonl")
SITES_Q = "Which sites did Anne Hidalgo propose for crack users' care?"
EMERGENCY_Q = "My friend smoked crack and now he is not breathing, what do I do?"


def dev_questions() -> list[dict[str, Any]]:
    if not DEV.exists():
        return [{"id": "dev01", "question": SITES_Q, "expect": "answer",
                 "facts": [["XXth", "20th"], ["Grands Boulevards"]]}]
    return [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def client(app_server: AppServer) -> Client:  # noqa: F811
    return Client(app_server.url, verbose=False)


def ask(client: Client, question: str, history: list[dict[str, str]] | None = None,
        *, staff: bool = True) -> dict:
    """/ask; as staff (with the password) the reply also carries the rewritten question."""
    return client.predict(question, history, STAFF_PASSWORD if staff else "", api_name="/ask")


@slow
def test_named_endpoints_are_exposed(client: Client) -> None:
    names = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/ask", "/feedback"} <= set(names)


@slow
def test_dev_question_returns_cited_text(client: Client) -> None:
    reply = ask(client, SITES_Q)
    assert reply["kind"] == "answer"
    assert reply["citations"], reply
    assert "[1]" in reply["text"]
    assert "Grands Boulevards" in reply["text"]
    documents = read_documents(get_settings().paths.index_dir)
    for c in reply["citations"]:
        # Each citation is an exact slice of a cleaned document and is quoted in the reply.
        assert documents[c["doc_id"]]["text"][c["start"]: c["end"]] == c["quote"]
        assert c["quote"] in reply["text"]
        assert f"[{c['n']}]" in reply["text"]
    assert reply["reply_id"]
    assert reply["rewritten"] == SITES_Q


@slow
def test_every_answerable_dev_question_is_cited(client: Client) -> None:
    answerable = [q for q in dev_questions() if q["expect"] == "answer"]
    for q in answerable:
        reply = ask(client, q["question"])
        assert reply["kind"] == "answer", (q["id"], reply["text"])
        assert reply["citations"], q["id"]
        assert re.search(r"\[\d+\]", reply["text"]), q["id"]


@slow
def test_emergency_reply_starts_with_the_numbers_to_call(client: Client) -> None:
    reply = ask(client, EMERGENCY_Q)
    assert reply["kind"] == "emergency"
    first_line = reply["text"].splitlines()[0]
    assert re.match(r"^\W*(Call|Appelez)\b[^.]{0,20}\b15\b", first_line), first_line
    assert "112" in first_line
    assert not reply["citations"]


@slow
def test_feedback_lands_in_sqlite(client: Client, app_server: AppServer) -> None:  # noqa: F811
    reply = ask(client, SITES_Q)
    result = client.predict(reply["reply_id"], "down", True, False, "gradio_client feedback test",
                            api_name="/feedback")
    assert result["ok"] is True
    conn = sqlite3.connect(app_server.db_path)
    try:
        row = conn.execute(
            "SELECT rating, wrong_source, missing_information, comment, question, reply, kind, "
            "citations, source FROM feedback WHERE id = ?", (result["id"],),
        ).fetchone()
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()
    assert mode == "wal"
    rating, wrong, missing, comment, question, text, kind, citations, source = row
    assert (rating, wrong, missing, comment) == ("down", 1, 0, "gradio_client feedback test")
    assert question == SITES_Q
    assert text == reply["text"]
    assert kind == "answer"
    assert "hidalgo" in citations
    assert source == "api"


@slow
def test_empty_feedback_and_bad_rating_are_refused(client: Client) -> None:
    reply_id = ask(client, SITES_Q, staff=False)["reply_id"]
    assert client.predict(reply_id, "", False, False, "", api_name="/feedback")["ok"] is False
    bad = client.predict(reply_id, "meh", False, False, "", api_name="/feedback")
    assert bad["ok"] is False and "rating" in bad["error"]


@slow
def test_follow_up_is_rewritten_with_history(client: Client) -> None:
    first = ask(client, SITES_Q)
    history = [{"role": "user", "content": SITES_Q},
               {"role": "assistant", "content": first["text"]}]
    reply = ask(client, "and in the 19th?", history)
    assert reply["rewritten"] == "Which sites did Anne Hidalgo propose for crack users' care " \
        "in the 19th?"
    assert reply["kind"] == "answer"
    assert "19th" in reply["text"]


@slow
@pytest.mark.parametrize(
    ("message", "expect"),
    [
        ("", ["type a question"]),
        ("   \n\t  ", ["type a question", "no text"]),
        ("x" * 20_000, ["20,000 characters"]),
        ("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f\x10\x11", ["no text", "type"]),
        ("<script>alert('x')</script><img src=x onerror=alert(1)>", None),
    ],
    ids=["empty", "whitespace", "20k", "binary", "html"],
)
@slow
def test_odd_messages_get_a_clear_reply(client: Client, message: str,
                                        expect: list[str] | None) -> None:
    reply = ask(client, message)
    assert reply["text"].strip()
    assert not reply["citations"]
    if expect:
        assert any(e in reply["text"] for e in expect), reply["text"]


@slow
def test_page_config_has_care_banner_with_last_checked_date(app_server: AppServer) -> None:  # noqa: F811
    with urllib.request.urlopen(app_server.url + "config", timeout=10) as resp:
        config = resp.read().decode("utf-8")
    for needle in ("0 800 23 13 13", "15 / 112", "3114", "Drogues Info Service"):
        assert needle in config
    assert re.search(r"checked \d{4}-\d{2}-\d{2}", config)


@slow
def test_sixteen_simultaneous_users(app_server: AppServer) -> None:  # noqa: F811
    questions = [q["question"] for q in dev_questions()][:16]
    questions += [SITES_Q] * (16 - len(questions))

    def user(q: str) -> dict:
        return Client(app_server.url, verbose=False).predict(q, None, api_name="/ask")

    with ThreadPoolExecutor(max_workers=16) as pool:
        replies = list(pool.map(user, questions))
    assert len(replies) == 16
    assert all(r["text"].strip() for r in replies)
    assert sum(r["kind"] == "answer" for r in replies) >= 8


# -- rendering (no server): nothing typed or quoted becomes live HTML --------------------------
SCRIPT = "<script>alert('x')</script><img src=x onerror=alert(1)>"


def test_user_text_is_escaped_not_rendered() -> None:
    out = render_user(SCRIPT + " **bold** [link](javascript:alert(1))", "en")
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;" in out
    assert "\\*\\*bold\\*\\*" in out  # Markdown is shown as typed, not applied
    assert "\\[link\\]\\(javascript" in out


def test_long_user_text_is_shortened_with_a_note() -> None:
    out = render_user("x" * 20_000, "en")
    assert len(out) < 2_000
    assert "20,000 characters" in out


def test_reply_citations_link_to_the_sources_panel_and_text_is_escaped() -> None:
    c = Citation(1, "doc", "Title", "quote", 0, 5, 0.9)
    out = render_reply(f"A {SCRIPT} quote [1] and [7].", "answer", 3, [c], "en")
    assert '<a class="cite" href="#src-3-1"' in out
    assert "[7]" not in out.replace("\\[7\\]", "")  # unknown numbers stay text, escaped
    assert "<script" not in out and "<img" not in out


def test_emergency_reply_is_framed() -> None:
    out = render_reply("Call 15 (SAMU) or 112 now.", "emergency", 0, [], "en")
    assert out.startswith('<div class="emergency-reply">')
    assert "EMERGENCY" in out


def test_source_card_escapes_document_text_and_highlights_the_passage() -> None:
    text = "Before <b>bold</b> text. The cited <script>x</script> passage. After it."
    start = text.index("The cited")
    end = text.index(" After")
    c = Citation(2, "doc-1", "T", text[start:end], start, end, 0.5)
    doc = {"title": "A <i>title</i>", "text": text, "published": "2021",
           "source": "Le Monde", "provenance": "copied"}
    card = render_source_card(0, c, doc, "en")
    assert 'id="src-0-2"' in card
    assert "<script>" not in card and "<b>" not in card and "<i>" not in card
    assert '<mark class="quote">The cited &lt;script&gt;x&lt;/script&gt; passage.</mark>' in card
    assert "Before &lt;b&gt;bold&lt;/b&gt; text." in card  # surrounding text
    assert "Le Monde" in card and "2021" in card and "copied" in card


def test_banner_lists_the_care_numbers_and_last_checked_date() -> None:
    care = CareDirectory.load(get_settings().paths.care_directory)
    html = render_banner(SimpleNamespace(care=care), "fr")  # type: ignore[arg-type]
    for needle in ("Drogues Info Service", "0 800 23 13 13", "15 / 112", "3114"):
        assert needle in html
    assert f"vérifié le {care.last_checked}" in html


def test_staff_view_shows_scores_rewrite_and_timings() -> None:
    turn = {
        "question": "and in the 19th?", "kind": "answer", "lang": "en",
        "citations": [{"doc_id": "d", "start": 10}],
        "passages": [{"doc_id": "d", "chunk_id": "d:0001", "text": "<b>x</b>", "start": 0,
                      "end": 50, "score": 0.6275, "dense": 0.61, "bm25": 7.25,
                      "dense_rank": 1, "bm25_rank": 2, "fused": 0.0328, "coverage": 0.645}],
        "timings_ms": {"guard": 3.0, "total": 120.5},
        "trace": {"guard": {"kind": "pass", "reasons": ["no rule fired"]},
                  "rewrite": {"question": "Which sites in the 19th?", "why": "follow-up"}},
    }
    out = render_staff(turn)
    for needle in ("pass", "no rule fired", "Which sites in the 19th?", "0.6100", "7.2500",
                   "0.0328", "0.6450", "0.6275", "120.5 ms", 'class="cited"'):
        assert needle in out
    assert "<b>x</b>" not in out


def test_the_app_imports_gradio_without_its_stub_writer() -> None:
    """In a fresh interpreter, as `serve` runs: gradio's `.pyi` writer (a developer tool
    that parses every component's source at each import) is replaced, and components work."""
    import subprocess
    import sys

    code = (
        "import assistant.app.layout\n"
        "import gradio.component_meta as meta\n"
        "from assistant.app.gradio_import import gr\n"
        "with gr.Blocks() as demo:\n"
        "    box = gr.Textbox(label='Your question')\n"
        "print(meta.create_or_modify_pyi.__name__, type(box).__name__, "
        "box.label, box._id in demo.blocks)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()
    assert out == ["_no_stubs", "Textbox", "Your", "question", "True"]
