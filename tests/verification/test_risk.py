"""Risk of a verdict: low only when the voice, the amount of speech and the caller's number all agree."""

from __future__ import annotations

import pytest

from verification.risk import REPLAY_NOTHING, REPLAY_OFF, assess_risk


@pytest.mark.parametrize(("decision", "net", "trust", "risk"), [
    ("verified", 8.0, "asserted", "low"),
    ("verified", 8.0, "peer", "low"),
    ("verified", 8.0, "unverified", "medium"),  # a good voice match from a number anyone could send
    ("verified", 3.5, "asserted", "medium"),  # little speech
    ("inconclusive", 8.0, "asserted", "medium"),
    ("not_enrolled", 0.0, "asserted", "medium"),
    ("not_verified", 8.0, "asserted", "high"),
    ("suspected_replay", 8.0, "asserted", "high"),  # the customer's voice, from a recording
])
def test_risk_levels(decision: str, net: float, trust: str, risk: str) -> None:
    assert assess_risk(decision, 0.9, 0.83, net, trust)[0] == risk


def test_the_reasons_say_margin_speech_replay_and_number() -> None:
    _, reasons = assess_risk("verified", 0.874, 0.831, 4.2, None)
    assert reasons == ["score margin +0.043 from the threshold 0.831", "net speech 4.2 s (little)", REPLAY_OFF,
                       "caller number: unknown"]
    assert "score margin" not in " ".join(assess_risk("not_enrolled", None, None, 0.0, "peer")[1])


def test_the_replay_reason_says_what_was_compared_and_what_matched() -> None:
    assert assess_risk("verified", 0.9, 0.83, 8.0, "asserted", None, 0)[1][2] == REPLAY_NOTHING
    risk, reasons = assess_risk("verified", 0.9, 0.83, 8.0, "asserted", None, 4)
    assert risk == "low" and reasons[2].startswith("replay: no match with 4 recording(s) heard before")
    found = "replay suspected: matches call c1 (aligned_landmarks 31, offset_s 2.1)"
    assert assess_risk("verified", 0.9, 0.83, 8.0, "asserted", found, 4) == ("high", [
        "score margin +0.070 from the threshold 0.830", "net speech 8.0 s", found,
        "caller number: asserted by a trusted peer"])
