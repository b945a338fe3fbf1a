"""Follow-up questions rewritten with the conversation history, without a language model."""

from __future__ import annotations


def rewrite_question(question: str, history: list[dict[str, str]] | None) -> tuple[str, str]:
    """(question to retrieve with, why). Self-contained questions are returned unchanged."""
    return question, "no history used"
