"""Evaluating the proactive rules against a customer profile: which fire, with what text and why.

Pure functions of (rules, profile, topics the caller raised so far, now). Each condition returns the
template fields and a one-line detail for ``why``, or None when it does not hold. Date fields
(``opened``, ``expired``, ``when``) are ``datetime.date`` objects, so templates may format them
("{expired:%m/%y}"); plain "{expired}" gives the ISO date.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hints.context import HintContext
from hints.rule_config import RuleSpec

Fields = dict[str, Any]
Found = tuple[Fields, str, str | None]  # template fields, detail for why, topic


@dataclass(frozen=True)
class RuleHit:
    """A rule that holds: its rendered title and text, ``why`` ("<rule id>: <detail>") and topic, if any."""

    rule: RuleSpec
    title: str
    text: str
    why: str
    topic: str | None = None


@dataclass(frozen=True)
class RuleInput:
    """What the conditions look at."""

    ctx: HintContext
    now: datetime
    call_topics: Collection[str]
    window_days: int
    topic_titles: Mapping[str, str]

    @property
    def today(self) -> date:
        """The current date in the clock's time zone."""
        return self.now.date()


def _not_verified(rule: RuleSpec, x: RuleInput) -> Found | None:
    if x.ctx.verification == "verified":
        return None
    decision = x.ctx.verification or "none"
    return {"decision": decision}, f"verification decision {decision}", None


def _suspected_replay(rule: RuleSpec, x: RuleInput) -> Found | None:
    if x.ctx.verification != "suspected_replay":
        return None
    return {"decision": "suspected_replay"}, "the caller's audio replays a recording heard before", None


def _customer_flag(rule: RuleSpec, x: RuleInput) -> Found | None:
    if rule.flag not in x.ctx.flags:
        return None
    return {"flag": rule.flag}, f"customer flag {rule.flag!r}", None


def _open_case(rule: RuleSpec, x: RuleInput) -> Found | None:
    if not x.ctx.open_cases:
        return None
    case = max(x.ctx.open_cases, key=lambda c: c.opened)
    days = (x.now - case.opened).days
    fields = {"case_id": case.case_id, "topic": case.topic, "topic_title": x.topic_titles.get(case.topic, case.topic),
              "opened": case.opened.date(), "days_open": days, "summary": case.summary,
              "count": len(x.ctx.open_cases)}
    detail = f"case {case.case_id} ({case.topic}) open since {case.opened.date().isoformat()}"
    if len(x.ctx.open_cases) > 1:
        detail += f", {len(x.ctx.open_cases)} open cases"
    return fields, detail, case.topic


def _expired_document(rule: RuleSpec, x: RuleInput) -> Found | None:
    expired = sorted((d.expires, d.kind) for d in x.ctx.documents if d.expires is not None and d.expires < x.today)
    if not expired:
        return None
    when, kind = expired[0]
    return ({"document": kind, "expired": when, "count": len(expired)},
            f"{kind} expired {when.isoformat()}", None)


def _expired_card(rule: RuleSpec, x: RuleInput) -> Found | None:
    expired = sorted((c for c in x.ctx.cards if c.status != "closed"
                      and (c.status == "expired" or c.expires < x.today)), key=lambda c: c.expires)
    if not expired:
        return None
    card = expired[0]
    fields = {"last4": card.last4, "expired": card.expires, "count": len(expired)}
    return fields, f"card *{card.last4} expired {card.expires.isoformat()}", None


def _blocked_card(rule: RuleSpec, x: RuleInput) -> Found | None:
    blocked = [c for c in x.ctx.cards if c.status == "blocked"]
    if not blocked:
        return None
    card = blocked[0]
    reason = card.block_reason or "unknown"
    return ({"last4": card.last4, "reason": reason, "count": len(blocked)},
            f"card *{card.last4} blocked ({reason})", "card_blocked")


def _repeat_contact(rule: RuleSpec, x: RuleInput) -> Found | None:
    window = rule.window_days or x.window_days
    for inter in sorted(x.ctx.interactions, key=lambda i: i.at, reverse=True):
        age = x.now - inter.at
        if age.total_seconds() < 0 or age.days >= window:
            continue
        same = [t for t in inter.topics if t in x.call_topics]
        if not same:
            continue
        topic = same[0]
        count = sum(1 for i in x.ctx.interactions
                    if topic in i.topics and (x.now - i.at).total_seconds() >= 0 and (x.now - i.at).days < window)
        fields = {"topic": topic, "topic_title": x.topic_titles.get(topic, topic), "days_ago": age.days,
                  "when": inter.at.date(), "channel": inter.channel, "summary": inter.summary,
                  "count": count}
        detail = (f"{topic} also on {inter.at.date().isoformat()} ({inter.channel}, {age.days} d ago, "
                  f"within {window} d)")
        return fields, detail, topic
    return None


CONDITIONS: dict[str, Callable[[RuleSpec, RuleInput], Found | None]] = {
    "not_verified": _not_verified, "suspected_replay": _suspected_replay, "customer_flag": _customer_flag,
    "open_case": _open_case,
    "expired_document": _expired_document, "expired_card": _expired_card, "blocked_card": _blocked_card,
    "repeat_contact": _repeat_contact,
}


def evaluate(rules: Collection[RuleSpec], x: RuleInput) -> list[RuleHit]:
    """The rules that hold for ``x``, in rule order."""
    hits = []
    for rule in rules:
        found = CONDITIONS[rule.when](rule, x)
        if found is None:
            continue
        fields, detail, topic = found
        hits.append(RuleHit(rule, rule.title.format(**fields), rule.text.format(**fields),
                            f"{rule.id}: {detail}", topic))
    return hits
