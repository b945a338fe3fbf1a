"""Text folding, tokens and English/French detection shared by retrieval and guardrails."""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

Lang = Literal["en", "fr"]

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def fold(text: str) -> str:
    """Lower case without accents, typographic apostrophes made plain."""
    if text.isascii():  # most questions and passages: no accents to strip
        return text.lower().replace("`", "'")
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'")
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("œ", "oe")


def words(text: str) -> list[str]:
    """Folded word tokens; French elisions (l', d', qu') are split off."""
    out = []
    for tok in _WORD.findall(fold(text)):
        if "'" in tok:
            head, tail = tok.split("'", 1)
            if head in _ELISIONS:
                out.append(tail)
                continue
            out.extend(t for t in (head, tail) if t)
            continue
        out.append(tok)
    return out


_ELISIONS = {"l", "d", "j", "m", "n", "s", "t", "c", "qu", "jusqu", "lorsqu", "puisqu"}

EN_STOP = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our out over own same she should
    so some such than that the their them then there these they this those through to too under
    until up very was we were what when where which while who whom why will with would you your
    yours s t don according tell say says said please know want get got give much many""".split()
)

FR_STOP = frozenset(
    """a au aux avec ce ces cette c dans de des du elle elles en et eux il ils je la le les leur
    leurs lui ma mais me meme mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se
    ses son sur ta te tes toi ton tu un une vos votre vous y ete etre est sont suis es sommes
    etes ai as avons avez ont avait etait fait faire comme tout tous toute toutes plus moins tres
    bien aussi alors donc car si ni quel quelle quels quelles quoi dont ou combien comment
    pourquoi quand est-ce ca cela ceci celui celle ceux celles deja selon dit dire veux veut
    peux peut puis""".split()
)

# Words that mark a language strongly even in one short sentence.
_FR_MARKERS = frozenset(
    """je tu nous vous il elle ils elles est sont le la les des du un une et ou dans pour avec
    sur pas que qui quoi comment combien pourquoi ou quand mon ma mes ton ta ses aide aider
    besoin veux peux suis j'ai c'est ami amie drogue arrondissement deja ouverts lieux
    usagers soins bonjour merci salut quel quelle quels quelles""".split()
)
_EN_MARKERS = frozenset(
    """i you he she we they is are was were the a an and or in on for with to of what how why
    where when who which my your his her their help need want can do does did not this that
    friend please hello thanks""".split()
)


def detect_language(text: str, default: Lang = "en") -> Lang:
    """English or French from function words and accents; cheap enough for every message."""
    if not text:
        return default
    folded = fold(text)
    tokens = re.findall(r"[a-z']+", folded)
    fr = sum(1 for t in tokens if t in _FR_MARKERS or t.split("'")[0] in {"l", "d", "j", "qu"})
    en = sum(1 for t in tokens if t in _EN_MARKERS)
    # Accented letters typical of French tip the balance.
    fr += 0.5 * len(re.findall(r"[éèêàùçôîâû]", text.lower()))
    if fr == en:
        return default
    return "fr" if fr > en else "en"


def content_words(text: str) -> list[str]:
    """Tokens minus English and French function words."""
    return [w for w in words(text) if w not in EN_STOP and w not in FR_STOP and len(w) > 1]
