"""Each proactive rule fires with the right text and why when its condition holds, and only then."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from hints.context import Card, Document, HintContext, Interaction, OpenCase, VerificationDecision
from hints.engine import HintEngine
from hints.rule_config import RuleSpec
from hints.rules import RuleHit, RuleInput, evaluate
from tests.hints.conftest import NOW, days_ago


def run(engine: HintEngine, ctx: HintContext, topics: tuple[str, ...] = (), rule_id: str | None = None,
        window: int = 7) -> list[RuleHit]:
    rules = [r for r in engine.rules if rule_id is None or r.id == rule_id]
    return evaluate(rules, RuleInput(ctx, NOW, topics, window, engine.topic_titles))


def only(engine: HintEngine, ctx: HintContext, rule_id: str, topics: tuple[str, ...] = ()) -> RuleHit | None:
    hits = run(engine, ctx, topics, rule_id)
    assert len(hits) <= 1
    return hits[0] if hits else None


def test_quiet_profile_fires_nothing(engine: HintEngine, quiet_profile: HintContext) -> None:
    assert run(engine, quiet_profile, topics=("card_lost", "fees")) == []


def test_busy_profile_fires_every_rule_in_file_order(engine: HintEngine, busy_profile: HintContext) -> None:
    hits = run(engine, busy_profile, topics=("card_lost",))
    assert [h.rule.id for h in hits] == [r.id for r in engine.rules]


@pytest.mark.parametrize(("decision", "shown"), [(None, "none"), ("not_verified", "not_verified"),
                                                  ("inconclusive", "inconclusive")])
def test_not_verified(engine: HintEngine, quiet_profile: HintContext, decision: VerificationDecision | None,
                      shown: str) -> None:
    ctx = dataclasses.replace(quiet_profile, verification=decision)
    hit = only(engine, ctx, "not_verified")
    assert hit is not None and hit.why == f"not_verified: verification decision {shown}"
    assert shown in hit.text
    assert only(engine, quiet_profile, "not_verified") is None  # verified


def test_vip(engine: HintEngine, quiet_profile: HintContext) -> None:
    hit = only(engine, dataclasses.replace(quiet_profile, flags=frozenset({"vip", "salary"})), "vip")
    assert hit is not None and hit.why == "vip: customer flag 'vip'" and hit.title == "VIP-клієнт"
    assert only(engine, dataclasses.replace(quiet_profile, flags=frozenset({"salary"})), "vip") is None


def test_blocked_card(engine: HintEngine, quiet_profile: HintContext) -> None:
    cards = (Card("4321", "active", date(2027, 5, 31)), Card("8765", "blocked", date(2027, 5, 31), "antifraud"))
    hit = only(engine, dataclasses.replace(quiet_profile, cards=cards), "blocked_card")
    assert hit is not None and hit.why == "blocked_card: card *8765 blocked (antifraud)"
    assert hit.title == "Картку *8765 заблоковано" and "antifraud" in hit.text and hit.topic == "card_blocked"
    no_reason = (Card("8765", "blocked", date(2027, 5, 31)),)
    hit = only(engine, dataclasses.replace(quiet_profile, cards=no_reason), "blocked_card")
    assert hit is not None and hit.why.endswith("(unknown)")


def test_expired_card(engine: HintEngine, quiet_profile: HintContext) -> None:
    cards = (Card("4321", "active", date(2025, 2, 28)), Card("5555", "closed", date(2020, 1, 31)))
    hit = only(engine, dataclasses.replace(quiet_profile, cards=cards), "expired_card")
    assert hit is not None and hit.why == "expired_card: card *4321 expired 2025-02-28"
    assert "02/25" in hit.text  # the template formats the date: {expired:%m/%y}
    flagged = (Card("4321", "expired", date(2025, 3, 31)),)  # the bank says so before the date
    assert only(engine, dataclasses.replace(quiet_profile, cards=flagged), "expired_card") is not None
    closed_only = (Card("5555", "closed", date(2020, 1, 31)),)
    assert only(engine, dataclasses.replace(quiet_profile, cards=closed_only), "expired_card") is None
    valid_today = (Card("4321", "active", NOW.date()),)
    assert only(engine, dataclasses.replace(quiet_profile, cards=valid_today), "expired_card") is None


def test_expired_document(engine: HintEngine, quiet_profile: HintContext) -> None:
    docs = (Document("passport", date(2025, 1, 15)), Document("id_card", date(2024, 6, 1)), Document("tax_id", None))
    hit = only(engine, dataclasses.replace(quiet_profile, documents=docs), "expired_document")
    assert hit is not None and hit.why == "expired_document: id_card expired 2024-06-01"  # the oldest first
    assert "id_card" in hit.text and "01.06.2024" in hit.text


def test_open_case(engine: HintEngine, quiet_profile: HintContext) -> None:
    cases = (OpenCase("CS-1", "fees", days_ago(20)), OpenCase("CS-2", "card_delivery", days_ago(3), "Courier"))
    hit = only(engine, dataclasses.replace(quiet_profile, open_cases=cases), "open_case")
    assert hit is not None
    assert hit.why == "open_case: case CS-2 (card_delivery) open since 2025-03-07, 2 open cases"
    assert hit.title == "Відкрите звернення CS-2" and "Доставка та перевипуск картки" in hit.text
    assert "3 дн." in hit.text and hit.topic == "card_delivery"


def test_repeat_contact_needs_the_same_topic_within_the_window(engine: HintEngine,
                                                                quiet_profile: HintContext) -> None:
    inter = (Interaction(days_ago(10), ("fees",), "call"), Interaction(days_ago(2), ("card_lost", "cards"), "chat"),
             Interaction(days_ago(1), ("statement",), "call"))
    ctx = dataclasses.replace(quiet_profile, interactions=inter)
    hit = only(engine, ctx, "repeat_contact", topics=("card_lost",))
    assert hit is not None and hit.topic == "card_lost"
    assert hit.why == "repeat_contact: card_lost also on 2025-03-08 (chat, 2 d ago, within 7 d)"
    assert "Картку загублено або викрадено" in hit.text and "08.03.2025" in hit.text
    assert only(engine, ctx, "repeat_contact", topics=("fees",)) is None  # 10 days ago: outside the window
    assert only(engine, ctx, "repeat_contact", topics=("pin_reset",)) is None  # no earlier contact about it
    assert only(engine, ctx, "repeat_contact", topics=()) is None  # the caller has not said why yet


def test_repeat_contact_window_is_configurable(engine: HintEngine, quiet_profile: HintContext) -> None:
    ctx = dataclasses.replace(quiet_profile, interactions=(Interaction(days_ago(10), ("fees",)),))
    assert run(engine, ctx, ("fees",), "repeat_contact", window=14)
    spec = RuleSpec(id="r", when="repeat_contact", title="t", text="{days_ago}", window_days=30)
    (hit,) = evaluate([spec], RuleInput(ctx, NOW, ("fees",), 7, {}))
    assert hit.text == "10" and "within 30 d" in hit.why


def test_future_interactions_are_ignored(engine: HintEngine, quiet_profile: HintContext) -> None:
    ctx = dataclasses.replace(quiet_profile, interactions=(Interaction(days_ago(-1), ("fees",)),))
    assert only(engine, ctx, "repeat_contact", topics=("fees",)) is None
