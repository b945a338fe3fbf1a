"""Conversation flow: what a follow-up's answer is likely to be, given the reply before it.

"Has anyone done anything about the market in 30 years?" is answered by "no one has been
able to do anything about the market"; the follow-up "why not?" by the next sentence, "the
market is a force of nature", not by the same one again. In conversations over a text an
answer is seldom what was just quoted, and often right after it (the "dialogue flow" of
conversational reading: CoQA, QuAC). A sentence the previous reply quoted whole counts
`REPEATED`, and so does one it mostly quoted; one it quoted a smaller part of, or that
follows a quoted one, counts towards being the answer (`flow`).
"""

from __future__ import annotations

import re

from assistant.text.language import fold

# Fragments the previous reply put in quote marks ("a site for women", « two sites »).
_QUOTED = re.compile(r"[“«\"]\s*([^”»\"]+?)\s*[”»\"]")
_SPACE = re.compile(r"\s+")
_MIN_FRAGMENT_WORDS = 3
_MIN_REPEAT_CHARS = 20

REPEATED = -1.0  # quoted whole in the previous reply: not new
PART_QUOTED = 0.5  # a part of it was quoted: the rest may be what is asked now
# Quoted fragments covering this share of a sentence leave little of it unsaid: it counts
# as repeated ("what was the verdict?" after most of the audit sentence was quoted).
_MOSTLY_QUOTED = 0.6
NEXT = 1.0  # right after a sentence the previous reply quoted
AFTER_NEXT = 0.5  # two sentences after it


def _norm(text: str) -> str:
    return _SPACE.sub(" ", fold(text)).strip(" .!?;:,")


class PreviousReply:
    """The reply before a follow-up, folded, with its quoted fragments."""

    def __init__(self, text: str) -> None:
        self.text = _norm(text)
        self.fragments = [f for f in (_norm(m) for m in _QUOTED.findall(text))
                          if len(f.split()) >= _MIN_FRAGMENT_WORDS]

    def __bool__(self) -> bool:
        return bool(self.text)

    def state(self, sentence: str) -> float:
        """`REPEATED`, `PART_QUOTED`, or 0 when the reply did not quote the sentence."""
        s = _norm(sentence)
        if len(s) >= _MIN_REPEAT_CHARS and s in self.text:
            return REPEATED
        inside = [f for f in self.fragments if f in s]
        if not inside:
            return 0.0
        return REPEATED if sum(map(len, inside)) >= _MOSTLY_QUOTED * len(s) else PART_QUOTED


def flow(own: float, before: list[float]) -> float:
    """A sentence's flow from its own state and those of the one and two sentences before
    it (nearest first): new and right after what was quoted scores highest."""
    if own == REPEATED:
        return REPEATED
    if before and before[0] != 0.0:
        return NEXT
    if len(before) > 1 and before[1] != 0.0:
        return AFTER_NEXT
    return own
