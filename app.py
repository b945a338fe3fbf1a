"""Serve the chat app: `python app.py [--host H] [--port P]` (defaults from settings.ui)."""

from __future__ import annotations

import argparse
import logging
import os

# No phoning home: the app runs offline and must not wait on analytics or version checks.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", help="interface to bind (default: settings.ui.host)")
    parser.add_argument("--port", type=int, help="port (default: settings.ui.port)")
    args = parser.parse_args(argv)

    from assistant.app.server import serve
    from assistant.settings import get_settings

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # Per-request client logs and index-building chatter drown the app's own lines.
    for noisy in ("httpx", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = get_settings()
    if args.host:
        settings.ui.host = args.host
    if args.port:
        settings.ui.port = args.port
    serve(settings)


if __name__ == "__main__":
    main()
