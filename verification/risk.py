"""The risk of a verification verdict and the reasons behind it, for the agent and the security team.

A voiceprint decision alone is not identity: how far the score is from the threshold, how much speech it
rests on, whether the audio replays a recording Hotline heard before and whether the caller's number can
be believed all change how much the agent should trust it. Risk is ``low`` only when everything agrees;
``high`` when the voice does not match or the audio is a suspected replay.
"""

from __future__ import annotations

from typing import Literal

Risk = Literal["low", "medium", "high"]
SOLID_SPEECH_S = 5.0  # net speech below which a verdict rests on little audio
REPLAY_OFF = "replay: not checked (replay detection is off; a recording of the customer could pass)"
REPLAY_NOTHING = "replay: nothing to compare with yet (no enrolment or call fingerprints of this customer)"


def replay_reason(finding: str | None, checked: int | None) -> str:
    """What the replay check found: a match (``finding``), no match among ``checked`` recordings, or not run."""
    if finding is not None:
        return finding
    if checked is None:
        return REPLAY_OFF
    if checked == 0:
        return REPLAY_NOTHING
    return f"replay: no match with {checked} recording(s) heard before (synthetic speech is not detected)"


def assess_risk(decision: str, score: float | None, threshold: float | None, net_speech_s: float,
                number_trust: str | None, replay: str | None = None, replay_checked: int | None = None
                ) -> tuple[Risk, list[str]]:
    """(risk, reasons) of one verdict. ``number_trust``: asserted | peer | unverified, None when unknown.

    ``replay``: the replay finding (None: no match); ``replay_checked``: known recordings compared (None:
    the check did not run).
    """
    reasons: list[str] = []
    if score is not None and threshold is not None:
        reasons.append(f"score margin {score - threshold:+.3f} from the threshold {threshold:.3f}")
    reasons.append(f"net speech {net_speech_s:.1f} s" + (" (little)" if net_speech_s < SOLID_SPEECH_S else ""))
    reasons.append(replay_reason(replay, replay_checked))
    trusted = number_trust in ("asserted", "peer")
    reasons.append("caller number: " + {"asserted": "asserted by a trusted peer", "peer": "from a trusted peer",
                                        "unverified": "unverified (untrusted source)"}.get(number_trust or "",
                                                                                           "unknown"))
    if decision in ("not_verified", "suspected_replay") or replay is not None:
        return "high", reasons
    if decision == "verified" and trusted and net_speech_s >= SOLID_SPEECH_S:
        return "low", reasons
    return "medium", reasons
