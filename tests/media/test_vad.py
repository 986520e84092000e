import numpy as np
import pytest

from media.frame import FRAME_SAMPLES, AudioFrame
from media.prompt import to_frames
from media.vad import UtteranceEnd, VadGate

SILENCE_1S = np.zeros(16000, dtype=np.int16)


def as_frames(pcm: np.ndarray, leg: str = "caller") -> list[AudioFrame]:
    return [AudioFrame(leg, round(i * 0.02, 2), f) for i, f in enumerate(to_frames(pcm))]


def run(gate: VadGate, frames: list[AudioFrame], finish: bool = True) -> list:
    out = []
    for f in frames:
        out += gate.push(f)
    if finish:
        out += gate.finish(frames[-1].leg)
    return out


def speech_span_s(pcm: np.ndarray) -> tuple[float, float]:
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > 500)
    return loud[0] / 16000, loud[-1] / 16000


def test_pure_silence_passes_nothing():
    gate = VadGate(2, padding_ms=300, silence_ms=300)
    out = run(gate, as_frames(np.zeros(3 * 16000, dtype=np.int16)))
    assert out == []
    assert gate.speech_s == 0.0
    assert not gate.active


def test_finish_without_speech_is_empty():
    assert VadGate().finish("x") == []


def test_espeak_utterance(espeak_speech):
    start_s, end_s = speech_span_s(espeak_speech)
    spoken = end_s - start_s
    assert 0.3 < spoken < 2.0, "espeak output looks wrong"
    pcm = np.concatenate([SILENCE_1S, espeak_speech, SILENCE_1S])
    frames = as_frames(pcm, "caller")
    gate = VadGate(2, padding_ms=300, silence_ms=300)
    out = run(gate, frames, finish=False)

    ends = [o for o in out if isinstance(o, UtteranceEnd)]
    passed = [o for o in out if isinstance(o, AudioFrame)]
    assert len(ends) == 1
    assert ends[0].leg == "caller"
    assert isinstance(out[-1], UtteranceEnd), "the end marker follows the last passed frame"
    assert not gate.active
    assert gate.finish("caller") == []

    # the gate passes the speech plus padding, not the surrounding 2 s of silence
    assert len(passed) < 0.6 * len(frames)
    assert len(passed) * 0.02 > 0.8 * spoken
    timestamps = [f.timestamp for f in passed]
    assert timestamps == sorted(timestamps)
    assert np.allclose(np.diff(timestamps), 0.02), "one contiguous run of frames"
    # leading padding starts shortly before the speech; trailing padding ends shortly after
    speech_on = 1.0 + start_s
    speech_off = 1.0 + end_s
    assert speech_on - 0.4 <= timestamps[0] <= speech_on + 0.1
    assert speech_off - 0.1 <= timestamps[-1] <= speech_off + 0.5
    assert speech_off - 0.2 <= ends[0].timestamp <= speech_off + 0.2
    assert ends[0].timestamp <= timestamps[-1] + 0.02

    # the passed frames are the original frames, not copies with altered audio
    by_ts = {f.timestamp: f for f in frames}
    assert all(np.array_equal(f.samples, by_ts[f.timestamp].samples) for f in passed)

    # voiced time is in a plausible range of the spoken duration
    assert 0.5 * spoken <= gate.speech_s <= spoken + 0.3


def test_two_utterances_give_two_ends(espeak_speech):
    pcm = np.concatenate([SILENCE_1S, espeak_speech, SILENCE_1S, espeak_speech, SILENCE_1S])
    gate = VadGate(2, padding_ms=300, silence_ms=300)
    out = run(gate, as_frames(pcm))
    ends = [o for o in out if isinstance(o, UtteranceEnd)]
    assert len(ends) == 2
    assert ends[1].timestamp - ends[0].timestamp == pytest.approx(1.0 + espeak_speech.size / 16000, abs=0.1)


def test_finish_closes_open_utterance(espeak_speech):
    pcm = np.concatenate([SILENCE_1S, espeak_speech[: espeak_speech.size // 2]])
    gate = VadGate(2, padding_ms=300, silence_ms=300)
    frames = as_frames(pcm, "agent")
    out = run(gate, frames, finish=False)
    assert not any(isinstance(o, UtteranceEnd) for o in out)
    assert gate.active
    tail = gate.finish("agent")
    assert len(tail) == 1 and isinstance(tail[0], UtteranceEnd)
    assert tail[0].leg == "agent"
    assert 1.0 < tail[0].timestamp <= frames[-1].timestamp + 0.02
    assert not gate.active
    assert gate.finish("agent") == []


def test_longer_silence_setting_keeps_utterance_open(espeak_speech):
    """With silence_ms longer than the trailing silence, the utterance stays open until finish()."""
    pcm = np.concatenate([SILENCE_1S, espeak_speech, np.zeros(8000, dtype=np.int16)])
    gate = VadGate(2, padding_ms=300, silence_ms=1500)
    out = run(gate, as_frames(pcm), finish=False)
    assert not any(isinstance(o, UtteranceEnd) for o in out)
    assert gate.active


@pytest.mark.parametrize(("padding_ms", "silence_ms"), [(300, 300), (100, 400), (0, 200)])
def test_end_emitted_after_silence_and_trailing_padding_bounded(espeak_speech, padding_ms, silence_ms):
    pcm = np.concatenate([SILENCE_1S, espeak_speech, SILENCE_1S])
    gate = VadGate(2, padding_ms=padding_ms, silence_ms=silence_ms)
    emitted_at = None
    passed = []
    for f in as_frames(pcm):
        for o in gate.push(f):
            if isinstance(o, UtteranceEnd):
                assert emitted_at is None, "only one utterance end"
                emitted_at = f.timestamp + 0.02
                end = o
            else:
                passed.append(o)
    assert emitted_at is not None
    # the end is reported once silence_ms of unvoiced audio followed the last voiced frame
    assert emitted_at - end.timestamp == pytest.approx(silence_ms / 1000, abs=0.03)
    # frames after the last voiced one are passed only up to the trailing padding
    trailing = passed[-1].timestamp + 0.02 - end.timestamp
    assert -0.001 <= trailing <= min(padding_ms, silence_ms) / 1000 + 0.001


def test_padding_zero_passes_fewer_frames(espeak_speech):
    pcm = np.concatenate([SILENCE_1S, espeak_speech, SILENCE_1S])
    counts = {}
    for padding in (0, 300):
        gate = VadGate(2, padding_ms=padding, silence_ms=300)
        counts[padding] = sum(isinstance(o, AudioFrame) for o in run(gate, as_frames(pcm)))
    assert 0 < counts[0] < counts[300]


def test_loud_tone_onset_passes_prepadding():
    """Gate mechanics with a deterministic voiced-looking signal (a harmonic-rich buzz)."""
    t = np.arange(16000) / 16000
    buzz = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 20))
    buzz = np.round(buzz / np.abs(buzz).max() * 12000).astype(np.int16)
    pcm = np.concatenate([SILENCE_1S, buzz, SILENCE_1S])
    gate = VadGate(3, padding_ms=100, silence_ms=200)
    out = run(gate, as_frames(pcm))
    ends = [o for o in out if isinstance(o, UtteranceEnd)]
    passed = [o for o in out if isinstance(o, AudioFrame)]
    assert len(ends) >= 1
    assert passed, "a loud buzz must open the gate"
    assert passed[0].timestamp >= 1.0 - 0.1 - 0.001
    assert all(f.samples.shape == (FRAME_SAMPLES,) for f in passed)


# -- gate state machine with a scripted VAD ------------------------------------


class ScriptedVad:
    """Stands in for webrtcvad: a frame is 'voiced' when its first sample is non-zero."""

    def __init__(self, aggressiveness: int) -> None:
        self.aggressiveness = aggressiveness

    def is_speech(self, data: bytes, rate: int) -> bool:
        assert rate == 16000
        assert len(data) == 2 * FRAME_SAMPLES
        return data[:2] != b"\x00\x00"


@pytest.fixture
def scripted(monkeypatch):
    import media.vad

    monkeypatch.setattr(media.vad.webrtcvad, "Vad", ScriptedVad)


def script(pattern: str, leg: str = "s") -> list[AudioFrame]:
    """'.' = unvoiced frame, 'v' = voiced frame; each frame carries its index in sample 1."""
    frames = []
    for i, ch in enumerate(pattern):
        samples = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        samples[0] = 1000 if ch == "v" else 0
        samples[1] = i
        frames.append(AudioFrame(leg, round(i * 0.02, 2), samples))
    return frames


def indices(out) -> list:
    return [int(o.samples[1]) if isinstance(o, AudioFrame) else "END" for o in out]


def test_scripted_two_of_five_never_opens(scripted):
    gate = VadGate(2, padding_ms=100, silence_ms=100)
    out = run(gate, script("v..v." * 8))
    assert out == []
    assert not gate.active
    assert gate.speech_s == pytest.approx(0.02 * 16)


def test_scripted_three_of_five_opens_with_prepadding(scripted):
    gate = VadGate(2, padding_ms=60, silence_ms=100)  # 3 frames of padding, 5 frames of silence
    out = []
    frames = script("......v.vv" + "v" * 5 + "." * 10)
    per_frame = [gate.push(f) for f in frames]
    # nothing until the third voiced frame of a 5-frame window (frame 9), then the padding buffer
    assert all(p == [] for p in per_frame[:9])
    assert indices(per_frame[9]) == [7, 8, 9]
    for p in per_frame:
        out += p
    # trailing: unvoiced runs 1..3 pass (padding), 4 dropped, 5 closes
    assert indices(out) == [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, "END"]
    end = out[-1]
    assert end.leg == "s"
    assert end.timestamp == pytest.approx(0.30)  # end of frame 14, the last voiced one
    assert not gate.active


def test_scripted_short_pause_does_not_split_utterance(scripted):
    gate = VadGate(2, padding_ms=40, silence_ms=100)
    out = run(gate, script("vvv" + "...." + "vvv" + "......"))
    # one utterance; inside the pause only the padding (2 frames) is passed
    assert indices(out) == [1, 2, 3, 4, 7, 8, 9, 10, 11, "END"]


def test_scripted_reopens_after_close(scripted):
    gate = VadGate(2, padding_ms=20, silence_ms=40)
    out = run(gate, script("vvv..." + "vvv..."))
    assert indices(out) == [2, 3, "END", 8, 9, "END"]


def test_scripted_padding_zero_still_passes_trigger_frame(scripted):
    gate = VadGate(2, padding_ms=0, silence_ms=40)
    out = run(gate, script("..vvv.."))
    assert indices(out) == [4, "END"]


def test_scripted_aggressiveness_passed_to_vad(scripted):
    assert VadGate(3)._vad.aggressiveness == 3
