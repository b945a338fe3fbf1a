"""The chat's handlers on the real index: empty messages are not sent, an emergency is answered
by the unqueued triage (ahead of the queue), a reply grows in a few visible pieces, and the
feedback confirmation names the reply it saved."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from assistant.app.feedback import FeedbackStore
from assistant.app.handlers import Handlers
from assistant.service import stream_pieces

SKIP = gr.skip()
SITES_Q = "Which sites did Anne Hidalgo propose for crack users' care?"
EMERGENCY_Q = "my mate smoked a rock and now he won't wake up, his lips are blue"


@pytest.fixture()
def handlers(assistant: Any, tmp_path: Path) -> Handlers:
    return Handlers(assistant, FeedbackStore(tmp_path / "fb.sqlite3"), None)


def _state(chat: list[Any] | None = None) -> list[Any]:
    # (chat, history, turns, staff_ok, lang_choice, ui_lang)
    return [chat or [], [], [], True, "auto", "en"]


@pytest.mark.parametrize("message", ["", "   ", "\n\t ", None])
def test_an_empty_message_is_not_sent(handlers: Handlers, message: str | None) -> None:
    out = handlers.triage(message, *_state())
    assert out[-1] is None and all(o == SKIP for o in out[:-1])
    updates = list(handlers.respond(out[-1], *_state()))
    assert updates == [(SKIP,) * 9]


def test_an_emergency_is_answered_by_the_triage_at_once(handlers: Handlers) -> None:
    chat, box, history, turns, sources, alert, banner, _staff, lang, pending = \
        handlers.triage(EMERGENCY_Q, *_state())
    assert pending is None
    assert box == ""  # the question box is emptied
    assert [m["role"] for m in chat] == ["user", "assistant"]
    reply = chat[-1]["content"]
    assert "emergency-reply" in reply and "15" in reply
    assert 'role="alert"' in alert and "emergency" in banner
    assert turns[-1]["kind"] == "emergency" and len(history) == 2
    # The queued handler that follows does nothing: the reply is not given twice.
    assert list(handlers.respond(pending, *_state(chat))) == [(SKIP,) * 9]


def test_a_question_is_shown_at_once_and_left_to_the_queued_handler(
        handlers: Handlers) -> None:
    out = handlers.triage(SITES_Q, *_state())
    chat, box, pending = out[0], out[1], out[-1]
    assert pending == SITES_Q and box == ""
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert "Anne Hidalgo" in chat[0]["content"] and chat[1]["content"] == "…"
    assert all(o == SKIP for o in out[2:-1])


def _ask(handlers: Handlers, question: str) -> tuple[list[Any], list[str]]:
    """triage then respond, as the page chains them; each update and the reply text then."""
    out = handlers.triage(question, *_state())
    updates, texts = [], []
    for u in handlers.respond(out[-1], out[0], [], [], True, "auto", "en"):
        updates.append(u)  # the chat list is updated in place: its text is taken as it is now
        texts.append(u[0][-1]["content"])
    return updates, texts


def test_a_reply_grows_in_few_pieces_then_gets_its_citations(handlers: Handlers) -> None:
    updates, texts = _ask(handlers, SITES_Q)
    final = updates[-1]
    answer = final[3][-1]["text"]
    pieces = stream_pieces(answer, handlers.assistant.settings.ui.stream_piece_chars)
    assert len(pieces) >= 2, "the sites reply is several sentences long"
    # One update per piece (the last with its citations): not one per word.
    assert len(updates) == len(pieces)
    plain = [re.sub(r"\\(.)", r"\1", t) for t in texts[:-1]]
    for shorter, longer in zip(plain, plain[1:], strict=False):
        assert longer.startswith(shorter) and len(longer) > len(shorter)
    assert 'class="cite"' in texts[-1] and 'class="cite"' not in "".join(texts[:-1])
    assert 'class="source"' in final[4]  # the sources panel, once, with the finished reply
    assert all(u[4] == SKIP for u in updates[:-1])


def test_stream_pieces_join_to_the_reply_and_cut_after_sentences() -> None:
    text = ("Anne Hidalgo proposed four sites [1]. One of them is reserved for women [2]. "
            "Another would open in the 19th arrondissement, near Stalingrad, at night. Yes.")
    pieces = stream_pieces(text, 60)
    assert "".join(pieces) == text
    assert all(p.rstrip()[-1] in ".!?:…" for p in pieces)
    assert all(len(p) >= 60 for p in pieces[:-1])
    assert stream_pieces("", 60) == []


def test_feedback_confirmation_names_the_reply(handlers: Handlers) -> None:
    updates, _ = _ask(handlers, SITES_Q)
    turns = updates[-1][3]
    note, rating, flags, comment = handlers.send_feedback(
        turns, 0, "up", [], "good", "en", "en", request=None)
    assert "reply 1" in note and "Which sites did Anne Hidalgo" in note
    assert (rating, flags, comment) == (None, [], "")
    assert handlers.store.count() == 1


@pytest.mark.parametrize("message", [
    EMERGENCY_Q,
    "je crois que ma copine fait une overdose elle respire plus",
    "I have the pills lined up and I want to end it tonight",
    "x " * 3000 + " my friend is not breathing after smoking crack",  # past one window
])
def test_triage_gives_the_reply_ask_gives(assistant: Any, message: str) -> None:
    fast = assistant.triage(message)
    assert fast is not None and fast.kind == "emergency"
    full = assistant.ask(message)
    assert (fast.kind, fast.lang, fast.text) == (full.kind, full.lang, full.text)
    assert fast.trace["guard"]["kind"] == "emergency"


@pytest.mark.parametrize("message", [SITES_Q, "", "   ", "quel temps fait-il à Paris ?",
                                     "what should I do if a friend overdoses on crack?"])
def test_triage_leaves_everything_else_to_the_chain(assistant: Any, message: str) -> None:
    assert assistant.triage(message) is None


def test_staff_see_what_the_question_asks_and_what_each_quote_gives(assistant: Any) -> None:
    from assistant.app.staff import render_staff, turn_record

    answer = assistant.ask("How often are the Charonnes officers on call?")
    html = render_staff(turn_record(0, "q", answer, "r"))
    assert "question_asks" in html and "how_often" in html
    assert "gives frequency" in html
    assert answer.trace["answerer"]["sentences"][0]["answer_kind"] == "frequency"
