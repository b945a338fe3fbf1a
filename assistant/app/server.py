"""Serving the app: the Assistant loaded once, the queue sized for the host, CSS and JS."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from starlette.middleware import Middleware

from assistant.app.layout import build_app, gr
from assistant.app.limits import BodyLimit
from assistant.service import Assistant
from assistant.settings import Settings, get_settings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
CSS = (STATIC_DIR / "ui.css").read_text(encoding="utf-8")
HEAD = f"<script>{(STATIC_DIR / 'ui.js').read_text(encoding='utf-8')}</script>"


def launch(demo: gr.Blocks, settings: Settings, **kwargs: Any) -> Any:
    """Queue sized for the host (settings.ui) and launch with the app's CSS and JS."""
    demo.queue(
        default_concurrency_limit=settings.ui.concurrency_limit,
        max_size=settings.ui.max_queue,
    )
    return demo.launch(
        server_name=settings.ui.host,
        server_port=settings.ui.port,
        css=CSS,
        head=HEAD,
        theme=gr.themes.Soft(),
        show_error=False,
        footer_links=["api"],
        max_file_size=settings.limits.request_body_bytes,
        app_kwargs={"middleware": [Middleware(BodyLimit,
                                              max_bytes=settings.limits.request_body_bytes)]},
        **kwargs,
    )


def _size_torch_threads(settings: Settings) -> None:
    """One worker per core: each worker's model calls get cores // workers threads.

    Two workers each spinning two torch threads on two cores fight each other; measured with
    bench/bench_ui_concurrency.py, one thread per worker serves ~30% more requests per second.
    """
    if settings.embedding.backend != "torch":
        return  # the ONNX backend never loads torch: importing it here would cost ~1.6 s
    import torch

    workers = max(1, settings.ui.concurrency_limit)
    torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


def serve(settings: Settings | None = None, **kwargs: Any) -> Any:
    """Load the Assistant once (shared by every session) and serve the app."""
    settings = settings or get_settings()
    _size_torch_threads(settings)
    # The first question does not wait for every corpus sentence to be embedded (~0.25 s).
    assistant = Assistant(settings, warm_in_background=True)
    demo = build_app(assistant, settings)
    log.info("serving on http://%s:%s", settings.ui.host, settings.ui.port)
    return launch(demo, settings, **kwargs)
