"""Written answers from the real language model, checked, on the dev questions.

Runs the real GGUF model in process (`local`) and through a real OpenAI-compatible server
process (`openai`). A missing model fails these tests with the command that fetches it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.evaluation import citations_valid, facts_ok, load_questions
from assistant.service import Assistant, Done, DraftDelta, TextDelta
from assistant.settings import Settings
from tests.conftest import DEV_QUESTIONS

pytestmark = pytest.mark.slow


def _with_backend(settings: Settings, backend: str, **llm: object) -> Settings:
    s = settings.model_copy(deep=True)
    s.llm.backend = backend
    for key, value in llm.items():
        setattr(s.llm, key, value)
    return s


@pytest.fixture(scope="module")
def local_assistant(corpus_settings: Settings, gguf_path: Path) -> Assistant:
    return Assistant(_with_backend(corpus_settings, "local", model_path=gguf_path),
                     build_index=False)


@pytest.fixture(scope="module")
def dev_replies(local_assistant: Assistant) -> list[tuple[object, object]]:
    questions = [q for q in load_questions(DEV_QUESTIONS) if q.expect in ("answer", "no_answer")]
    return [(q, local_assistant.ask(q.question, q.history or None)) for q in questions]


def test_answer_questions_get_their_facts_with_valid_citations(local_assistant, dev_replies):
    answered = [(q, a) for q, a in dev_replies if q.expect == "answer"]
    assert len(answered) >= 8
    misses = [(q.id, a.text) for q, a in answered if a.kind != "answer" or not facts_ok(q, a)]
    assert not misses
    for _, a in answered:
        assert citations_valid(a, local_assistant.documents)
        assert a.citations


def test_the_model_writes_most_answers_and_the_check_records_every_sentence(dev_replies):
    traces = [a.trace["written"] for q, a in dev_replies if q.expect == "answer"]
    written = [t for t in traces if not t["fallback"]]
    # The fallback to quotes exists, but the written answer must be the usual case.
    assert len(written) >= len(traces) // 2, [t["fallback"] for t in traces]
    for t in written:
        assert t["kept"] >= 1
        assert len(t["sentences"]) == t["kept"] + t["removed"]
        assert all(s["reason"] for s in t["sentences"])


def test_written_reply_text_is_the_checked_sentences_only(dev_replies):
    for q, a in dev_replies:
        t = a.trace.get("written")
        if not t or t["fallback"]:
            continue
        for s in t["sentences"]:
            if not s["kept"]:
                # A removed sentence never reaches the reply.
                assert s["text"].split("[")[0].strip() not in a.text, (q.id, s)


def test_unanswerable_questions_never_reach_the_model(dev_replies):
    unanswerable = [(q, a) for q, a in dev_replies if q.expect == "no_answer"]
    assert len(unanswerable) == 2
    for q, a in unanswerable:
        assert a.kind == "no_answer", (q.id, a.text)
        assert "written" not in a.trace
        assert not a.citations


def test_stream_shows_the_draft_then_the_checked_reply(local_assistant):
    events = list(local_assistant.stream("What does Charonnes hand out from his van?"))
    kinds = [type(e).__name__ for e in events]
    assert "DraftDelta" in kinds
    assert kinds.index("DraftDelta") < kinds.index("TextDelta")
    done = next(e for e in events if isinstance(e, Done)).answer
    draft = "".join(e.text for e in events if isinstance(e, DraftDelta))
    assert draft.strip() == done.trace["written"]["raw"].strip()
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == done.text


def test_the_chat_shows_the_draft_growing_then_the_checked_reply(local_assistant, tmp_path):
    """The chat handler on the real model: the draft appears piece by piece, marked as being
    checked, and the last update is the checked reply with its source links."""
    from assistant.app.feedback import FeedbackStore
    from assistant.app.handlers import Handlers

    h = Handlers(local_assistant, FeedbackStore(tmp_path / "fb.sqlite3"), None)
    q = "What does Charonnes hand out from his van?"
    out = h.triage(q, [], [], [], True, "auto", "en")
    shown = [u[0][-1]["content"] for u in h.respond(out[-1], out[0], [], [], True, "auto", "en")]
    drafts = [t for t in shown if 'class="draft"' in t]
    assert len(drafts) >= 2, "the draft is shown as the model writes it"
    assert all('class="cite"' not in t for t in drafts)  # unchecked text links to nothing
    assert len(drafts[-1]) > len(drafts[0])
    assert 'class="draft"' not in shown[-1] and 'class="cite"' in shown[-1]


def test_emergency_replies_do_not_wait_for_the_model(local_assistant):
    a = local_assistant.ask("My friend smoked crack and now he is not breathing")
    assert a.kind == "emergency"
    assert "written" not in a.trace
    assert "15" in a.text and "112" in a.text


def test_openai_backend_against_a_real_server(corpus_settings, openai_server):
    s = _with_backend(corpus_settings, "openai", base_url=openai_server)
    assistant = Assistant(s, build_index=False)
    q = next(q for q in load_questions(DEV_QUESTIONS) if q.id == "dev09")
    a = assistant.ask(q.question)
    assert a.kind == "answer"
    assert facts_ok(q, a), a.text
    assert citations_valid(a, assistant.documents)
    t = a.trace["written"]
    assert t["tokens_out"] and t["tokens_out"] > 0
    assert t["raw"]


def test_a_server_that_is_down_falls_back_to_quotes(corpus_settings):
    s = _with_backend(corpus_settings, "openai", base_url="http://127.0.0.1:9/v1",
                      timeout_s=5.0)
    assistant = Assistant(s, build_index=False)
    a = assistant.ask("What does Charonnes hand out from his van?")
    assert a.kind == "answer"
    assert "the language model failed" in a.trace["written"]["fallback"]
    assert "pipes" in a.text and a.citations


def test_draft_is_rendered_as_plain_unchecked_text():
    from assistant.app.render import render_draft

    html = render_draft("Eight places are open [1] <script>alert(1)</script>", "en")
    assert "<script>" not in html and "&lt;script" in html
    assert 'class="cite"' not in html  # no source links until the text is checked
    assert "Checking every sentence against its source" in html
    assert "Vérification" in render_draft("Huit lieux [1]", "fr")
