"""Risk of a verdict: low only when the voice, the amount of speech and the caller's number all agree."""

from __future__ import annotations

import pytest

from verification.risk import REPLAY_NOT_CHECKED, assess_risk


@pytest.mark.parametrize(("decision", "net", "trust", "risk"), [
    ("verified", 8.0, "asserted", "low"),
    ("verified", 8.0, "peer", "low"),
    ("verified", 8.0, "unverified", "medium"),  # a good voice match from a number anyone could send
    ("verified", 3.5, "asserted", "medium"),  # little speech
    ("inconclusive", 8.0, "asserted", "medium"),
    ("not_enrolled", 0.0, "asserted", "medium"),
    ("not_verified", 8.0, "asserted", "high"),
])
def test_risk_levels(decision: str, net: float, trust: str, risk: str) -> None:
    assert assess_risk(decision, 0.9, 0.83, net, trust)[0] == risk


def test_the_reasons_say_margin_speech_replay_and_number() -> None:
    _, reasons = assess_risk("verified", 0.874, 0.831, 4.2, None)
    assert reasons == ["score margin +0.043 from the threshold 0.831", "net speech 4.2 s (little)", REPLAY_NOT_CHECKED,
                       "caller number: unknown"]
    assert "score margin" not in " ".join(assess_risk("not_enrolled", None, None, 0.0, "peer")[1])
