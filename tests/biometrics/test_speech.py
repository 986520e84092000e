"""Speech-only extraction."""

from __future__ import annotations

import numpy as np

from biometrics.speech import (
    VAD_FRAME_SAMPLES,
    SpeechTracker,
    group_segments,
    merge_splits,
    split_speech,
)
from media.frame import FRAME_SAMPLES, SAMPLE_RATE
from tests.biometrics.conftest import with_gaps


def test_silence_has_no_speech() -> None:
    split = split_speech(np.zeros(2 * SAMPLE_RATE, dtype=np.int16))
    assert split.net_speech_s == 0 and split.speech.size == 0
    assert split.unvoiced_energy.size == 2 * SAMPLE_RATE // VAD_FRAME_SAMPLES


def test_speech_is_kept_and_silence_dropped(fsdd_pcm: dict[str, list[np.ndarray]]) -> None:
    utterances = fsdd_pcm["george"][:10]
    audio = with_gaps(utterances, gap_s=0.5)
    split = split_speech(audio)
    spoken = sum(p.size for p in utterances) / SAMPLE_RATE
    assert 0.6 * spoken < split.net_speech_s < 1.15 * spoken
    assert split.speech.size < audio.size - 0.6 * 10 * 0.5 * SAMPLE_RATE  # most of the 5 s of gaps is gone
    assert split.total_s == audio.size // VAD_FRAME_SAMPLES * VAD_FRAME_SAMPLES / SAMPLE_RATE


def test_streaming_equals_whole(fsdd_pcm: dict[str, list[np.ndarray]]) -> None:
    audio = with_gaps(fsdd_pcm["lucas"][:6])
    tracker = SpeechTracker()
    for start in range(0, audio.size, FRAME_SAMPLES):  # 20 ms pushes, 30 ms VAD frames
        tracker.push(audio[start : start + FRAME_SAMPLES])
    whole, streamed = split_speech(audio), tracker.snapshot()
    assert np.array_equal(whole.speech, streamed.speech)
    assert whole.net_speech_s == streamed.net_speech_s


def test_segments_follow_pauses(fsdd_pcm: dict[str, list[np.ndarray]]) -> None:
    utterances = fsdd_pcm["jackson"][:6]
    split = split_speech(with_gaps(utterances, gap_s=0.5))
    assert len(split.segments) == 6  # one per utterance: the pauses are longer than 2 x padding
    assert np.array_equal(split.speech, np.concatenate(split.segments))
    assert len(split_speech(np.concatenate(utterances)).segments) < 6  # no pauses: utterances merge


def test_merge_and_group() -> None:
    a = split_speech(np.zeros(SAMPLE_RATE, dtype=np.int16))
    merged = merge_splits([a, a])
    assert merged.unvoiced_energy.size == 2 * a.unvoiced_energy.size and merged.segments == ()
    ones = [np.ones(n, np.int16) for n in (6000, 6000, 6000, 9000)]
    assert [[p.size for p in g] for g in group_segments(ones, 1.0)] == [[6000, 6000, 6000], [9000]]
    assert [[p.size for p in g] for g in group_segments(ones, 1.0, min_fraction=1.0)] == [[6000, 6000, 6000]]
    assert [[p.size for p in g] for g in group_segments([np.ones(40000, np.int16)], 1.0)] == [
        [16000], [16000], [8000]]


def test_speech_clips_are_exact_and_never_overlap() -> None:
    from biometrics.speech import speech_clips

    segs = [np.arange(n, dtype=np.int16) for n in (16000, 30000, 7000, 40000)]  # 5.8 s in all
    clips = speech_clips(segs, 2.0)
    assert [sum(p.size for p in c) for c in clips] == [32000, 32000]  # the last 1.8 s is dropped
    assert np.array_equal(np.concatenate([p for c in clips for p in c]), np.concatenate(segs)[:64000])
    assert speech_clips(segs, 10.0) == []
