"""Conversation flow: what a follow-up's answer is likely to be, given the reply before it.

"Has anyone done anything about the market in 30 years?" is answered by "no one has been
able to do anything about the market"; the follow-up "why not?" by the next sentence, "the
market is a force of nature", not by the same one again. In conversations over a text an
answer is seldom what was just quoted, and often right after it (the "dialogue flow" of
conversational reading: CoQA, QuAC). A sentence the previous reply quoted whole counts
`REPEATED`, and so does one it mostly quoted (in quote marks or not); one it quoted a
smaller part of, or that follows a quoted one, counts towards being the answer (`flow`).
"""

from __future__ import annotations

import re

from assistant.text.language import fold, words

_SPACE = re.compile(r"\s+")
_MIN_REPEAT_CHARS = 20
# Words in a row that a sentence shares with the reply: quoted, not chance. The runs may
# cross quote marks and sentence ends ("…about the market. the market is…").
_RUN = 4
# Quoted runs covering this share of a sentence's words leave little of it unsaid: it counts
# as repeated ("what was the verdict?" after most of the audit sentence was quoted).
_MOSTLY_QUOTED = 0.6

REPEATED = -1.0  # quoted whole, or mostly, in the previous reply: not new
PART_QUOTED = 0.5  # a part of it was quoted: the rest may be what is asked now
NEXT = 1.0  # right after a sentence the previous reply quoted
AFTER_NEXT = 0.5  # two sentences after it


def _norm(text: str) -> str:
    return _SPACE.sub(" ", fold(text)).strip(" .!?;:,")


class PreviousReply:
    """The reply before a follow-up, folded, with its runs of `_RUN` words."""

    def __init__(self, text: str) -> None:
        self.text = _norm(text)
        tokens = words(self.text)
        self._runs = {tuple(tokens[i:i + _RUN]) for i in range(len(tokens) - _RUN + 1)}

    def __bool__(self) -> bool:
        return bool(self.text)

    def quoted_share(self, sentence: str) -> float:
        """The share of the sentence's words inside a run the reply also has."""
        tokens = words(_norm(sentence))
        covered = [False] * len(tokens)
        for i in range(len(tokens) - _RUN + 1):
            if tuple(tokens[i:i + _RUN]) in self._runs:
                covered[i:i + _RUN] = [True] * _RUN
        return sum(covered) / len(tokens) if tokens else 0.0

    def state(self, sentence: str) -> float:
        """`REPEATED`, `PART_QUOTED`, or 0 when the reply did not quote the sentence."""
        s = _norm(sentence)
        if len(s) >= _MIN_REPEAT_CHARS and s in self.text:
            return REPEATED
        share = self.quoted_share(s)
        if not share:
            return 0.0
        return REPEATED if share >= _MOSTLY_QUOTED else PART_QUOTED


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
