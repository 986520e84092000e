"""Whispered hints for one call: the hint engine fed with finals, the reason, verification and profile."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from core.events import CallEventModel, HintShown, ReasonPredicted
from hints import Hint, HintContext, HintEngine, HintSession

log = logging.getLogger("hotline.hints")
Publish = Callable[[CallEventModel], None]
_DECISIONS = {"accept": "verified", "verified": "verified", "reject": "not_verified",
              "not_verified": "not_verified", "inconclusive": "inconclusive", "suspected_replay": "suspected_replay"}


class CallHints:
    """Never raises into the call: a failing hint engine only loses hints."""

    def __init__(self, engine: HintEngine, publish: Publish, observe: Callable[[float], None],
                 store_event: Callable[[CallEventModel], None]) -> None:
        self.session: HintSession = engine.session()
        self._publish = publish
        self._store_event = store_event
        self._observe = observe

    def on_final(self, text: str, leg: str, language: str, final_at: float) -> None:
        """A final transcript; ``final_at`` is when it was published (perf_counter), for the latency metric."""
        self._emit(lambda: self.session.on_final(text, leg, language), final_at)

    def on_reason(self, text: str, language: str) -> None:
        """What the caller said while queued."""
        self._emit(lambda: self.session.on_reason(text, language), None)

    def on_verification(self, decision: str | None) -> None:
        """A verification result of the claimed customer (our decisions mapped to the engine's)."""
        mapped = _DECISIONS.get(decision or "")
        self._emit(lambda: self.session.on_verification(mapped), None)  # type: ignore[arg-type]

    def on_profile(self, ctx: HintContext) -> None:
        """The customer's profile (flags, cards, documents, cases, recent contacts)."""
        self._emit(lambda: self.session.on_profile(ctx), None)

    def _emit(self, produce: Callable[[], list[Hint]], since: float | None) -> None:
        try:
            self._emit_now(produce(), since)
        except Exception:
            log.exception("hint engine failed; the call goes on without these hints")

    def _emit_now(self, hints: list[Hint], since: float | None) -> None:
        events = [hint_event(hint) for hint in hints]
        for event in events:
            self._publish(event)
        if hints and since is not None:
            self._observe(time.perf_counter() - since)
        for event in events:  # after publishing: the agent sees it first, the timeline keeps it for analytics
            self._store_event(event)
        reason = self.session.predicted_reason
        if reason is not None and any(h.kind == "reason" for h in hints):
            self._publish(ReasonPredicted(topic=reason.topic, confidence=reason.confidence, source=reason.source,
                                          why=reason.why))


def hint_event(hint: Hint) -> HintShown:
    """A hint as a call event (``hint_id``, ``hint_kind``: the envelope has ``id``)."""
    return HintShown(hint_id=hint.id, hint_kind=str(hint.kind), title=hint.title, text=hint.text, link=hint.link,
                     confidence=round(hint.confidence, 3), why=hint.why, leg=hint.leg, topic=hint.topic,
                     created=hint.created.isoformat())
