"""Error rates, thresholds, the calibration file and the accept/reject decision.

A trial is *accepted* when its score is ``>= threshold``. FAR is the share of non-target (impostor)
trials accepted, FRR the share of target (genuine) trials rejected.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from biometrics.errors import CalibrationError
from biometrics.settings import Norm
from biometrics.voiceprint import ModelTag, require_same_model

Decision = Literal["verified", "not_verified", "inconclusive"]
LEGACY_MARGIN = 0.5  # z-units: the margin of calibration files written before they carried their own
ScoreArray = npt.ArrayLike


def error_rates(target: ScoreArray, nontarget: ScoreArray, threshold: float) -> tuple[float, float]:
    """(FAR, FRR) when accepting scores ``>= threshold``."""
    tgt, non = np.asarray(target, dtype=np.float64), np.asarray(nontarget, dtype=np.float64)
    far = float(np.mean(non >= threshold)) if non.size else 0.0
    frr = float(np.mean(tgt < threshold)) if tgt.size else 0.0
    return far, frr


def eer(target: ScoreArray, nontarget: ScoreArray) -> tuple[float, float]:
    """Equal error rate and the threshold where it occurs.

    Every distinct score is tried as a threshold; at the one minimising ``|FAR - FRR|`` the EER is
    reported as ``(FAR + FRR) / 2``.
    """
    tgt, non = np.sort(np.asarray(target, dtype=np.float64)), np.sort(np.asarray(nontarget, dtype=np.float64))
    if tgt.size == 0 or non.size == 0:
        raise CalibrationError(None, f"EER needs target and non-target scores ({tgt.size}, {non.size})")
    cand = np.unique(np.concatenate([tgt, non, [np.nextafter(max(tgt[-1], non[-1]), math.inf)]]))
    frr = np.searchsorted(tgt, cand, side="left") / tgt.size  # targets strictly below
    far = 1.0 - np.searchsorted(non, cand, side="left") / non.size  # non-targets at or above
    i = int(np.argmin(np.abs(far - frr)))
    return float((far[i] + frr[i]) / 2), float(cand[i])


def threshold_at_far(nontarget: ScoreArray, target_far: float) -> float:
    """Threshold accepting at most ``target_far`` of the non-target scores.

    With ``k = floor(target_far * n)`` false accepts allowed, the threshold sits halfway between the
    k-th and (k+1)-th highest non-target scores (just above the highest when k is 0).
    """
    non = np.sort(np.asarray(nontarget, dtype=np.float64))[::-1]
    if non.size == 0:
        raise CalibrationError(None, "no non-target scores")
    k = math.floor(target_far * non.size + 1e-9)
    if k >= non.size:
        return float(non[-1])
    if k == 0:
        return float(np.nextafter(non[0], math.inf))
    return float((non[k - 1] + non[k]) / 2) if non[k - 1] > non[k] else float(np.nextafter(non[k], math.inf))


def min_dcf(target: ScoreArray, nontarget: ScoreArray, p_target: float = 0.01, c_miss: float = 1.0,
            c_fa: float = 1.0) -> float:
    """Normalised minimum detection cost over all thresholds (NIST SRE style).

    ``DCF(t) = c_miss * p_target * FRR(t) + c_fa * (1 - p_target) * FAR(t)``, divided by the cost of the
    better trivial system (accept all or reject all); 0 is perfect, 1 is no better than no system.
    """
    tgt, non = np.sort(np.asarray(target, dtype=np.float64)), np.sort(np.asarray(nontarget, dtype=np.float64))
    if tgt.size == 0 or non.size == 0:
        raise CalibrationError(None, f"minDCF needs target and non-target scores ({tgt.size}, {non.size})")
    cand = np.unique(np.concatenate([tgt, non, [np.nextafter(max(tgt[-1], non[-1]), math.inf)]]))
    frr = np.searchsorted(tgt, cand, side="left") / tgt.size
    far = 1.0 - np.searchsorted(non, cand, side="left") / non.size
    cost = c_miss * p_target * frr + c_fa * (1 - p_target) * far
    return float(cost.min() / min(c_miss * p_target, c_fa * (1 - p_target)))


@dataclass(frozen=True)
class Calibration:
    """What ``hotline voiceprint calibrate`` measured, and the operating threshold."""

    model_id: str
    version: str
    norm: Norm
    threshold: float
    target_far: float
    eer: float
    far: float
    frr: float
    protocol: dict[str, Any] = field(default_factory=dict)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    margin: float | None = None  # the inconclusive band's half-width in this score's units (None: 0.5, legacy)

    @property
    def inconclusive_margin(self) -> float:
        """Half-width of the inconclusive band around the threshold."""
        return self.margin if self.margin is not None else LEGACY_MARGIN

    @property
    def model(self) -> ModelTag:
        """The model the threshold is valid for."""
        return ModelTag(self.model_id, self.version)

    @property
    def top_k(self) -> int:
        """AS-norm K used when calibrating (``protocol.top_k``; 50 when absent)."""
        return int(self.protocol.get("top_k", 50))

    def save(self, path: Path) -> None:
        """Write as indented JSON (parent directories are created)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")


def calibrate_scores(target: ScoreArray, nontarget: ScoreArray, model: ModelTag, norm: Norm, target_far: float,
                     protocol: dict[str, Any]) -> Calibration:
    """Threshold for ``target_far`` plus EER and the FAR/FRR actually obtained at that threshold.

    The inconclusive margin is the distance from that threshold to the one for a ten times smaller FAR: a
    caller is ``verified`` only where impostors are ten times rarer, and ``not_verified`` as far below.
    """
    threshold = threshold_at_far(nontarget, target_far)
    far, frr = error_rates(target, nontarget, threshold)
    rate, _ = eer(target, nontarget)
    margin = max(0.0, threshold_at_far(nontarget, target_far / 10) - threshold)
    return Calibration(model.model_id, model.version, norm, threshold, target_far, rate, far, frr, protocol,
                       margin=margin)


def load_calibration(path: Path, expected: ModelTag | None = None) -> Calibration:
    """Read a calibration file; with ``expected``, refuse one made for another model."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        cal = Calibration(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise CalibrationError(path, f"cannot read calibration ({exc})") from exc
    if cal.norm not in ("none", "snorm", "asnorm"):
        raise CalibrationError(path, f"unknown norm {cal.norm!r}")
    if expected is not None:
        require_same_model(expected, cal.model, "calibration")
    return cal


def decide(score: float | None, threshold: float, margin: float, net_speech_s: float, min_speech_s: float
           ) -> Decision:
    """``verified`` at or above ``threshold + margin``, ``not_verified`` below ``threshold - margin``.

    Anything in between, a missing/non-finite score, or less than ``min_speech_s`` of net speech is
    ``inconclusive``.
    """
    if score is None or not math.isfinite(score) or net_speech_s < min_speech_s:
        return "inconclusive"
    if score >= threshold + margin:
        return "verified"
    if score < threshold - margin:
        return "not_verified"
    return "inconclusive"
