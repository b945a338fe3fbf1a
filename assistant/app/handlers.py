"""What the app does when a person acts: ask, clear, judge a reply, unlock the staff view,
change language; and the two public API endpoints ("ask", "feedback").

The handlers hold no layout: `layout.py` builds the page and wires these methods to it.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from assistant.app.feedback import Feedback, FeedbackStore, FeedbackUnavailable
from assistant.app.gradio_import import gr
from assistant.app.limits import Lane, RateLimiter, client_key
from assistant.app.render import (
    T,
    esc_md,
    phones_of,
    render_banner,
    render_draft,
    render_emergency_alert,
    render_reply,
    render_sources,
    render_user,
)
from assistant.app.staff import render_staff, turn_record
from assistant.service import Assistant, Done, DraftDelta, Evidence, TextDelta

log = logging.getLogger(__name__)

LIKE, DISLIKE = "Like", "Dislike"
WRONG_SOURCE, MISSING_INFO = "Wrong source", "Missing information"


class RecentReplies:
    """reply_id -> summary, so API feedback can name a reply by id (bounded, thread-safe)."""

    def __init__(self, size: int = 2000) -> None:
        self._d: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def put(self, reply_id: str, record: dict[str, Any]) -> None:
        with self._lock:
            self._d[reply_id] = record
            while len(self._d) > self._size:
                self._d.popitem(last=False)

    def get(self, reply_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._d.get(reply_id)


def feedback_from_record(record: dict[str, Any] | None, **kw: Any) -> Feedback:
    """Feedback on a stored reply; the caller's fields fill in when the reply is not known."""
    r = record or {}
    return Feedback(
        reply_id=r.get("reply_id", kw.pop("reply_id", "")),
        question=r.get("question", kw.pop("question", "")),
        rewritten=r.get("rewritten", ""),
        reply=r.get("text", kw.pop("reply", "")),
        kind=r.get("kind", ""),
        lang=r.get("lang", ""),
        citations=r.get("citations", []),
        **{k: v for k, v in kw.items() if k not in ("reply_id", "question", "reply")},
    )


def effective_lang(choice: str, detected: str) -> str:
    return choice if choice in ("en", "fr") else (detected or "en")


def _turn_for_index(turns: list[dict[str, Any]], index: Any) -> dict[str, Any] | None:
    # Chat messages alternate user/assistant, two per turn.
    i = index[0] if isinstance(index, list | tuple) else index
    if not isinstance(i, int) or not turns:
        return None
    t = i // 2
    return turns[t] if 0 <= t < len(turns) else None


def _thanks(record: dict[str, Any], lang: str) -> str:
    """The confirmation names the reply by its number and its question, so a person sees
    which judgement was saved."""
    q = " ".join(str(record.get("question", "")).split())
    q = q if len(q) <= 60 else q[:57].rstrip() + "…"
    return esc_md(T[lang]["fb_thanks"].format(n=record["turn"] + 1, q=q))


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", "") or ""


class Handlers:
    """Every event handler, sharing one Assistant, one feedback store and the reply log."""

    def __init__(self, assistant: Assistant, store: FeedbackStore,
                 password: str | None) -> None:
        self.assistant = assistant
        self.store = store
        self.password = password
        self.recent = RecentReplies()
        self.documents = assistant.documents
        limits = assistant.settings.limits
        self.limits = limits
        self.ask_rate = RateLimiter(limits.ask_per_minute)
        self.feedback_rate = RateLimiter(limits.feedback_per_minute)
        self.unlock_rate = RateLimiter(limits.unlock_per_minute)
        self.lane = Lane(assistant.settings.ui.concurrency_limit)
        self._language_outputs = len(self.apply_language("en", "en", [], ""))
        self.phones = phones_of(assistant.care)  # tel: links, only for checked numbers

    def _password_ok(self, given: str | None, request: gr.Request | None) -> bool:
        """The staff password; wrong tries are counted per client, and past the limit no
        password is checked for that client until the minute has passed."""
        if self.password is None:
            return True
        key = client_key(request)
        if self.unlock_rate.exhausted(key):
            return False
        ok = hmac.compare_digest((given or "").encode("utf-8"), self.password.encode("utf-8"))
        if not ok:
            self.unlock_rate.allow(key)
        return ok

    def _emergency(self, message: str) -> Any:
        """The emergency reply (guard only, no retrieval) when the message is one, else None:
        an emergency never waits for a slot or a rate limit."""
        try:
            return self.assistant.triage(message)
        except Exception:  # the full chain still reads the message and answers it
            log.exception("triage failed on a message of %d characters", len(message))
            return None

    # -- chat ----------------------------------------------------------------------------------
    def triage(
        self,
        message: str | None,
        chat: list[dict[str, Any]] | None,
        history: list[dict[str, str]] | None,
        turns: list[dict[str, Any]] | None,
        staff_ok: bool,
        lang_choice: str,
        ui_lang: str,
    ) -> tuple[Any, ...]:
        """Unqueued, so it runs at once however many questions wait for a worker: the
        person's message is shown with a placeholder, and an emergency is answered here,
        ahead of the queue. An empty message is not sent. The last output is the message
        `respond` still has to answer (None when there is nothing left to do)."""
        skip = gr.skip()
        message = "" if message is None else str(message)
        if not message.strip():
            return (skip,) * 9 + (None,)
        chat, history, turns = list(chat or []), list(history or []), list(turns or [])
        lang = effective_lang(lang_choice, ui_lang)
        answer = self._emergency(message)
        if answer is None:
            chat.append({"role": "user", "content": render_user(message, lang)})
            chat.append({"role": "assistant", "content": "…"})
            return (chat, "", *(skip,) * 7, message)
        lang = effective_lang(lang_choice, answer.lang)
        chat.append({"role": "user", "content": render_user(message, lang)})
        chat.append({"role": "assistant", "content": ""})
        out = self._finish(message, answer, [], chat, history, turns, lang)
        return (out[0], "", *out[2:], None)

    def respond(
        self,
        pending: str | None,
        chat: list[dict[str, Any]] | None,
        history: list[dict[str, str]] | None,
        turns: list[dict[str, Any]] | None,
        staff_ok: bool,
        lang_choice: str,
        ui_lang: str,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio fills it in
    ) -> Iterator[tuple[Any, ...]]:
        """Queued, after `triage` (which showed the message and a placeholder): the reply to
        `pending`. Chat outputs: (chatbot, box, history, turns, sources, alert, banner,
        staff, lang)."""
        skip = gr.skip()
        if pending is None:  # answered by `triage`, or nothing to send
            yield (skip,) * 9
            return
        message = str(pending)
        chat, history, turns = list(chat or []), list(history or []), list(turns or [])
        lang = effective_lang(lang_choice, ui_lang)
        n = len(turns)
        if not self.ask_rate.allow(client_key(request)) and self._emergency(message) is None:
            chat[-1]["content"] = esc_md(T[lang]["too_fast"])
            yield chat, skip, skip, skip, skip, skip, skip, skip, skip
            return
        events: list[Any] = []
        try:
            for update in self._collect(message, history, events, chat, lang):
                yield update, skip, skip, skip, skip, skip, skip, skip, skip
        except Exception:
            log.exception("the assistant failed on a message of %d characters", len(message))
            chat[-1]["content"] = esc_md(T[lang]["error"])
            yield chat, skip, skip, skip, skip, skip, skip, skip, skip
            return
        answer = next(e for e in events if isinstance(e, Done)).answer
        lang = effective_lang(lang_choice, answer.lang)
        if answer.kind != "emergency":  # an emergency is shown whole, at once, framed
            for shown in self._paced(events):
                chat[-1]["content"] = render_reply(shown, answer.kind, n, [], lang,
                                                   phones=self.phones)
                yield chat, skip, skip, skip, skip, skip, skip, skip, skip
        citations = next((e.citations for e in events if isinstance(e, Evidence)), [])
        yield self._finish(message, answer, citations, chat, history, turns, lang)

    def _paced(self, events: list[Any]) -> Iterator[str]:
        """The reply growing piece by piece (the Assistant's TextDelta pieces, a sentence or
        so each), spaced so a person sees it arrive."""
        interval = self.assistant.settings.ui.stream_interval_ms / 1000
        pieces = [e.text for e in events if isinstance(e, TextDelta)]
        shown = ""
        for i, piece in enumerate(pieces[:-1]):  # the last piece comes with the citations
            shown += piece
            if i:
                time.sleep(interval)
            yield shown
        if len(pieces) > 1:
            time.sleep(interval)

    def _finish(self, message: str, answer: Any, citations: list[Any],
                chat: list[dict[str, Any]], history: list[dict[str, str]],
                turns: list[dict[str, Any]], lang: str) -> tuple[Any, ...]:
        """The whole reply with its citations, and everything that changes once per reply:
        the conversation, the sources panel, the alert and banner, the staff view."""
        n = len(turns)
        emergency = answer.kind == "emergency"
        chat[-1]["content"] = render_reply(answer.text, answer.kind, n, citations, lang,
                                           phones=self.phones)
        reply_id = uuid.uuid4().hex
        record = turn_record(n, message, answer, reply_id)
        self.recent.put(reply_id, record)
        turns.append(record)
        history += [{"role": "user", "content": message},
                    {"role": "assistant", "content": answer.text}]
        alert = render_emergency_alert(self.assistant, lang) if emergency else ""
        return (chat, gr.skip(), history, turns, render_sources(turns, self.documents, lang),
                alert, render_banner(self.assistant, lang, emergency=emergency),
                gr.skip(), answer.lang)  # the staff view: once, by refresh_staff

    def _collect(self, message: str, history: list[dict[str, str]], events: list[Any],
                 chat: list[dict[str, Any]], lang: str) -> Iterator[list[dict[str, Any]]]:
        """Gather the Assistant's events; yield the chat whenever a model's draft grows.

        The reply's kind (known at Done) decides how the reply is shown, so events are gathered
        first: an emergency is shown whole and at once, never trickled in. A model's draft is
        shown as it is written, marked unchecked; the checked reply replaces it, so no
        unsupported sentence stays on screen.
        """
        draft = ""
        for ev in self.assistant.stream(message, history):
            events.append(ev)
            if isinstance(ev, DraftDelta):
                draft += ev.text
                chat[-1]["content"] = render_draft(draft, lang)
                yield chat

    def clear(self, lang_choice: str, ui_lang: str) -> tuple[Any, ...]:
        lang = effective_lang(lang_choice, ui_lang)
        return ([], "", [], [], render_sources([], self.documents, lang), "",
                render_banner(self.assistant, lang), None, "")

    # -- feedback ------------------------------------------------------------------------------
    def on_like(self, turns: list[dict[str, Any]], lang_choice: str, ui_lang: str,
                data: gr.LikeData, request: gr.Request) -> tuple[Any, Any]:
        lang = effective_lang(lang_choice, ui_lang)
        record = _turn_for_index(turns or [], data.index)
        if record is None:
            return gr.skip(), gr.skip()
        liked = data.liked
        fb = feedback_from_record(
            record,
            rating="up" if liked is True or liked == LIKE else
            "down" if liked is False or liked == DISLIKE else "",
            wrong_source=liked == WRONG_SOURCE,
            missing_information=liked == MISSING_INFO,
            session=_session(request),
            source="ui",
        )
        if fb.is_empty():  # a thumb taken back: the person's rating is cleared
            try:
                self.store.withdraw_rating(fb.session, fb.reply_id)
            except FeedbackUnavailable:
                return record["turn"], T[lang]["fb_unsaved"]
            return record["turn"], ""
        problem = self._store(fb, request, lang)
        return record["turn"], problem or _thanks(record, lang)

    def _store(self, fb: Feedback, request: gr.Request | None, lang: str) -> str:
        """Save one piece of feedback; the message to show when it could not be saved."""
        if not self.feedback_rate.allow(client_key(request)):
            return T[lang]["too_fast"]
        fb.comment = fb.comment[: self.limits.feedback_comment_chars]
        try:
            self.store.add(fb)
        except FeedbackUnavailable:
            return T[lang]["fb_unsaved"]
        return ""

    def send_feedback(self, turns: list[dict[str, Any]], target: int | None, rating: str | None,
                      flags: list[str] | None, comment: str | None, lang_choice: str,
                      ui_lang: str, request: gr.Request) -> tuple[Any, ...]:
        lang = effective_lang(lang_choice, ui_lang)
        turns = turns or []
        if not turns:
            return T[lang]["fb_no_reply"], gr.skip(), gr.skip(), gr.skip()
        record = turns[target] if isinstance(target, int) and 0 <= target < len(turns) \
            else turns[-1]
        flags = flags or []
        fb = feedback_from_record(
            record, rating=rating or "", wrong_source="wrong_source" in flags,
            missing_information="missing_information" in flags, comment=comment or "",
            session=_session(request), source="ui",
        )
        if fb.is_empty():
            return T[lang]["fb_nothing"], gr.skip(), gr.skip(), gr.skip()
        problem = self._store(fb, request, lang)
        if problem:
            return problem, gr.skip(), gr.skip(), gr.skip()
        return _thanks(record, lang), None, [], ""

    # -- staff ---------------------------------------------------------------------------------
    def unlock(self, pw: str | None, turns: list[dict[str, Any]],
               request: gr.Request = None) -> tuple[Any, ...]:  # type: ignore[assignment]
        if not self._password_ok(pw, request):
            return False, "Wrong password (tries are limited per minute).", \
                gr.update(visible=False), "", None
        last = (turns or [None])[-1]
        note = "Unlocked." if self.password else "No staff password is set " \
            "(ASSISTANT_UI__STAFF_PASSWORD): the staff view is open."
        return True, note, gr.update(visible=True), render_staff(last), \
            (last or {}).get("trace")

    def refresh_staff(self, staff_ok: bool, turns: list[dict[str, Any]]) -> tuple[Any, Any]:
        if not staff_ok:
            return gr.skip(), gr.skip()
        last = (turns or [None])[-1]
        return render_staff(last), (last or {}).get("trace")

    # -- language ------------------------------------------------------------------------------
    def apply_language(self, lang_choice: str, ui_lang: str, turns: list[dict[str, Any]],
                       emergency: str) -> tuple[Any, ...]:
        """New text for every labelled component, in `layout.language_outputs` order."""
        lang = effective_lang(lang_choice, ui_lang)
        t = T[lang]
        last_kind = (turns or [{}])[-1].get("kind") if turns else None
        return (
            t["title"],
            render_banner(self.assistant, lang, emergency=last_kind == "emergency"),
            gr.update(placeholder=t["placeholder"], label=t["question_label"]),
            gr.update(value=t["ask"]),
            gr.update(value=t["clear"]),
            f"**{t['public']}**",
            f"**{t['journalists']}**",
            *[gr.update(value=q) for q in t["examples_public"]],
            *[gr.update(value=q) for q in t["examples_journalists"]],
            gr.update(label=t["rating"], choices=t["rating_choices"]),
            gr.update(label=t["flags"], choices=t["flag_choices"]),
            gr.update(label=t["comment"]),
            gr.update(value=t["send_feedback"]),
            render_sources(turns or [], self.documents, lang),
            render_emergency_alert(self.assistant, lang) if emergency else "",
            gr.update(label=t["lang"]),
            gr.update(label=t["tab_chat"]),
            gr.update(label=t["tab_staff"]),
            gr.update(label=t["feedback"]),
            t["staff_intro"],
            gr.update(label=t["staff_password"]),
            gr.update(value=t["unlock"]),
            gr.update(label=t["trace"]),
            lang,
        )

    def follow_language(self, lang_choice: str, ui_lang: str, shown_lang: str,
                        turns: list[dict[str, Any]], emergency: str) -> tuple[Any, ...]:
        """After a reply: relabel the page only when the reply changed its language (most
        replies do not, and relabelling re-renders every component)."""
        if effective_lang(lang_choice, ui_lang) == shown_lang:
            return (gr.skip(),) * self._language_outputs
        return self.apply_language(lang_choice, ui_lang, turns, emergency)

    # -- API endpoints -------------------------------------------------------------------------
    def ask(self, question: str, history: list[dict[str, str]] | None = None,
            staff_password: str = "", request: gr.Request = None,  # type: ignore[assignment]
            ) -> dict[str, Any]:
        """Ask a question; returns the reply JSON (kind, lang, text, citations, retrieved,
        resources, timings_ms) and reply_id (for feedback). With the staff password, also the
        rewritten question and the trace."""
        question = question if isinstance(question, str) else ""
        # An emergency is answered at once, by the guard alone: never behind the questions
        # waiting for a slot, never rate-limited.
        answer = self._emergency(question)
        if answer is None and not self.ask_rate.allow(client_key(request)):
            return {"kind": "out_of_scope", "lang": "en", "text": T["en"]["too_fast"],
                    "citations": [], "retrieved": [], "resources": [], "timings_ms": {},
                    "error": "rate_limited"}
        if answer is None:
            try:
                with self.lane:
                    answer = self.assistant.ask(question, history)
            except TimeoutError:
                return {"kind": "out_of_scope", "lang": "en", "text": T["en"]["busy"],
                        "citations": [], "retrieved": [], "resources": [], "timings_ms": {},
                        "error": "busy"}
        reply_id = uuid.uuid4().hex
        record = turn_record(0, question, answer, reply_id)
        self.recent.put(reply_id, record)
        out = {**answer.to_json(), "reply_id": reply_id}
        if staff_password and self.password and self._password_ok(staff_password, request):
            out |= {"rewritten": record["rewritten"], "trace": record["trace"]}
        return out

    def feedback(
        self,
        reply_id: str = "",
        rating: str = "",
        wrong_source: bool = False,
        missing_information: bool = False,
        comment: str = "",
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> dict[str, Any]:
        """Store feedback on a reply this server gave (reply_id from "ask"); rating is "up",
        "down" or ""."""
        record = self.recent.get(reply_id) if isinstance(reply_id, str) else None
        if record is None:
            return {"ok": False, "error": "unknown reply_id: feedback is about a reply this "
                    "server gave (the reply_id that /ask returned)"}
        try:
            fb = feedback_from_record(
                record, rating=rating or "", wrong_source=bool(wrong_source),
                missing_information=bool(missing_information),
                comment=str(comment or ""), source="api",
            )
        except ValueError as exc:
            return {"ok": False, "error": str(exc)}
        if fb.is_empty():
            return {"ok": False, "error": "give a rating, a flag or a comment"}
        if not self.feedback_rate.allow(client_key(request)):
            return {"ok": False, "error": "rate_limited"}
        fb.comment = fb.comment[: self.limits.feedback_comment_chars]
        try:
            return {"ok": True, "id": self.store.add(fb), "reply_id": fb.reply_id}
        except FeedbackUnavailable as exc:
            return {"ok": False, "error": f"feedback could not be saved: {exc}"}
