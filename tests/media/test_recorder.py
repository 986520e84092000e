import numpy as np
import soundfile as sf

from media.frame import FRAME_SAMPLES, AudioFrame
from media.recorder import LegRecorder


def test_recorder_writes_16k_mono_pcm16(tmp_path):
    path = tmp_path / "nested" / "dir" / "leg.wav"
    rec = LegRecorder(path)
    assert path.parent.is_dir()
    rng = np.random.default_rng(3)
    chunks = [rng.integers(-30000, 30000, FRAME_SAMPLES, dtype=np.int16) for _ in range(5)]
    for i, c in enumerate(chunks):
        rec.write(AudioFrame("caller", i * 0.02, c))
    rec.close()
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.subtype, info.frames) == (16000, 1, "PCM_16", 5 * FRAME_SAMPLES)
    data, _ = sf.read(str(path), dtype="int16")
    assert np.array_equal(data, np.concatenate(chunks))


def test_recorder_empty_file_is_valid(tmp_path):
    path = tmp_path / "empty.wav"
    LegRecorder(path).close()
    assert sf.info(str(path)).frames == 0
