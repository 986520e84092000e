"""Quality gates: each one rejects what it should, with a reason."""

from __future__ import annotations

import numpy as np
import pytest

from biometrics.quality import ADVICE, CLIPPED, NOISY, QUIET, SHORT, assess, clipping_ratio, level_dbfs
from biometrics.settings import BiometricsSettings
from biometrics.speech import split_speech
from tests.biometrics.conftest import with_gaps

SETTINGS = BiometricsSettings()


@pytest.fixture(scope="module")
def clean(fsdd_pcm: dict[str, list[np.ndarray]]) -> np.ndarray:
    """About 12 s of one speaker's digits with short pauses."""
    return with_gaps(fsdd_pcm["george"][:28])


def _check(pcm: np.ndarray) -> tuple[list[str], list[str]]:
    report = assess(split_speech(pcm), SETTINGS, SETTINGS.min_enroll_speech_s)
    assert report.ok is (not report.reasons)
    return report.codes(), report.reasons


def test_clean_speech_passes(clean: np.ndarray) -> None:
    report = assess(split_speech(clean), SETTINGS, SETTINGS.min_enroll_speech_s)
    assert report.ok, report.reasons
    assert report.net_speech_s >= 8 and report.clipping_ratio == 0
    assert report.snr_db > 30 and -35 < report.level_dbfs < -15


def test_too_little_speech(fsdd_pcm: dict[str, list[np.ndarray]]) -> None:
    codes, reasons = _check(with_gaps(fsdd_pcm["george"][:4]))
    assert codes == [SHORT]
    assert "need 6.0 s" in reasons[0] and reasons[0].endswith(ADVICE[SHORT])  # says what to do next


def test_clipping(clean: np.ndarray) -> None:
    loud = np.clip(clean.astype(np.int32) * 30, -32768, 32767).astype(np.int16)
    codes, reasons = _check(loud)
    assert CLIPPED in codes and SHORT not in codes
    assert "full scale" in reasons[codes.index(CLIPPED)] and ADVICE[CLIPPED] in reasons[codes.index(CLIPPED)]


def test_too_quiet(clean: np.ndarray) -> None:
    quiet = np.round(clean.astype(np.float64) * 10 ** (-24 / 20)).astype(np.int16)  # about -49 dBFS
    codes, reasons = _check(quiet)
    assert QUIET in codes
    assert "dBFS" in reasons[codes.index(QUIET)] and ADVICE[QUIET] in reasons[codes.index(QUIET)]


def test_noisy(clean: np.ndarray) -> None:
    rms = 32768 * 10 ** (level_dbfs(clean[clean != 0]) / 20)
    noise = np.random.default_rng(1).normal(0, rms * 10 ** (-5 / 20), clean.size)  # ~5 dB SNR white noise
    noisy = np.clip(clean + noise, -32768, 32767).astype(np.int16)
    codes, reasons = _check(noisy)
    assert NOISY in codes
    assert "SNR" in reasons[codes.index(NOISY)] and ADVICE[NOISY] in reasons[codes.index(NOISY)]


def test_helpers() -> None:
    pcm = np.array([0, 32767, -32768, 100, 32000], dtype=np.int16)
    assert clipping_ratio(pcm, 32000) == pytest.approx(3 / 5)
    assert level_dbfs(np.zeros(10, np.int16)) == -np.inf
    assert level_dbfs(np.full(10, 16384, np.int16)) == pytest.approx(-6.02, abs=0.01)


@pytest.mark.parametrize("snr", [10.0, 15.0, 20.0, 30.0])
def test_the_snr_estimate_is_within_3_db_on_speech_in_white_noise(clean: np.ndarray, snr: float) -> None:
    """Mixing SNR: the clean speech's active level (its voiced frames) over the noise energy (the protocol of
    benchmarks/snr.py, which also reports babble noise, where no frame-energy estimator holds 3 dB)."""
    from biometrics.quality import snr_db

    level = float(np.mean(split_speech(clean).voiced_energy))
    noise = np.random.default_rng(int(snr)).standard_normal(clean.size) * np.sqrt(level / 10 ** (snr / 10))
    noisy = np.clip(np.round(clean + noise), -32768, 32767).astype(np.int16)
    assert snr_db(split_speech(noisy)) == pytest.approx(snr, abs=3.0)
