"""The risk of a verification verdict and the reasons behind it, for the agent and the security team.

A voiceprint decision alone is not identity: how far the score is from the threshold, how much speech it
rests on, whether the audio could be a replay and whether the caller's number can be believed all change
how much the agent should trust it. Risk is ``low`` only when everything agrees; ``high`` when the voice
does not match.
"""

from __future__ import annotations

from typing import Literal

Risk = Literal["low", "medium", "high"]
SOLID_SPEECH_S = 5.0  # net speech below which a verdict rests on little audio
REPLAY_NOT_CHECKED = "replay: not checked (no replay detector yet; a recording of the customer could pass)"


def assess_risk(decision: str, score: float | None, threshold: float | None, net_speech_s: float,
                number_trust: str | None) -> tuple[Risk, list[str]]:
    """(risk, reasons) of one verdict. ``number_trust``: asserted | peer | unverified, None when unknown."""
    reasons: list[str] = []
    if score is not None and threshold is not None:
        reasons.append(f"score margin {score - threshold:+.3f} from the threshold {threshold:.3f}")
    reasons.append(f"net speech {net_speech_s:.1f} s" + (" (little)" if net_speech_s < SOLID_SPEECH_S else ""))
    reasons.append(REPLAY_NOT_CHECKED)
    trusted = number_trust in ("asserted", "peer")
    reasons.append("caller number: " + {"asserted": "asserted by a trusted peer", "peer": "from a trusted peer",
                                        "unverified": "unverified (untrusted source)"}.get(number_trust or "",
                                                                                           "unknown"))
    if decision == "not_verified":
        return "high", reasons
    if decision == "verified" and trusted and net_speech_s >= SOLID_SPEECH_S:
        return "low", reasons
    return "medium", reasons
