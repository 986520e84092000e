"""One call's hints: feed it finals, the queued reason, the profile and the verification decision.

Every ``on_*`` method returns only the hints that are new: an article, a rule or a predicted reason
fires at most once per session (hint ids are "kb:<article>", "rule:<rule>", "reason:<topic>"). A
predicted-reason hint carries its article's answer, so that article is not repeated as a ``kb`` hint.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from hints.context import VERIFICATION_DECISIONS, HintContext, VerificationDecision
from hints.errors import ContextError
from hints.hint import Hint
from hints.knowledge import KnowledgeBase
from hints.lemmas import Lemmatizer, Token
from hints.matcher import KbMatch, KnowledgeMatcher
from hints.reason import PredictedReason, predict_reason
from hints.rule_config import RuleSpec
from hints.rules import RuleInput, evaluate
from hints.settings import HintSettings


class HintResources(Protocol):
    """What a session reads from its engine (:class:`hints.engine.HintEngine` is one)."""

    settings: HintSettings
    kb: KnowledgeBase
    rules: tuple[RuleSpec, ...]
    lemmatizer: Lemmatizer
    matcher: KnowledgeMatcher
    topic_titles: dict[str, str]

CALLER = "caller"  # the leg whose words the queued reason is


def utc_now() -> datetime:
    """The default clock."""
    return datetime.now(UTC)


class HintSession:
    """Per-call state: what fired, the topics the caller raised, the profile, recent finals per leg."""

    def __init__(self, engine: HintResources, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self.settings = engine.settings
        self._clock = clock or utc_now
        self._fired: set[str] = set()
        self._history: list[Hint] = []
        self._topics: list[str] = []
        self._ctx: HintContext | None = None
        self._verification: VerificationDecision | None = None
        self._verification_set = False
        self._reason_match: KbMatch | None = None
        self._predicted: PredictedReason | None = None
        self._recent: dict[str, deque[list[Token]]] = {}

    # -- what the session knows -------------------------------------------------
    @property
    def history(self) -> tuple[Hint, ...]:
        """Every hint this session emitted, oldest first."""
        return tuple(self._history)

    @property
    def fired(self) -> frozenset[str]:
        """Ids that will not fire again."""
        return frozenset(self._fired)

    @property
    def topics(self) -> tuple[str, ...]:
        """Topics the caller's own words raised (queued reason, matched finals), first first."""
        return tuple(self._topics)

    @property
    def predicted_reason(self) -> PredictedReason | None:
        """The current prediction (updated by :meth:`on_reason` and :meth:`on_profile`)."""
        return self._predicted

    @property
    def context(self) -> HintContext | None:
        """The profile with the latest verification decision applied."""
        if self._ctx is None or not self._verification_set:
            return self._ctx
        return dataclasses.replace(self._ctx, verification=self._verification)

    # -- events ---------------------------------------------------------------------
    def on_final(self, text: str, leg: str, language: str) -> list[Hint]:
        """A final transcript segment; only legs in ``settings.legs`` are matched against the knowledge base.

        The final is matched alone first; when nothing new matches, together with the leg's previous
        finals (``settings.context_finals`` in all).
        """
        if leg not in self.settings.legs:
            return []
        recent = self._recent.setdefault(leg, deque(maxlen=self.settings.context_finals))
        newest = self.engine.lemmatizer.tokens(text, language)
        recent.append(newest)
        if not newest:
            return []
        now = self._now()
        out: list[Hint] = []
        hits, new = self._match(newest, recent, language)
        for m in hits + new:
            self._raise_topic(m.article.topic)  # also when its article was shown already (repeat rule)
        for m in new:
            hint = self._kb_hint(m, leg, now)
            if hint is not None:
                out.append(hint)
        return out + self._rule_hints(now)

    def on_reason(self, text: str, language: str) -> list[Hint]:
        """What the caller said while queued: predicts the reason (with the profile, if known)."""
        matches = self.engine.matcher.match(text, language)
        self._reason_match = matches[0] if matches else None
        if self._reason_match is not None:
            self._raise_topic(self._reason_match.article.topic)
        now = self._now()
        return self._reason_hint(now) + self._rule_hints(now)

    def on_profile(self, ctx: HintContext) -> list[Hint]:
        """The customer profile (again, when it changes): proactive rules, then the predicted reason."""
        self._ctx = ctx
        now = self._now()
        return self._rule_hints(now) + self._reason_hint(now)

    def on_verification(self, decision: VerificationDecision | None) -> list[Hint]:
        """The identity decision so far; it overrides the profile's own ``verification``."""
        if decision is not None and decision not in VERIFICATION_DECISIONS:
            raise ContextError("verification", decision, f"expected one of {sorted(VERIFICATION_DECISIONS)} or None")
        self._verification, self._verification_set = decision, True
        return self._rule_hints(self._now())

    # -- helpers ---------------------------------------------------------------------
    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise ContextError("clock", now, "the session clock must return timezone-aware datetimes")
        return now

    def _match(self, newest: list[Token], recent: deque[list[Token]], language: str
               ) -> tuple[list[KbMatch], list[KbMatch]]:
        """(all matches, matches of articles not shown yet) of the newest final alone; if it matches
        nothing new, of the recent finals together (a request split by a pause), where a match must
        contain a whole trigger phrase and take a word from the newest final. Shown articles are left out
        before the runner-up rule, so they cannot crowd out a new one."""
        shown = frozenset(hid.removeprefix("kb:") for hid in self._fired if hid.startswith("kb:"))
        matcher, limit = self.engine.matcher, self.settings.max_per_final
        ranked = matcher.rank(newest, language)
        hits, new = matcher.select(ranked), matcher.select(ranked, exclude=shown)
        if not new and len(recent) > 1:
            ranked = [m for m in matcher.rank([t for final in recent for t in final], language)
                      if _joins(m, newest)]
            hits, new = hits or matcher.select(ranked), matcher.select(ranked, exclude=shown)
        return hits[:limit], new[:limit]

    def _emit(self, hint: Hint) -> Hint:
        self._fired.add(hint.id)
        self._history.append(hint)
        return hint

    def _raise_topic(self, topic: str) -> None:
        if topic not in self._topics:
            self._topics.append(topic)

    def _kb_hint(self, m: KbMatch, leg: str, now: datetime) -> Hint | None:
        hid = f"kb:{m.article.id}"
        if hid in self._fired:
            return None
        a = m.article
        return self._emit(Hint(hid, "kb", a.title, a.answer, a.link, round(m.confidence, 4), m.why, leg, now,
                               a.topic))

    def _rule_hints(self, now: datetime) -> list[Hint]:
        ctx = self.context
        if ctx is None:
            return []
        x = RuleInput(ctx, now, tuple(self._topics), self.settings.repeat_window_days, self.engine.topic_titles)
        out: list[Hint] = []
        for hit in evaluate(self.engine.rules, x):
            hid = f"rule:{hit.rule.id}"
            if hid not in self._fired:
                out.append(self._emit(Hint(hid, "rule", hit.title, hit.text, hit.rule.link, 1.0, hit.why, None, now,
                                           hit.topic)))
        return out

    def _reason_hint(self, now: datetime) -> list[Hint]:
        self._predicted = predict_reason(self._reason_match, self.context, now, self.settings.repeat_window_days)
        pr = self._predicted
        if pr is None or pr.confidence < self.settings.reason_min_confidence:
            return []
        hid = f"reason:{pr.topic}"
        if hid in self._fired:
            return []
        article = self.engine.kb.by_topic(pr.topic)
        title = self.settings.reason_title.format(topic_title=self.engine.topic_titles.get(pr.topic, pr.topic),
                                                  topic=pr.topic)
        leg = CALLER if "reason" in pr.source.split("+") else None
        if article is not None:
            self._fired.add(f"kb:{article.id}")
        return [self._emit(Hint(hid, "reason", title, article.answer if article else "",
                                article.link if article else None, pr.confidence, f"{pr.source}: {pr.why}",
                                leg, now, pr.topic))]


def _joins(m: KbMatch, newest: list[Token]) -> bool:
    """A match across finals counts only if it covers a whole trigger phrase with a word of the newest."""
    words = {t.word for t in newest}
    return m.coverage >= 1.0 and any(word in words for word, _ in m.matched)
