import numpy as np
import pytest

from media.frame import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, AudioFrame, FrameError, silence


def test_constants():
    assert (SAMPLE_RATE, FRAME_MS, FRAME_SAMPLES) == (16000, 20, 320)


def test_valid_frame_and_pcm_bytes_little_endian():
    samples = np.arange(FRAME_SAMPLES, dtype=np.int16) - 160
    frame = AudioFrame("caller", 0.04, samples)
    raw = frame.pcm_bytes()
    assert len(raw) == 2 * FRAME_SAMPLES
    assert raw[:2] == (-160).to_bytes(2, "little", signed=True)
    assert np.array_equal(np.frombuffer(raw, dtype="<i2"), samples)


@pytest.mark.parametrize(
    "samples",
    [
        np.zeros(FRAME_SAMPLES - 1, dtype=np.int16),
        np.zeros(FRAME_SAMPLES + 1, dtype=np.int16),
        np.zeros((2, FRAME_SAMPLES // 2), dtype=np.int16),
        np.zeros(FRAME_SAMPLES, dtype=np.float32),
        np.zeros(FRAME_SAMPLES, dtype=np.int32),
    ],
)
def test_bad_shape_or_dtype_raises(samples):
    with pytest.raises(FrameError) as info:
        AudioFrame("agent", 0.0, samples)
    assert info.value.leg == "agent"
    assert info.value.samples == samples.size
    assert isinstance(info.value, ValueError)


def test_frame_is_frozen():
    frame = AudioFrame("x", 0.0, silence())
    with pytest.raises(AttributeError):
        frame.leg = "y"  # type: ignore[misc]


def test_silence():
    s = silence()
    assert s.dtype == np.int16
    assert s.shape == (FRAME_SAMPLES,)
    assert not s.any()
    s[0] = 5
    assert not silence().any(), "silence() must return a fresh array each time"
