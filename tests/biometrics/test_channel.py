"""The telephone channel voiceprints are tuned on: 8 kHz, G.711 per 20 ms packet, the call's 16 kHz decoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from biometrics.channel import load_call_audio, telephone
from media.prompt import PromptError


def _tone(rate: int, seconds: float = 1.0, hz: float = 1000.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def test_a_tone_keeps_its_pitch_and_level_through_the_codec() -> None:
    out = telephone(_tone(8000), "PCMU")
    # 50 packets of 20 ms decoded at 16 kHz, less the streaming resampler's delay (as in a call)
    assert out.dtype == np.int16 and 15900 <= out.size <= 16000
    steady = out[1600:].astype(np.float64)  # past the resampler's start-up
    peak = np.argmax(np.abs(np.fft.rfft(steady))) * 16000 / steady.size
    assert abs(peak - 1000) < 5
    assert 20 * np.log10(np.sqrt(np.mean(steady**2)) / (8000 / np.sqrt(2))) == pytest.approx(0, abs=0.5)
    assert not np.array_equal(telephone(_tone(8000), "PCMA"), out)  # the other law, other rounding


def test_files_at_any_rate_come_out_as_16_khz_call_audio(tmp_path: Path) -> None:
    for rate in (8000, 16000, 44100):
        path = tmp_path / f"{rate}.wav"
        sf.write(path, _tone(rate), rate, subtype="PCM_16")
        assert 15900 <= load_call_audio(path).size <= 16000
    assert load_call_audio(tmp_path / "16000.wav", "none").size == 16000
    (tmp_path / "bad.wav").write_bytes(b"not audio")
    with pytest.raises(PromptError):
        load_call_audio(tmp_path / "bad.wav")
