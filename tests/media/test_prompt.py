from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from media.frame import FRAME_SAMPLES
from media.paths import DEFAULT_GREETING
from media.prompt import Prompt, PromptError, load_pcm, to_frames
from tests.media.helpers import band_energy_fraction


def write(path: Path, data: np.ndarray, rate: int, **kw) -> Path:
    sf.write(str(path), data, rate, **kw)
    return path


def test_wav_22050_stereo_to_16k_mono(tmp_path):
    rate = 22050
    t = np.arange(rate) / rate  # 1 s
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    path = write(tmp_path / "p.wav", np.stack([tone, tone], axis=1), rate, subtype="PCM_16")
    pcm = load_pcm(path)
    assert pcm.dtype == np.int16
    assert pcm.ndim == 1
    assert pcm.size == pytest.approx(16000, rel=0.01)
    mid = pcm[1000:-1000].astype(np.int32)
    assert np.abs(mid).max() == pytest.approx(16384, rel=0.03)
    assert band_energy_fraction(pcm, 400, 480) > 0.98


def test_stereo_channels_are_averaged(tmp_path):
    rate = 16000
    t = np.arange(rate) / rate
    left = 0.5 * np.sin(2 * np.pi * 300 * t)
    right = np.full(rate, 0.25)
    pcm = load_pcm(write(tmp_path / "s.wav", np.stack([left, -left + 2 * right], axis=1), rate, subtype="FLOAT"))
    # (left + (-left + 0.5)) / 2 == 0.25 everywhere
    assert np.all(np.abs(pcm.astype(np.int32) - 8192) <= 1)


def test_flac_16k_mono_is_lossless(tmp_path):
    rng = np.random.default_rng(1)
    src = rng.integers(-20000, 20000, size=8000, dtype=np.int16)
    pcm = load_pcm(write(tmp_path / "p.flac", src, 16000, format="FLAC", subtype="PCM_16"))
    assert pcm.size == src.size
    assert np.abs(pcm.astype(np.int32) - src.astype(np.int32)).max() <= 1


@pytest.mark.parametrize("rate", [8000, 44100, 48000])
def test_other_rates_resampled(tmp_path, rate):
    t = np.arange(rate // 2) / rate
    pcm = load_pcm(write(tmp_path / "r.wav", 0.3 * np.sin(2 * np.pi * 1000 * t), rate, subtype="PCM_16"))
    assert pcm.size == pytest.approx(8000, rel=0.01)
    assert band_energy_fraction(pcm, 950, 1050) > 0.98


def test_clipping_of_float_overrange(tmp_path):
    data = np.array([1.5, -1.5, 0.0, 1.0, -1.0] * 100, dtype=np.float32)
    pcm = load_pcm(write(tmp_path / "c.wav", data, 16000, subtype="FLOAT"))
    assert pcm[:5].tolist() == [32767, -32768, 0, 32767, -32767]


def test_text_file_raises(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("this is not audio\n" * 20)
    with pytest.raises(PromptError) as info:
        load_pcm(path)
    assert info.value.path == path
    assert "not a readable audio file" in info.value.reason
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_missing_file_raises(tmp_path):
    path = tmp_path / "missing.wav"
    with pytest.raises(PromptError) as info:
        load_pcm(path)
    assert info.value.path == path


def test_empty_wav_raises(tmp_path):
    path = write(tmp_path / "empty.wav", np.zeros(0, dtype=np.int16), 16000, subtype="PCM_16")
    with pytest.raises(PromptError) as info:
        load_pcm(path)
    assert info.value.reason == "no audio samples"


def test_too_long_raises(tmp_path):
    path = write(tmp_path / "long.wav", np.zeros(16000 * 2, dtype=np.int16), 16000, subtype="PCM_16")
    with pytest.raises(PromptError) as info:
        load_pcm(path, max_seconds=1.5)
    assert "longer than" in info.value.reason
    assert load_pcm(path, max_seconds=2.0).size == 32000


def test_to_frames_pads_last_frame():
    pcm = np.arange(1, 701, dtype=np.int16)
    frames = to_frames(pcm)
    assert len(frames) == 3
    assert all(f.shape == (FRAME_SAMPLES,) and f.dtype == np.int16 for f in frames)
    assert np.array_equal(np.concatenate(frames)[:700], pcm)
    assert not frames[2][60:].any()
    assert frames[2][59] == 700


def test_to_frames_exact_multiple_and_empty():
    assert len(to_frames(np.ones(640, dtype=np.int16))) == 2
    assert to_frames(np.zeros(0, dtype=np.int16)) == []


def test_to_frames_returns_independent_copies():
    pcm = np.ones(640, dtype=np.int16)
    frames = to_frames(pcm)
    frames[0][0] = 99
    assert pcm[0] == 1
    assert frames[1][0] == 1


def test_prompt_class(tmp_path):
    path = write(tmp_path / "g.wav", np.full(16000 + 100, 0.1), 16000, subtype="PCM_16")
    p = Prompt(path)
    assert p.path == path
    assert len(p.frames) == 51
    assert p.duration_s == pytest.approx(1.02)


def test_prompt_propagates_errors(tmp_path):
    path = tmp_path / "bad.flac"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(PromptError):
        Prompt(path)


def test_bundled_greeting_loads():
    p = Prompt(DEFAULT_GREETING)
    assert 0.2 < p.duration_s < 60
    assert any(np.abs(f.astype(np.int32)).max() > 500 for f in p.frames)
