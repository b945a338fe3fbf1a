"""Guardrails: decide the kind of reply before any retrieval, with no language model.

Two layers decide together. A learned classifier (assistant/safety/classifier.py: a linear
head over multilingual sentence embeddings, trained on the labelled messages in
assistant/safety/training/) reads every message, whole and sentence by sentence. Readable
rules (patterns in English and French over folded, typo-corrected tokens) are overrides for
what must never be missed or misread, and the explanation staff see beside the classifier's
probabilities.

Order: emergency (rule or classifier) beats everything; refusal beats care; a person in
distress gets care with the crisis lines, never "out of scope"; care beats answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.safety.care import POINTER_ID, CareDirectory, CareEntry
from assistant.safety.classifier import (
    EMERGENCY,
    HEAD_PATH,
    KIND_OF,
    Head,
    MessageClassifier,
    Verdict,
)
from assistant.safety.needs import CareNeeds, choose_entries, detect_needs, needs_from_topics
from assistant.safety.rules import (
    DRUG_CORE,
    FACTUAL_QUESTION,
    FOLLOW_UP,
    NAMED,
    OFF_TOPIC,
    PERSONAL,
    POLICY,
    SCOPE,
    normalise,
    rule_hits,
    topics_of,
)
from assistant.text.language import Lang, detect_language

KINDS = ("emergency", "refusal", "care", "out_of_scope", "pass")
# A refusal of a question that asks about the world (no first or second person, no request
# verb) needs at least this probability.
IMPERSONAL_REFUSAL = 0.8
# An emergency rule is overruled only when the classifier reads a plain question or an
# unrelated message with at least this probability.
SURE_BENIGN = 0.9
# A care or out-of-scope reading with at least this probability of a plain question about the
# subject is "unsure": see Decision.alternative and _decide.
CARE_OR_PASS = 0.2


@dataclass
class Decision:
    """The kind of reply and why (reasons are shown to staff)."""

    kind: str
    lang: Lang
    reasons: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    # The finer label (classifier.LABELS) behind the kind: which emergency, care or distress.
    label: str = ""
    verdict: Verdict | None = field(default=None, repr=False)
    rules: list[str] = field(default_factory=list)
    # "pass" when the classifier was unsure between care (or out of scope) and a plain
    # question: the service then answers from the documents if they answer it strongly
    # (with care entries beside a care reading), and gives the fixed reply otherwise.
    alternative: str | None = None
    # What the message asks for (need tags, who is asking): chooses a care reply's entries;
    # it never changes the kind.
    care_needs: CareNeeds | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "label": self.label, "lang": self.lang,
                               "reasons": self.reasons, "topics": self.topics,
                               "rules": self.rules}
        if self.verdict is not None:
            out["classifier"] = self.verdict.to_json()
        if self.alternative:
            out["alternative"] = self.alternative
        return out


def _first(hits: Iterable[tuple[str, str]], kind: str) -> list[str]:
    return [f"rule: {name}" for k, name in hits if k == kind]


def _said(verdict: Verdict | None, label: str | tuple[str, ...]) -> list[str]:
    """The classifier's reason, when it read `label` (one or several)."""
    labels = (label,) if isinstance(label, str) else label
    if verdict is None or verdict.label not in labels:
        return []
    p = verdict.unit_probabilities or verdict.probabilities
    where = f" in the sentence {verdict.unit[:80]!r}" if verdict.unit else ""
    return [f"classifier: {verdict.label} ({p[verdict.label]:.2f}){where}"]


def _emergency_decision(hits: list[tuple[str, str]], verdict: Verdict | None,
                        topics: list[str]) -> Decision:
    """A medical danger (a rule other than suicidal intent, or the classifier) is answered
    with 15 first; suicidal content alone with 3114 first. Both: 15 first, 3114 added."""
    rules = {name for kind, name in hits if kind == "emergency"}
    label = verdict.label if verdict else ""
    medical = bool(rules - {"suicidal intent"}) or label == "emergency_medical"
    suicidal = "suicidal intent" in rules or label == "emergency_suicide"
    topics = [*topics, "suicide"] if suicidal and "suicide" not in topics else topics
    reasons = _first(hits, "emergency") + _said(verdict, EMERGENCY)
    return Decision("emergency", "en", reasons, topics,
                    "emergency_medical" if medical else "emergency_suicide")


def _sure_benign(verdict: Verdict | None, labels: tuple[str, ...]) -> bool:
    """A rule is overruled only on a short message (one unit: in a long one the whole
    message's reading says nothing of the sentence the rule fired on) that the classifier
    reads as one of `labels` with at least SURE_BENIGN."""
    return verdict is not None and verdict.units == 1 and \
        sum(verdict.probabilities[x] for x in labels) >= SURE_BENIGN


def _without(hits: list[tuple[str, str]], kind: str
             ) -> tuple[list[tuple[str, str]], set[str]]:
    """The rule hits but those of `kind`, and the kinds left."""
    kept = [(k, n) for k, n in hits if k != kind]
    return kept, {k for k, _ in kept}


def _decide(hits: list[tuple[str, str]], verdict: Verdict | None, text: str,
            topics: list[str]) -> Decision:
    """Rules and classifier together, most severe first (the language is set by the caller)."""
    kinds = {k for k, _ in hits}
    label = verdict.label if verdict else ""
    if "emergency" in kinds and label not in EMERGENCY and \
            _sure_benign(verdict, ("pass", "out_of_scope")):
        # "my laptop is not responding", "is chest pain a side effect of crack?"
        hits, kinds = _without(hits, "emergency")
    if "emergency" in kinds or label in EMERGENCY:
        return _emergency_decision(hits, verdict, topics)
    if "refusal" in kinds and not PERSONAL.search(text) and _sure_benign(verdict, ("pass",)):
        # A question about the world that a refusal rule's words match ("la quantité de
        # crack vendue dans la rue a-t-elle changé ?"): no one asks for anything.
        hits, kinds = _without(hits, "refusal")
    if label == "refusal" and "refusal" not in kinds and not PERSONAL.search(text) and \
            verdict is not None and verdict.probabilities["refusal"] < IMPERSONAL_REFUSAL:
        label = max(("care", "pass", "out_of_scope"), key=verdict.probabilities.__getitem__)
        return Decision(KIND_OF[label], "en", ["a question about the world, not a request; "
                                               "classifier unsure of refusal",
                                               *_said(verdict, "refusal")], topics, label)
    if "refusal" in kinds or label == "refusal":
        return Decision("refusal", "en", _first(hits, "refusal") + _said(verdict, "refusal"),
                        topics, "refusal")
    if label == "care_distress":
        return Decision("care", "en", _said(verdict, label), [*topics, "distress"], label)
    if "out_of_scope" in kinds:
        return Decision("out_of_scope", "en", _first(hits, "out_of_scope"), topics, "take-over")
    if "care" in kinds or label == "care":
        unsure = "care" not in kinds and verdict is not None and (
            verdict.probabilities["pass"] >= CARE_OR_PASS or bool(FACTUAL_QUESTION.search(text)))
        return Decision("care", "en", _first(hits, "care") + _said(verdict, "care"), topics,
                        "care", alternative="pass" if unsure else None)
    if verdict is not None:
        if label == "out_of_scope" and NAMED.search(text):
            # A question naming the subject's places or actors is answered (or told the
            # sources don't say) rather than turned away; when the classifier is sure it is
            # unrelated, only if the documents answer it strongly.
            if verdict.probabilities["out_of_scope"] < SURE_BENIGN:
                return Decision("pass", "en", ["classifier unsure; the subject's names present",
                                               *_said(verdict, label)], topics, "pass")
            return Decision("out_of_scope", "en", ["the subject's names present",
                                                   *_said(verdict, label)], topics, label,
                            alternative="pass")
        if label == "out_of_scope" and verdict.probabilities["out_of_scope"] < SURE_BENIGN:
            # Unsure it is unrelated: the documents decide. The service answers when they
            # answer strongly and gives the out-of-scope reply otherwise.
            return Decision("out_of_scope", "en", ["classifier unsure of out_of_scope",
                                                   *_said(verdict, label)], topics, label,
                            alternative="pass")
        return Decision(KIND_OF[label], "en", _said(verdict, label), topics, label)
    if not DRUG_CORE.search(text) and (m := OFF_TOPIC.search(text)):
        return Decision("out_of_scope", "en", [f"rule: unrelated topic ({m.group()})"], topics,
                        "out_of_scope")
    if DRUG_CORE.search(text) or POLICY.search(text) or SCOPE.search(text):
        return Decision("pass", "en", ["no rule fired; subject words present"], topics, "pass")
    return Decision("out_of_scope", "en", ["no subject words"], topics, "out_of_scope")


_BOUNDARY = re.compile(r"[.!?…;\n]\s")


def _whole_sentences(message: str, start: int, window: int, overlap: int = 200) -> str:
    """The window of `message` at `start`, without the sentence cut at either edge: a
    fragment such as "I have been reading ab" is not a sentence anyone wrote, and the
    overlap gives the next window the whole of it."""
    end = min(len(message), start + window)
    piece = message[start:end]
    # Cut only inside the overlap, which the next window reads again.
    if end < len(message) and (cut := list(_BOUNDARY.finditer(piece))) and \
            cut[-1].start() + 1 >= len(piece) - overlap:
        piece = piece[:cut[-1].start() + 1]
    if start > 0 and (first := _BOUNDARY.search(piece)) and first.end() <= overlap:
        piece = piece[first.end():]
    return piece


class Guardrails:
    """Classifies each message and writes the fixed replies (emergency, refusal, care...)."""

    def __init__(self, care: CareDirectory, classifier: MessageClassifier | None) -> None:
        self.care = care
        # Without a classifier (tests of the rules alone) only the rules decide.
        self.classifier = classifier

    @classmethod
    def load(cls, care: CareDirectory, head_path: Path = HEAD_PATH) -> Guardrails:
        """The rules plus the trained head, with the encoder it was trained on."""
        from assistant.store.embeddings import get_embeddings

        head = Head.load(head_path)
        return cls(care, MessageClassifier(get_embeddings(head.meta["encoder"]), head))

    def _decisive(self, hits: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The rule hits that decide alone: every emergency rule (a miss costs more than a
        false alarm; _decide lets a sure classifier overrule them), and the other rules
        measured precise at training (the rest are features and shown to staff)."""
        if self.classifier is None:
            return hits
        overrides = set(self.classifier.head.meta.get("override_rules", []))
        return [(k, n) for k, n in hits if f"{k}: {n}" in overrides or k == "emergency"]

    @property
    def encoder_name(self) -> str | None:
        """The embedding model whose vectors `check(vector=...)` takes."""
        return self.classifier.head.meta.get("encoder") if self.classifier else None

    def warm(self) -> None:
        """Run the encoder once, so the first message does not pay for loading it."""
        if self.classifier is not None:
            self.classifier.classify("warm up")

    # -- decision --------------------------------------------------------------------------
    def check(self, message: str, history: list[dict] | None = None, *, lang: str | None = None,
              vector: list[float] | None = None) -> Decision:
        """The kind of reply for this message; `vector` is its embedding by the guard's
        encoder if the caller already made it."""
        language: Lang = "fr" if (lang or detect_language(message)) == "fr" else "en"
        text = normalise(message)
        hits = rule_hits(text)
        topics = topics_of(text)
        verdict = self.classifier.classify(message, vector, hits) if self.classifier else None
        decision = _decide(self._decisive(hits), verdict, text, topics)
        if decision.kind in ("pass", "out_of_scope") and decision.label != "take-over":
            decision = self._continuation(decision, text, history)
        elif decision.label == "care" and not any(k == "care" for k, _ in hits):
            decision = self._policy_follow_up(decision, text, history, language)
        decision.lang, decision.verdict = language, verdict
        decision.rules = [f"{kind}: {name}" for kind, name in hits]
        decision.care_needs = detect_needs(message)
        return decision

    def scan(self, message: str, *, lang: str | None = None, window: int = 2000,
             classify_chars: int = 200_000) -> Decision:
        """A long message read whole, in overlapping windows: the first emergency wins.

        The classifier reads the first `classify_chars`; past them the rules alone read on,
        so an emergency at the very end of a huge paste is still found.
        """
        step = max(1, window - 200)  # windows overlap, so no sentence is cut in two
        last: Decision | None = None
        for start in range(0, len(message), step):
            piece = _whole_sentences(message, start, window)
            if start < classify_chars:
                decision = self.check(piece, lang=lang)
            else:
                decision = _decide(self._decisive(rule_hits(normalise(piece))), None, piece, [])
                decision.lang = "fr" if (lang or detect_language(piece)) == "fr" else "en"
            if decision.kind == "emergency":
                decision.reasons.append(f"found in characters {start}-{start + len(piece)}")
                return decision
            last = last or decision
            if start + window >= len(message):
                break
        return last or self.check(message[:window], lang=lang)

    def _continuation(self, decision: Decision, text: str,
                      history: list[dict] | None) -> Decision:
        """A short message after an in-scope question continues it: "and for my brother?"
        after a care question is care; "and in the 19th?" after a policy question is not
        out of scope."""
        if (follow := self._follow_up(text, history)) is not None:
            return Decision("care", decision.lang, [follow],
                            decision.topics or self._history_topics(history), label="care")
        if decision.kind == "out_of_scope":
            previous = self._previous_kind(text, history)
            if previous not in (None, "out_of_scope", "emergency", "refusal"):
                return Decision("pass", decision.lang, [
                    f"short follow-up to an in-scope question ({previous})",
                    *decision.reasons], decision.topics, "pass")
        return decision

    def _previous_kind(self, text: str, history: list[dict] | None) -> str | None:
        """The kind of the previous user question, when `text` is short enough to be a
        follow-up to it (10 words at most); None otherwise. A question the classifier alone
        read as care or unrelated, that the reply answered from the sources ("[1]"), was a
        question on the subject: "pass"."""
        last = _last_user(history or [])
        if not last or len(text.split()) > 10:
            return None
        decision = self.check(last)
        if decision.kind in ("care", "out_of_scope") and decision.label != "take-over" and \
                not any(r.startswith("care:") for r in decision.rules) and \
                _cites_sources(_last_reply(history or [])):
            return "pass"
        return decision.kind

    def _policy_follow_up(self, decision: Decision, text: str, history: list[dict] | None,
                          lang: Lang) -> Decision:
        """"Are they on call at night too?" after "who patrols the neighbourhood?" asks about
        the patrols, not for care: a short impersonal message that only the classifier reads
        as care continues a policy question. Anything personal ("can they help me?"), or a
        care rule's hit, stays care."""
        # French "on" (we) is personal; English "on call" is not.
        if PERSONAL.search(text if lang == "fr" else text.replace(" on ", " ")):
            return decision
        if self._previous_kind(text, history) != "pass":
            return decision
        return Decision("pass", decision.lang, [
            "short impersonal follow-up to a policy question (the classifier alone read care)",
            *decision.reasons], decision.topics, "pass")

    def _follow_up(self, text: str, history: list[dict] | None) -> str | None:
        """A short follow-up ("and for my brother?") inherits a care question's kind."""
        if not history or len(text.split()) > 8 or not FOLLOW_UP.search(text):
            return None
        last = _last_user(history)
        if last and any(k == "care" for k, _ in rule_hits(normalise(last))):
            return "follow-up to a care question"
        return None

    def _history_topics(self, history: list[dict] | None) -> list[str]:
        last = _last_user(history or [])
        return topics_of(normalise(last)) if last else []

    # -- replies ---------------------------------------------------------------------------
    def reply(self, decision: Decision) -> tuple[str, list[dict]]:
        """The fixed reply text (in decision.lang) and the resources shown with it."""
        lang = decision.lang
        if decision.kind == "emergency":
            return self._emergency(decision)
        if decision.kind == "refusal":
            entries = [self.care.get("caarud"), self.care.get("drogues-info-service")]
            return REPLY["refusal"][lang], self._resources(entries, lang)
        if decision.kind == "care":
            return self._care(decision)
        if decision.kind == "out_of_scope":
            return REPLY["out_of_scope"][lang], [self.care.pointer_resource(lang)]
        return "", []

    def _emergency(self, decision: Decision) -> tuple[str, list[dict]]:
        lang, topics = decision.lang, decision.topics
        lines = []
        if decision.label == "emergency_suicide":
            key, ids = "suicide", ["suicide-3114", "samu-15", "eu-112"]
        else:
            key = "poisoning" if "poisoning" in topics else "overdose"
            ids = ["samu-15", "eu-112", "poison-centre-paris"]
            if "suicide" in topics:  # a deliberate overdose: 15 first, then 3114
                lines.append(REPLY["care_3114"][lang])
                ids.append("suicide-3114")
        ids += ["urgence-114", "drogues-info-service"]
        lines = [REPLY[f"emergency_{key}"][lang], *lines, REPLY["emergency_after"][lang]]
        text = "\n".join(lines)
        return text, self._resources([self.care.get(i) for i in ids], lang)

    def _care(self, decision: Decision) -> tuple[str, list[dict]]:
        """The entries that fit what the message asks, one line each in the reply's language,
        then the one Drogues Info Service line and when what is shown was checked."""
        lang = decision.lang
        distress = decision.label == "care_distress" or "distress" in decision.topics
        # A decision made without reading its message (rules-only callers): topics as needs.
        reading = decision.care_needs or needs_from_topics(decision.topics)
        choice = choose_entries(self.care, reading, distress=distress)
        if distress:
            opening = REPLY["distress"][lang]
        elif set(reading.needs) & STILL_USING and any(e.id in CAARUD_IDS for e in choice.entries):
            opening = REPLY["care"][lang]  # "no need to stop" only to someone who still uses
        else:
            opening = REPLY["care_plain"][lang]
        lines = [opening]
        if distress or "suicide" in decision.topics:
            lines.insert(0, REPLY["care_3114"][lang])
        if choice.halte_smokers:
            lines.append(REPLY["halte_smokers"][lang])
        for entry in choice.suspended:  # asked about by name: say it is closed, never send
            lines.append(entry.suspended_line(lang))
        lines += [e.reply_line(lang) for e in choice.entries]
        lines.append(self.care.pointer_reply_line(lang))
        shown = [*choice.entries, self.care.get(POINTER_ID)]
        lines.append(f"({self.care.checked_note(lang, shown)})")
        return "\n".join(lines), self._resources(shown, lang)

    @staticmethod
    def _resources(entries: list[CareEntry], lang: Lang) -> list[dict]:
        return [e.resource(lang) for e in entries]


def _last_reply(history: list[dict]) -> str:
    """The assistant's reply to the last user turn ("" when there is none)."""
    for turn in reversed(history):
        if turn.get("role") == "user":
            return ""
        if turn.get("role") == "assistant" and turn.get("content"):
            return str(turn["content"])
    return ""


_CITATION = re.compile(r"\[\d{1,2}\]")


def _cites_sources(reply: str) -> bool:
    return bool(_CITATION.search(reply))


def _last_user(history: list[dict]) -> str | None:
    for turn in reversed(history):
        if turn.get("role") == "user" and turn.get("content"):
            return str(turn["content"])
    return None


# Entries that are CAARUDs (low threshold: no need to stop using), for the reply's opening.
CAARUD_IDS = frozenset({"caarud", "caarud-ego-aurore", "gaia-paris-caarud-csapa",
                        "espace-femmes-oppelia"})
STILL_USING = frozenset({"harm_reduction_kit", "injection_room", "rest_sleep", "naloxone"})

REPLY: dict[str, dict[str, str]] = {
    "emergency_overdose": {
        "en": "Call 15 (SAMU) or 112 now. Say if the person is not breathing or is unconscious, "
              "and stay with them until help arrives; follow what the call handler tells you. "
              "Deaf or hard of hearing: 114 by SMS.\n"
              "For advice on a poisoning: Paris poison centre, 01 40 05 48 48, 24/7.",
        "fr": "Appelez le 15 (SAMU) ou le 112 maintenant. Dites si la personne ne respire pas ou "
              "est inconsciente, et restez avec elle jusqu'à l'arrivée des secours ; suivez les "
              "consignes de l'opérateur. Personnes sourdes ou malentendantes : 114 par SMS.\n"
              "Pour un conseil sur une intoxication : centre antipoison de Paris, "
              "01 40 05 48 48, 24 h/24.",
    },
    "emergency_poisoning": {
        "en": "Call 15 (SAMU) or 112 now if the person is not breathing, is unconscious, has chest "
              "pain or a seizure, and stay with them. For any other question about a poisoning: "
              "Paris poison centre, 01 40 05 48 48, 24/7.",
        "fr": "Appelez le 15 (SAMU) ou le 112 maintenant si la personne ne respire pas, est "
              "inconsciente, a une douleur à la poitrine ou des convulsions, et restez avec elle. "
              "Pour toute autre question sur une intoxication : centre antipoison de Paris, "
              "01 40 05 48 48, 24 h/24.",
    },
    "emergency_suicide": {
        "en": "I'm sorry you are going through this. Please call 3114 now: free, confidential, "
              "24/7, for you or for someone you are worried about. If someone is in danger "
              "right now or already hurt, call 15 (SAMU) or 112. You do not have to face this "
              "alone; if you can, stay with someone you trust while you call.",
        "fr": "Je suis désolé que vous traversiez cela. Appelez le 3114 maintenant : gratuit, "
              "confidentiel, 24 h/24, pour vous ou pour un proche qui vous inquiète. Si "
              "quelqu'un est en danger tout de suite ou déjà blessé, appelez le 15 (SAMU) ou le "
              "112. Vous n'êtes pas seul·e ; si vous le pouvez, restez avec une personne de "
              "confiance pendant l'appel.",
    },
    "emergency_after": {
        "en": "Later, for support about drug use: Drogues Info Service, 0 800 23 13 13, free and "
              "anonymous.",
        "fr": "Ensuite, pour un soutien sur les consommations : Drogues Info Service, "
              "0 800 23 13 13, gratuit et anonyme.",
    },
    "refusal": {
        "en": "I can't help with that. If you use drugs, harm-reduction centres (CAARUD) give "
              "free sterile equipment and support without judgement, and Drogues Info Service "
              "(0 800 23 13 13, free and anonymous) can talk things through and give addresses.",
        "fr": "Je ne peux pas vous aider pour cela. Si vous consommez, les CAARUD (réduction des "
              "risques) donnent du matériel stérile et un soutien sans jugement, et Drogues Info "
              "Service (0 800 23 13 13, gratuit et anonyme) peut vous écouter et vous orienter.",
    },
    "care": {
        "en": "Here is where to find help (you do not have to stop using to be welcomed at a "
              "CAARUD):",
        "fr": "Voici où trouver de l'aide (pas besoin d'arrêter de consommer pour être "
              "accueilli·e dans un CAARUD) :",
    },
    "care_plain": {
        "en": "Here is where to find help:",
        "fr": "Voici où trouver de l'aide :",
    },
    "halte_smokers": {
        "en": "The Paris halte soins addictions (beside Lariboisière hospital) admits injection "
              "only: people who smoke crack are not admitted there.",
        "fr": "La halte soins addictions de Paris (à côté de l'hôpital Lariboisière) accueille "
              "uniquement l'injection : les personnes qui fument du crack n'y sont pas admises.",
    },
    "distress": {
        "en": "That sounds really hard, and you don't have to deal with it alone. People you "
              "can talk to now, free:",
        "fr": "Ça a l'air vraiment difficile, et vous n'avez pas à affronter ça seul·e. Des "
              "personnes à qui parler maintenant, gratuitement :",
    },
    "care_3114": {
        "en": "If you are thinking about suicide, call 3114 (free, 24/7); in immediate danger 15 "
              "or 112.",
        "fr": "Si vous pensez au suicide, appelez le 3114 (gratuit, 24 h/24) ; en cas de danger "
              "immédiat, le 15 ou le 112.",
    },
    "out_of_scope": {
        "en": "I answer questions about crack-cocaine policy in Paris and the care services for "
              "people who use drugs, from a small set of sourced documents. For example:\n"
              "- Which sites did Anne Hidalgo propose for crack users' care?\n"
              "- Where can I get help to stop using crack in Paris?\n"
              "- What does the right-wing opposition think of consumption rooms?",
        "fr": "Je réponds aux questions sur la politique du crack à Paris et sur les services de "
              "soins pour les personnes qui consomment, à partir de documents sourcés. Par "
              "exemple :\n"
              "- Quels sites Anne Hidalgo a-t-elle proposés pour les usagers de crack ?\n"
              "- Où trouver de l'aide pour arrêter le crack à Paris ?\n"
              "- Que pense l'opposition de droite des salles de consommation ?",
    },
}
