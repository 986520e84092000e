"""Settings defaults and validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from biometrics.settings import DEFAULT_CALIBRATION, DEFAULT_COHORT, BiometricsSettings


def test_defaults() -> None:
    s = BiometricsSettings()
    assert (s.min_enroll_speech_s, s.verify_min_speech_s, s.target_far) == (6.0, 3.0, 0.01)
    assert s.pooling == "concat" and s.inconclusive_margin is None  # the calibration's margin
    assert s.key_env == "HOTLINE_VOICEPRINT_KEY" and s.backend == "resemblyzer" and not s.enabled
    assert s.cohort_file == DEFAULT_COHORT and s.calibration_file == DEFAULT_CALIBRATION
    assert DEFAULT_COHORT.parent.name == "voiceprint"


def test_validation() -> None:
    with pytest.raises(ValidationError, match="verify_max_speech_s"):
        BiometricsSettings(verify_min_speech_s=5, verify_max_speech_s=4)
    with pytest.raises(ValidationError):
        BiometricsSettings(backend="ivector")  # type: ignore[arg-type]
