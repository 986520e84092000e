"""EER / threshold arithmetic, the calibration file, and decisions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from biometrics.calibration import (
    Calibration,
    calibrate_scores,
    decide,
    eer,
    error_rates,
    load_calibration,
    threshold_at_far,
)
from biometrics.errors import CalibrationError, ModelMismatchError
from biometrics.voiceprint import ModelTag

TAG = ModelTag("m", "1")


def test_eer_known_answers() -> None:
    assert eer([0.6, 0.7, 0.8, 0.9], [0.1, 0.2, 0.3, 0.4])[0] == 0.0
    # One impostor above one genuine out of five each: EER = 1/5.
    rate, threshold = eer([0.6, 0.7, 0.8, 0.9, 1.0], [0.0, 0.1, 0.2, 0.3, 0.65])
    assert rate == pytest.approx(0.2)
    assert 0.6 < threshold <= 0.65
    assert eer([0.0, 1.0], [0.0, 1.0])[0] == pytest.approx(0.5)


def test_eer_gaussian() -> None:
    # Unit-variance classes 2 apart cross at 1: EER = Phi(-1) = 0.1587.
    rng = np.random.default_rng(0)
    rate, threshold = eer(rng.normal(2, 1, 200_000), rng.normal(0, 1, 200_000))
    assert rate == pytest.approx(0.5 * math.erfc(1 / math.sqrt(2)), abs=0.003)
    assert threshold == pytest.approx(1.0, abs=0.02)


def test_threshold_at_far() -> None:
    non = np.arange(100) / 100  # 0.00 .. 0.99
    t = threshold_at_far(non, 0.01)  # one false accept allowed: between 0.98 and 0.99
    assert t == pytest.approx(0.985)
    assert error_rates([0.5, 0.99, 1.0], non, t) == (pytest.approx(0.01), pytest.approx(1 / 3))
    t0 = threshold_at_far(non, 0.001)  # none allowed: just above the top
    assert t0 > 0.99 and error_rates([], non, t0)[0] == 0.0
    assert threshold_at_far([0.3, 0.3, 0.3], 0.5) > 0.3  # ties: never exceed the target
    with pytest.raises(CalibrationError):
        threshold_at_far([], 0.01)
    with pytest.raises(CalibrationError):
        eer([], [1.0])


def test_calibration_file_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    cal = calibrate_scores(rng.normal(3, 1, 500), rng.normal(0, 1, 2000), TAG, "asnorm", 0.01, {"top_k": 7})
    assert cal.far <= 0.01 and 0 < cal.frr < 0.5 and 0 < cal.eer < 0.2
    path = tmp_path / "cal" / "calibration.json"
    cal.save(path)
    data = json.loads(path.read_text())
    assert set(data) == {"model_id", "version", "norm", "threshold", "target_far", "eer", "far", "frr",
                         "protocol", "created_at", "margin"}
    back = load_calibration(path, TAG)
    assert back == cal and back.top_k == 7
    with pytest.raises(ModelMismatchError):
        load_calibration(path, ModelTag("m", "2"))
    path.write_text("{}")
    with pytest.raises(CalibrationError) as exc:
        load_calibration(path)
    assert exc.value.path == path


def test_decisions() -> None:
    args = {"threshold": 2.0, "margin": 0.5, "min_speech_s": 3.0}
    assert decide(3.0, net_speech_s=4.0, **args) == "verified"
    assert decide(2.5, net_speech_s=4.0, **args) == "verified"
    assert decide(2.4, net_speech_s=4.0, **args) == "inconclusive"
    assert decide(1.6, net_speech_s=4.0, **args) == "inconclusive"
    assert decide(1.4, net_speech_s=4.0, **args) == "not_verified"
    assert decide(9.0, net_speech_s=2.9, **args) == "inconclusive"  # too little speech
    assert decide(None, net_speech_s=9.0, **args) == "inconclusive"
    assert decide(float("nan"), net_speech_s=9.0, **args) == "inconclusive"
    assert decide(2.0, threshold=2.0, margin=0.0, net_speech_s=3.0, min_speech_s=3.0) == "verified"


def test_calibration_defaults() -> None:
    cal = Calibration("m", "1", "snorm", 1.0, 0.01, 0.02, 0.01, 0.05)
    assert cal.model == TAG and cal.top_k == 50 and cal.created_at.endswith("+00:00")


def test_min_dcf_known_answers() -> None:
    from biometrics.calibration import min_dcf

    assert min_dcf([1.0, 2.0], [-1.0, 0.0]) == 0.0  # separable: a threshold with no error
    # one impostor above every target: reject all (cost p_target) or accept the top impostor
    same = min_dcf([0.0, 0.0], [1.0] + [-1.0] * 99, p_target=0.5)
    assert same == pytest.approx(0.01 * 0.5 / 0.5)
    assert min_dcf([0.0], [0.0]) == pytest.approx(1.0)  # no better than a trivial system
    with pytest.raises(CalibrationError):
        min_dcf([], [1.0])


def test_the_inconclusive_margin_comes_with_the_calibration() -> None:
    from biometrics.calibration import calibrate_scores

    rng = np.random.default_rng(3)
    tgt, non = rng.normal(0.8, 0.05, 500), rng.normal(0.3, 0.1, 20000)
    cal = calibrate_scores(tgt, non, ModelTag("m", "1"), "none", 0.01, {})
    assert cal.margin == pytest.approx(threshold_at_far(non, 0.001) - cal.threshold)
    assert 0 < cal.inconclusive_margin < 0.5  # cosine units, not the z-units of the old default
    legacy = Calibration("m", "1", "snorm", 2.0, 0.01, 0.01, 0.01, 0.01)
    assert legacy.inconclusive_margin == 0.5
