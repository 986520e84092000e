"""A call's hint session: what fires on each event, never twice, and why."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

import pytest

from hints.context import HintContext, Interaction
from hints.engine import HintEngine
from hints.errors import ContextError
from hints.hint import Hint
from hints.session import HintSession
from tests.hints.conftest import NOW, days_ago


def ids(hints: Sequence[Hint]) -> list[str]:
    return [h.id for h in hints]


def test_kb_hint_fields(session: HintSession) -> None:
    (hint,) = session.on_final("добрий день я загубив картку", "caller", "uk")
    assert (hint.id, hint.kind, hint.leg, hint.topic, hint.created) == ("kb:card-lost", "kb", "caller", "card_lost",
                                                                        NOW)
    assert hint.title == "Картку загублено або викрадено" and hint.text.startswith("Негайно заблокуйте")
    assert hint.link and hint.link.endswith("/cards/lost-stolen")
    assert "загубив (загубити)" in hint.why and 0.5 <= hint.confidence <= 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        hint.title = "x"  # type: ignore[misc]


def test_no_repeats_within_a_call(session: HintSession) -> None:
    assert ids(session.on_final("я загубив картку", "caller", "uk")) == ["kb:card-lost"]
    assert session.on_final("так я загубила картку", "caller", "uk") == []
    assert session.on_final("картку загублено", "caller", "uk") == []
    assert ids(session.on_final("і ще я забула пін код", "caller", "uk")) == ["kb:pin-reset"]
    assert ids(session.history) == ["kb:card-lost", "kb:pin-reset"]
    assert session.fired == {"kb:card-lost", "kb:pin-reset"}


def test_a_new_session_fires_again(engine: HintEngine, session: HintSession) -> None:
    assert session.on_final("я загубив картку", "caller", "uk")
    assert engine.session(clock=lambda: NOW).on_final("я загубив картку", "caller", "uk")


def test_only_caller_leg_by_default(engine: HintEngine, session: HintSession) -> None:
    assert session.on_final("ви загубили картку", "agent", "uk") == []
    both = HintEngine(engine.settings.model_copy(update={"legs": ("caller", "agent")}), engine.kb, engine.rules,
                      engine.lemmatizer).session(clock=lambda: NOW)
    (hint,) = both.on_final("ви загубили картку", "agent", "uk")
    assert hint.leg == "agent"


def test_unrelated_finals_stay_quiet(session: HintSession) -> None:
    for text in ["алло добрий день", "так слухаю", "мене звати олена", "дякую до побачення"]:
        assert session.on_final(text, "caller", "uk") == []


def test_request_split_by_a_pause_still_matches(session: HintSession) -> None:
    assert session.on_final("у мене проблема з карткою", "caller", "uk") == []
    assert ids(session.on_final("я її загубив", "caller", "uk")) == ["kb:card-lost"]


def test_context_window_is_per_leg_and_bounded(engine: HintEngine) -> None:
    single = HintEngine(engine.settings.model_copy(update={"context_finals": 1}), engine.kb, engine.rules,
                        engine.lemmatizer).session(clock=lambda: NOW)
    assert single.on_final("у мене проблема з карткою", "caller", "uk") == []
    assert single.on_final("я її загубив", "caller", "uk") == []


def test_at_most_max_per_final(engine: HintEngine) -> None:
    settings = engine.settings.model_copy(update={"max_per_final": 1, "runner_up_ratio": 0.0})
    s = HintEngine(settings, engine.kb, engine.rules, engine.lemmatizer).session(clock=lambda: NOW)
    assert len(s.on_final("я забула пін код і загубила картку", "caller", "uk")) == 1


def test_profile_rules_fire_once(session: HintSession, busy_profile: HintContext) -> None:
    first = session.on_profile(busy_profile)
    # repeat_contact waits for the caller to name a topic; the open case outweighs the 2-day-old call
    assert ids(first) == ["rule:not_verified", "rule:suspected_replay", "rule:vip", "rule:blocked_card",
                          "rule:open_case", "rule:expired_card", "rule:expired_document", "reason:card_delivery"]
    rules = [h for h in first if h.kind == "rule"]
    assert all(h.confidence == 1.0 and h.leg is None for h in rules)
    assert all(h.why.startswith(h.id.removeprefix("rule:") + ": ") for h in rules)
    assert session.on_profile(busy_profile) == []  # nothing new


def test_quiet_profile_fires_no_rule(session: HintSession, quiet_profile: HintContext) -> None:
    assert session.on_profile(quiet_profile) == []


def test_not_verified_until_verification_arrives(session: HintSession, quiet_profile: HintContext) -> None:
    unverified = dataclasses.replace(quiet_profile, verification=None)
    assert session.on_verification("verified") == []  # no profile yet: nothing to say
    assert session.on_profile(unverified) == []  # the session's decision overrides the profile's
    assert session.context is not None and session.context.verification == "verified"


def test_verification_failure_after_profile(session: HintSession, quiet_profile: HintContext) -> None:
    assert session.on_profile(quiet_profile) == []
    (hint,) = session.on_verification("not_verified")
    assert hint.id == "rule:not_verified" and hint.why == "not_verified: verification decision not_verified"
    assert session.on_verification("inconclusive") == []  # fired already
    (replay,) = session.on_verification("suspected_replay")  # its own warning, on top of "not verified"
    assert replay.id == "rule:suspected_replay" and "записом" in replay.text


def test_bad_verification_decision(session: HintSession) -> None:
    with pytest.raises(ContextError) as info:
        session.on_verification("maybe")  # type: ignore[arg-type]
    assert info.value.field == "verification" and info.value.value == "maybe"


def test_repeat_contact_fires_when_the_caller_names_the_topic(session: HintSession,
                                                              quiet_profile: HintContext) -> None:
    ctx = dataclasses.replace(quiet_profile, interactions=(Interaction(days_ago(2), ("pin_reset",), "call"),))
    assert ids(session.on_profile(ctx)) == ["reason:pin_reset"]  # from history; not a repeat yet
    (repeat,) = session.on_final("я знову забула пін код", "caller", "uk")  # the article came with the reason
    assert repeat.id == "rule:repeat_contact" and repeat.topic == "pin_reset"
    assert repeat.why.startswith("repeat_contact: pin_reset also on 2025-03-08")


def test_repeat_contact_in_the_same_final_as_the_article(session: HintSession, quiet_profile: HintContext) -> None:
    ctx = dataclasses.replace(quiet_profile, interactions=(Interaction(days_ago(3), ("fees",), "call"),
                                                           Interaction(days_ago(1), ("statement",), "chat")))
    assert ids(session.on_profile(ctx)) == ["reason:statement"]
    assert ids(session.on_final("чому з мене знову зняли комісію", "caller", "uk")) == ["kb:fees",
                                                                                        "rule:repeat_contact"]


def test_reason_hint_from_queued_words(session: HintSession) -> None:
    (hint,) = session.on_reason("потеряла карточку", "ru")
    assert (hint.id, hint.kind, hint.leg, hint.topic) == ("reason:card_lost", "reason", "caller", "card_lost")
    assert hint.title == "Ймовірна причина дзвінка: Картку загублено або викрадено"
    assert hint.why.startswith("reason: caller said: потеряла (потерять)")
    assert session.predicted_reason is not None and session.predicted_reason.topic == "card_lost"
    assert session.topics == ("card_lost",)
    # the reason hint carried the article's answer: the article does not fire again on a final
    assert session.on_final("я потеряла карточку", "caller", "ru") == []


def test_reason_from_history_alone(session: HintSession, quiet_profile: HintContext) -> None:
    ctx = dataclasses.replace(quiet_profile, interactions=(Interaction(days_ago(1), ("statement",), "chat"),))
    (hint,) = session.on_profile(ctx)
    assert hint.id == "reason:statement" and hint.leg is None and hint.why.startswith("history: chat on")
    assert session.topics == ()  # history is no evidence of what the caller says now


def test_weak_reason_is_not_shown(engine: HintEngine, quiet_profile: HintContext) -> None:
    strict = engine.settings.model_copy(update={"reason_min_confidence": 0.9})
    s = HintEngine(strict, engine.kb, engine.rules, engine.lemmatizer).session(clock=lambda: NOW)
    ctx = dataclasses.replace(quiet_profile, interactions=(Interaction(days_ago(1), ("statement",)),))
    assert s.on_profile(ctx) == []
    assert s.predicted_reason is not None and s.predicted_reason.topic == "statement"


def test_unrelated_queued_words_predict_nothing(session: HintSession) -> None:
    assert session.on_reason("добрий день чекаю на оператора", "uk") == []
    assert session.predicted_reason is None


def test_naive_clock_is_rejected(engine: HintEngine) -> None:
    s = engine.session(clock=lambda: datetime(2025, 1, 1))
    with pytest.raises(ContextError) as info:
        s.on_final("я загубив картку", "caller", "uk")
    assert info.value.field == "clock"


def test_default_clock_is_aware(engine: HintEngine) -> None:
    (hint,) = engine.session().on_final("я загубив картку", "caller", "uk")
    assert hint.created.tzinfo is not None


def test_filler_after_a_topic_does_not_fire_through_the_window(session: HintSession) -> None:
    assert ids(session.on_final("перевищено ліміт на зняття готівки", "caller", "uk")) == ["kb:card-limit"]
    # "зняття готівки" also sits in a fees trigger; the filler adds nothing, so nothing new fires
    assert session.on_final("зачекайте хвилинку", "caller", "uk") == []
    assert session.on_final("змінити денний ліміт", "caller", "uk") == []
    # two thirds of "змінити номер телефону" across two finals is not enough
    assert session.on_final("мій номер закінчується на сорок два", "caller", "uk") == []


def test_a_shown_article_does_not_crowd_out_a_new_one(session: HintSession) -> None:
    assert ids(session.on_final("мені дзвонили шахраї і списали гроші", "caller", "uk")) == ["kb:fraud"]
    # fraud would outrank fees again (runner-up rule), but it was shown already
    assert ids(session.on_final("шахраї списали гроші а ще яка комісія за переказ", "caller", "uk")) == ["kb:fees"]
