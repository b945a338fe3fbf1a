"""Command line: ingest, ask, eval, serve, feedback-export, train-guard, train-ranker,
train-check, guard-eval."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.settings import Settings, get_settings


def _settings(args: argparse.Namespace) -> Settings:
    """The settings, with the answerer chosen on the command line when it is given."""
    settings = get_settings()
    answerer = getattr(args, "answerer", None)
    if answerer:
        settings = settings.model_copy(deep=True)
        settings.llm.backend = answerer
    return settings


def _cmd_ingest(args: argparse.Namespace) -> int:
    from assistant.ingest.indexing import ingest, storage_problem
    from assistant.store.vectorstore import is_storage_error

    try:
        report = ingest(get_settings())
    except Exception as exc:  # a full disk or a permission: one line, the last index kept
        if not is_storage_error(exc):
            raise
        print(f"error: {storage_problem(exc)}; the last good index is kept. Free space or "
              "fix permissions, then run ingest again.", file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    return 0


def _cmd_ask(args: argparse.Namespace) -> int:
    from assistant.service import Assistant

    answer = Assistant(_settings(args)).ask(args.question)
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
        return 0
    print(answer.text)
    for c in answer.citations:
        print(f"\n[{c.n}] {c.title} ({c.doc_id}, characters {c.start}-{c.end})\n    “{c.quote}”")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluation import evaluate, load_questions
    from assistant.service import Assistant

    questions = load_questions(Path(args.file))
    assistant = Assistant(_settings(args))
    summary = evaluate(assistant, questions)
    print(summary.report())
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            for row in summary.rows:
                fh.write(json.dumps({"id": row.question.id, **row.answer.to_json()},
                                    ensure_ascii=False) + "\n")
        print(f"wrote {len(summary.rows)} replies to {args.out}")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import threading

    settings = get_settings()
    # The models load (native code, mostly outside the interpreter lock) while the web
    # framework is imported: the cached models are the ones the Assistant then finds.
    threading.Thread(target=_preload_models, args=(settings,), daemon=True).start()
    from assistant.app.server import serve

    serve(settings)
    return 0


def _preload_models(settings: Settings) -> None:
    from assistant.safety.classifier import HEAD_PATH, Head
    from assistant.store.embeddings import embeddings_for, get_embeddings

    retrieval = embeddings_for(settings.embedding)
    guard = get_embeddings(Head.load(HEAD_PATH).meta["encoder"])
    for encoder in dict.fromkeys((guard, retrieval)):
        encoder.embed_documents(["warm up"])


def _cmd_feedback_export(args: argparse.Namespace) -> int:
    from assistant.app.feedback import export_csv

    settings = get_settings()
    n = export_csv(settings.paths.data_dir / "feedback.sqlite3", Path(args.out))
    print(f"exported {n} feedback rows to {args.out}")
    return 0


def _cmd_train_guard(args: argparse.Namespace) -> int:
    from assistant.safety.train import main as train_main

    return train_main(args.rest)


def _cmd_train_ranker(args: argparse.Namespace) -> int:
    from assistant.training.ranker import main as train_main

    return train_main(args.rest)


def _cmd_train_check(args: argparse.Namespace) -> int:
    from assistant.training.check import main as train_main

    return train_main(args.rest)


def _cmd_guard_eval(args: argparse.Namespace) -> int:
    from assistant.safety.measure import main as measure_main

    return measure_main(args.rest)


ANSWERERS = ("extractive", "local", "openai")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m assistant",
        description="Cited answers on Paris crack-cocaine policy and care services.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("ingest", help="clean, chunk and embed corpus/ into index/").set_defaults(
        func=_cmd_ingest
    )
    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the reply as JSON")
    ask.add_argument("--answerer", choices=ANSWERERS, help="override settings.llm.backend")
    ask.set_defaults(func=_cmd_ask)
    ev = sub.add_parser("eval", help="score a question file (JSONL)")
    ev.add_argument("file")
    ev.add_argument("--out", help="write each reply as JSON lines")
    ev.add_argument("--answerer", choices=ANSWERERS, help="override settings.llm.backend")
    ev.set_defaults(func=_cmd_eval)
    sub.add_parser("serve", help="serve the web app").set_defaults(func=_cmd_serve)
    fb = sub.add_parser("feedback-export", help="export feedback as CSV")
    fb.add_argument("out")
    fb.set_defaults(func=_cmd_feedback_export)
    tg = sub.add_parser("train-guard", help="train the guard's message classifier",
                        add_help=False)
    tg.add_argument("rest", nargs=argparse.REMAINDER)
    tg.set_defaults(func=_cmd_train_guard)
    tr = sub.add_parser("train-ranker", help="train the answerer's sentence ranker",
                        add_help=False)
    tr.add_argument("rest", nargs=argparse.REMAINDER)
    tr.set_defaults(func=_cmd_train_ranker)
    tc = sub.add_parser("train-check", help="train the answerer's answer check",
                        add_help=False)
    tc.add_argument("rest", nargs=argparse.REMAINDER)
    tc.set_defaults(func=_cmd_train_check)
    ge = sub.add_parser("guard-eval", help="score the guard on a labelled message file",
                        add_help=False)
    ge.add_argument("rest", nargs=argparse.REMAINDER)
    ge.set_defaults(func=_cmd_guard_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        if not hasattr(args, "rest"):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.rest = [*args.rest, *unknown]  # options of train-guard / guard-eval themselves
    try:
        return args.func(args)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
