"""The predicted reason for a call: what the caller said while queued, their open cases, recent contacts.

Each source gives evidence for one topic with a confidence; evidence for the same topic adds up as
independent signals (``1 - prod(1 - c)``) and the topic with the most wins.

* ``reason``: the knowledge-base match of the caller's words in the queue (its confidence);
* ``open_case``: the newest open case (:data:`OPEN_CASE_CONFIDENCE`);
* ``history``: the newest contact within the window, from :data:`HISTORY_NEW` (today) down to
  :data:`HISTORY_OLD` (at the window's end).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hints.context import HintContext
from hints.matcher import KbMatch

OPEN_CASE_CONFIDENCE = 0.6
HISTORY_NEW = 0.5
HISTORY_OLD = 0.2
SOURCES = ("reason", "open_case", "history")


@dataclass(frozen=True)
class Evidence:
    """One source's vote for a topic."""

    topic: str
    confidence: float
    source: str
    why: str


@dataclass(frozen=True)
class PredictedReason:
    """The likely reason for the call. ``source`` is "reason", "open_case", "history" or several of them
    joined by "+" when they agree; ``why`` lists the evidence."""

    topic: str
    confidence: float
    source: str
    why: str


def from_words(match: KbMatch | None) -> list[Evidence]:
    """Evidence from the caller's words while queued (the best knowledge-base match, if any)."""
    if match is None:
        return []
    return [Evidence(match.article.topic, match.confidence, "reason", f"caller said: {match.why}")]


def from_profile(ctx: HintContext | None, now: datetime, window_days: int) -> list[Evidence]:
    """Evidence from the newest open case and the newest contact within ``window_days``."""
    if ctx is None:
        return []
    out = []
    if ctx.open_cases:
        case = max(ctx.open_cases, key=lambda c: c.opened)
        out.append(Evidence(case.topic, OPEN_CASE_CONFIDENCE, "open_case",
                            f"open case {case.case_id} since {case.opened.date().isoformat()}"))
    recent = [i for i in ctx.interactions if i.topics and (now - i.at).total_seconds() >= 0
              and (now - i.at).days < window_days]
    if recent:
        last = max(recent, key=lambda i: i.at)
        age = (now - last.at).total_seconds() / 86400
        conf = HISTORY_NEW - (HISTORY_NEW - HISTORY_OLD) * min(1.0, age / window_days)
        out.append(Evidence(last.topics[0], conf, "history",
                            f"{last.channel} on {last.at.date().isoformat()} about {last.topics[0]}"))
    return out


def combine(evidence: list[Evidence]) -> PredictedReason | None:
    """The topic with the strongest combined evidence (ties: the earlier source in :data:`SOURCES`)."""
    by_topic: dict[str, list[Evidence]] = {}
    for ev in evidence:
        by_topic.setdefault(ev.topic, []).append(ev)
    best: PredictedReason | None = None
    for topic, evs in by_topic.items():
        evs.sort(key=lambda e: SOURCES.index(e.source) if e.source in SOURCES else len(SOURCES))
        miss = 1.0
        for ev in evs:
            miss *= 1.0 - ev.confidence
        cand = PredictedReason(topic, round(1.0 - miss, 4), "+".join(e.source for e in evs),
                               "; ".join(e.why for e in evs))
        if best is None or cand.confidence > best.confidence:
            best = cand
    return best


def predict_reason(match: KbMatch | None, ctx: HintContext | None, now: datetime,
                   window_days: int = 7) -> PredictedReason | None:
    """The predicted reason from the queued words' best match and the profile; None without evidence."""
    return combine(from_words(match) + from_profile(ctx, now, window_days))
