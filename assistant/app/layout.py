"""The page: a care banner, the chat with its examples and feedback form, the sources panel,
and the staff tab; and the wiring of each control to its handler (`handlers.py`).

Named API endpoints (for gradio_client): "ask" returns the reply JSON, "feedback" stores
feedback on a reply.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from assistant.app.feedback import FeedbackStore, default_db_path
from assistant.app.gradio_import import gr
from assistant.app.handlers import (
    DISLIKE,
    LIKE,
    MISSING_INFO,
    WRONG_SOURCE,
    Handlers,
)
from assistant.app.render import T, render_banner, render_sources
from assistant.app.staff import render_staff
from assistant.service import Assistant
from assistant.settings import Settings

PRIVATE: dict[str, Any] = {"api_visibility": "private"}


def build_app(
    assistant: Assistant,
    settings: Settings | None = None,
    feedback_store: FeedbackStore | None = None,
) -> gr.Blocks:
    """The Blocks app; `server.serve()` adds the queue, CSS and JS and launches it."""
    settings = settings or assistant.settings
    store = feedback_store or FeedbackStore(default_db_path(settings.paths.data_dir))
    password = settings.ui.staff_password or None
    h = Handlers(assistant, store, password)
    with gr.Blocks(title="Paris crack policy & care assistant", fill_width=True) as demo:
        ui = SimpleNamespace(
            history=gr.State([]), turns=gr.State([]), staff_ok=gr.State(password is None),
            ui_lang=gr.State("en"), fb_target=gr.State(None), pending=gr.State(None),
            shown_lang=gr.State("en"),
        )
        _header(ui, assistant)
        t = T["en"]
        with gr.Tabs():
            with gr.Tab(t["tab_chat"], id="chat") as ui.tab_chat, gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    _chat(ui)
                    _examples(ui)
                    _feedback_form(ui)
                with gr.Column(scale=2):
                    ui.sources = gr.HTML(render_sources([], assistant.documents, "en"),
                                         elem_id="sources-panel", js_on_load=None)
            with gr.Tab(t["tab_staff"], id="staff") as ui.tab_staff:
                _staff_tab(ui, password)
        _wire_chat(ui, h, settings.ui.concurrency_limit)
        _wire_controls(ui, h)
        # No limit in Gradio's queue (API clients always come through it): the handler's own
        # lane holds questions to the workers' number, and an emergency is answered at once,
        # ahead of every question waiting.
        gr.api(h.ask, api_name="ask", queue=False, concurrency_limit=None)
        gr.api(h.feedback, api_name="feedback", concurrency_id="feedback", concurrency_limit=4)
    return demo


# -- sections ----------------------------------------------------------------------------------
def _header(ui: SimpleNamespace, assistant: Assistant) -> None:
    t = T["en"]
    ui.banner = gr.HTML(render_banner(assistant, "en"), elem_id="care-banner", js_on_load=None)
    with gr.Row(equal_height=False):
        ui.title = gr.Markdown(t["title"], elem_id="title")
        ui.lang_choice = gr.Radio(
            [("Auto", "auto"), ("English", "en"), ("Français", "fr")], value="auto",
            label=t["lang"], elem_id="lang-choice", scale=0, min_width=340,
        )


def _chat(ui: SimpleNamespace) -> None:
    t = T["en"]
    ui.alert = gr.HTML("", elem_id="emergency-alert", js_on_load=None)
    ui.chatbot = gr.Chatbot(
        elem_id="chat", height=520, show_label=False,
        feedback_options=(LIKE, DISLIKE, WRONG_SOURCE, MISSING_INFO),
        sanitize_html=True, allow_tags=False, render_markdown=True,
        buttons=["copy"], autoscroll=True,
    )
    with gr.Row():
        # The label stays visually hidden (the placeholder says what to type) but names the
        # box for screen readers; without it Gradio names it "Textbox".
        ui.msg = gr.Textbox(
            label=t["question_label"], show_label=False, placeholder=t["placeholder"], lines=1,
            max_lines=6, scale=6, elem_id="question", autofocus=True,
        )
        ui.send = gr.Button(t["ask"], variant="primary", scale=1, elem_id="ask-btn",
                            min_width=90)
        ui.clear_btn = gr.Button(t["clear"], scale=1, min_width=90, elem_id="clear-btn")
    # Outside the folded form: a thumb on a reply must show its thank-you.
    ui.fb_note = gr.Markdown("", elem_id="fb-note")


def _examples(ui: SimpleNamespace) -> None:
    t = T["en"]
    ui.pub_head = gr.Markdown(f"**{t['public']}**", elem_classes=["example-heading"])
    with gr.Row():
        ui.pub_btns = [gr.Button(q, size="sm", elem_classes=["example"])
                       for q in t["examples_public"]]
    ui.jour_head = gr.Markdown(f"**{t['journalists']}**", elem_classes=["example-heading"])
    with gr.Row():
        ui.jour_btns = [gr.Button(q, size="sm", elem_classes=["example"])
                        for q in t["examples_journalists"]]


def _feedback_form(ui: SimpleNamespace) -> None:
    t = T["en"]
    with gr.Accordion(t["feedback"], open=False, elem_id="feedback") as ui.feedback_box:
        ui.rating = gr.Radio(t["rating_choices"], label=t["rating"], value=None,
                             elem_id="fb-rating")
        ui.flags = gr.CheckboxGroup(t["flag_choices"], label=t["flags"], elem_id="fb-flags")
        ui.comment = gr.Textbox(label=t["comment"], lines=2, max_lines=6, elem_id="fb-comment")
        ui.fb_send = gr.Button(t["send_feedback"], elem_id="fb-send")


def _staff_tab(ui: SimpleNamespace, password: str | None) -> None:
    t = T["en"]
    ui.staff_intro = gr.Markdown(t["staff_intro"])
    with gr.Row(visible=password is not None):
        ui.pw = gr.Textbox(label=t["staff_password"], type="password", scale=3,
                           elem_id="staff-password")
        ui.unlock_btn = gr.Button(t["unlock"], scale=1, elem_id="staff-unlock")
    ui.staff_note = gr.Markdown("" if password else
                                "No staff password is set: the staff view is open.")
    with gr.Column(visible=password is None) as staff_box:
        ui.staff_html = gr.HTML(render_staff(None), elem_id="staff-view", js_on_load=None)
        with gr.Accordion(t["trace"], open=False) as ui.trace_box:
            ui.staff_json = gr.JSON(label="trace")
    ui.staff_box = staff_box


# -- wiring ------------------------------------------------------------------------------------
def language_outputs(ui: SimpleNamespace) -> list[Any]:
    """The components `Handlers.apply_language` relabels, in its return order."""
    return [ui.title, ui.banner, ui.msg, ui.send, ui.clear_btn, ui.pub_head, ui.jour_head,
            *ui.pub_btns, *ui.jour_btns, ui.rating, ui.flags, ui.comment, ui.fb_send,
            ui.sources, ui.alert, ui.lang_choice, ui.tab_chat, ui.tab_staff, ui.feedback_box,
            ui.staff_intro, ui.pw, ui.unlock_btn, ui.trace_box, ui.shown_lang]


def _wire_chat(ui: SimpleNamespace, h: Handlers, limit: int) -> None:
    outputs = [ui.chatbot, ui.msg, ui.history, ui.turns, ui.sources, ui.alert, ui.banner,
               ui.staff_html, ui.ui_lang]
    inputs = [ui.chatbot, ui.history, ui.turns, ui.staff_ok, ui.lang_choice, ui.ui_lang]
    common = {"concurrency_id": "assistant", "concurrency_limit": limit, **PRIVATE}

    def reset_target() -> tuple[None, str]:
        # A new reply becomes the default target of the feedback form.
        return None, ""

    def after_reply(event: Any) -> None:
        event.then(reset_target, None, [ui.fb_target, ui.fb_note], queue=False, **PRIVATE
                   ).then(h.refresh_staff, [ui.staff_ok, ui.turns],
                          [ui.staff_html, ui.staff_json], queue=False, **PRIVATE
                   ).then(h.follow_language,
                          [ui.lang_choice, ui.ui_lang, ui.shown_lang, ui.turns, ui.alert],
                          language_outputs(ui), queue=False, **PRIVATE)

    def ask(event_listener: Any, source: Any) -> None:
        # Unqueued triage first: an emergency is answered at once, never behind the queue.
        event = event_listener(h.triage, [source, *inputs], [*outputs, ui.pending],
                               queue=False, concurrency_limit=None, **PRIVATE)
        after_reply(event.then(h.respond, [ui.pending, *inputs], outputs, **common))

    ask(ui.msg.submit, ui.msg)
    ask(ui.send.click, ui.msg)
    for b in [*ui.pub_btns, *ui.jour_btns]:
        ask(b.click, b)


def _wire_controls(ui: SimpleNamespace, h: Handlers) -> None:
    clear_outputs = [ui.chatbot, ui.msg, ui.history, ui.turns, ui.sources, ui.alert, ui.banner,
                     ui.fb_target, ui.fb_note]
    lang_inputs = [ui.lang_choice, ui.ui_lang]
    ui.clear_btn.click(h.clear, lang_inputs, clear_outputs, queue=False, **PRIVATE)
    # The chatbot's own trash icon must forget the conversation too, not just hide it.
    ui.chatbot.clear(h.clear, lang_inputs, clear_outputs, queue=False, **PRIVATE)
    ui.lang_choice.change(h.apply_language, [*lang_inputs, ui.turns, ui.alert],
                          language_outputs(ui), queue=False, **PRIVATE)
    feedback = {"concurrency_id": "feedback", "concurrency_limit": 4, **PRIVATE}
    ui.chatbot.like(h.on_like, [ui.turns, *lang_inputs], [ui.fb_target, ui.fb_note], **feedback)
    ui.fb_send.click(h.send_feedback,
                     [ui.turns, ui.fb_target, ui.rating, ui.flags, ui.comment, *lang_inputs],
                     [ui.fb_note, ui.rating, ui.flags, ui.comment], **feedback)
    unlock_outputs = [ui.staff_ok, ui.staff_note, ui.staff_box, ui.staff_html, ui.staff_json]
    ui.unlock_btn.click(h.unlock, [ui.pw, ui.turns], unlock_outputs, queue=False, **PRIVATE)
    ui.pw.submit(h.unlock, [ui.pw, ui.turns], unlock_outputs, queue=False, **PRIVATE)
