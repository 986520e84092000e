"""Predicting the reason for a call from the queued words, open cases and recent contacts."""

from __future__ import annotations

import dataclasses

import pytest

from hints.context import HintContext, Interaction, OpenCase
from hints.engine import HintEngine
from hints.matcher import KbMatch
from hints.reason import HISTORY_NEW, HISTORY_OLD, OPEN_CASE_CONFIDENCE, Evidence, combine, predict_reason
from tests.hints.conftest import NOW, days_ago


def said(engine: HintEngine, text: str, lang: str = "uk") -> KbMatch | None:
    hits = engine.matcher.match(text, lang)
    return hits[0] if hits else None


def test_nothing_known() -> None:
    assert predict_reason(None, None, NOW) is None


def test_from_words(engine: HintEngine) -> None:
    pr = predict_reason(said(engine, "я загубив картку"), None, NOW)
    assert pr is not None and pr.topic == "card_lost" and pr.source == "reason"
    assert "загубив (загубити)" in pr.why and 0.5 <= pr.confidence <= 1


def test_from_open_case(quiet_profile: HintContext) -> None:
    ctx = dataclasses.replace(quiet_profile, open_cases=(OpenCase("CS-1", "fees", days_ago(30)),
                                                         OpenCase("CS-2", "card_delivery", days_ago(2))))
    pr = predict_reason(None, ctx, NOW)
    assert pr is not None and (pr.topic, pr.source, pr.confidence) == ("card_delivery", "open_case",
                                                                      OPEN_CASE_CONFIDENCE)
    assert pr.why == "open case CS-2 since 2025-03-08"


@pytest.mark.parametrize(("age", "expected"), [(0, HISTORY_NEW), (3.5, (HISTORY_NEW + HISTORY_OLD) / 2)])
def test_from_history_decays_with_age(quiet_profile: HintContext, age: float, expected: float) -> None:
    ctx = dataclasses.replace(quiet_profile, interactions=(Interaction(days_ago(age), ("statement", "docs")),))
    pr = predict_reason(None, ctx, NOW, window_days=7)
    assert pr is not None and pr.topic == "statement" and pr.source == "history"
    assert pr.confidence == pytest.approx(expected, abs=1e-3)


def test_history_outside_window_or_untagged_is_ignored(quiet_profile: HintContext) -> None:
    ctx = dataclasses.replace(quiet_profile, interactions=(Interaction(days_ago(8), ("fees",)),
                                                           Interaction(days_ago(1), ())))
    assert predict_reason(None, ctx, NOW, window_days=7) is None
    assert predict_reason(None, ctx, NOW, window_days=14) is not None


def test_newest_interaction_wins(quiet_profile: HintContext) -> None:
    ctx = dataclasses.replace(quiet_profile, interactions=(Interaction(days_ago(5), ("fees",)),
                                                           Interaction(days_ago(1), ("app_login",))))
    pr = predict_reason(None, ctx, NOW)
    assert pr is not None and pr.topic == "app_login"


def test_agreeing_sources_add_up(engine: HintEngine, quiet_profile: HintContext) -> None:
    words = said(engine, "я загубив картку")
    ctx = dataclasses.replace(quiet_profile, interactions=(Interaction(days_ago(1), ("card_lost",), "chat"),))
    alone = predict_reason(words, None, NOW)
    both = predict_reason(words, ctx, NOW)
    assert alone is not None and both is not None
    assert both.topic == "card_lost" and both.source == "reason+history" and both.confidence > alone.confidence
    assert "chat on 2025-03-09 about card_lost" in both.why


def test_words_beat_weaker_history(engine: HintEngine, quiet_profile: HintContext) -> None:
    ctx = dataclasses.replace(quiet_profile, interactions=(Interaction(days_ago(1), ("fees",)),))
    pr = predict_reason(said(engine, "не можу зайти в застосунок"), ctx, NOW)
    assert pr is not None and pr.topic == "app_login" and pr.source == "reason"


def test_combine_picks_strongest_topic() -> None:
    evidence = [Evidence("a", 0.4, "history", "h"), Evidence("b", 0.6, "open_case", "c"),
                Evidence("a", 0.4, "reason", "r")]
    pr = combine(evidence)
    assert pr is not None and pr.topic == "a" and pr.confidence == pytest.approx(0.64)
    assert pr.source == "reason+history" and pr.why == "r; h"
    assert combine([]) is None
