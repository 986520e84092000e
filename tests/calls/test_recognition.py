"""One leg's recognition on real espeak speech: VAD-gated frames, flushes at utterance ends, the last one closed."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import soundfile as sf

from calls.recognition import LegRecognition
from media.frame import AudioFrame
from media.prompt import to_frames
from media.settings import MediaSettings


class FakeStream:
    """A fake recognize stream: records what the leg sends it (the decoder is tested in tests/asr)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def push_frame(self, frame: AudioFrame) -> None:
        self.calls.append("frame")

    def flush(self) -> None:
        self.calls.append("flush")

    def end_input(self) -> None:
        self.calls.append("end")


class FakeEngine:
    """A fake engine handing out one FakeStream."""

    def __init__(self) -> None:
        self.stream = FakeStream()
        self.opened: list[tuple[str, str]] = []

    def open_stream(self, leg: str, language: str) -> FakeStream:
        self.opened.append((leg, language))
        return self.stream


def frames(path: Path, leg: str = "agent") -> list[AudioFrame]:
    pcm, rate = sf.read(str(path), dtype="int16")
    assert rate == 16000
    return [AudioFrame(leg, round(i * 0.02, 2), f) for i, f in enumerate(to_frames(pcm))]


def test_two_phrases_give_speech_frames_and_two_flushes(speech_dir: Path):
    async def scenario() -> None:
        engine = FakeEngine()
        rec = LegRecognition("agent", MediaSettings())
        rec.open(engine, "ko")  # type: ignore[arg-type]
        for f in frames(speech_dir / "ko_two_16k.wav"):
            rec.push(f)
        rec.end()
        calls = engine.stream.calls
        assert engine.opened == [("agent", "ko")]
        assert calls.count("flush") == 2 and calls[-1] == "end"
        assert rec.speech_frames == calls.count("frame") > 25  # the phrases, not the silence around them
        assert calls.count("frame") < len(frames(speech_dir / "ko_two_16k.wav")) * 0.8
        first, second = rec.final_latency(), rec.final_latency()
        assert first is not None and second is not None and first >= second >= 0
        assert rec.final_latency() is None  # one per utterance end

    asyncio.run(scenario())


def test_an_utterance_cut_by_the_hang_up_is_closed_and_decoded(speech_dir: Path):
    async def scenario() -> None:
        engine = FakeEngine()
        rec = LegRecognition("caller", MediaSettings())
        rec.open(engine, "ko")  # type: ignore[arg-type]
        audio = frames(speech_dir / "ko_two_16k.wav", "caller")
        loud = [i for i, f in enumerate(audio) if np.abs(f.samples).max() > 2000]
        for f in audio[: loud[0] + 20]:  # hang up in the middle of the first phrase
            rec.push(f)
        assert "flush" not in engine.stream.calls
        rec.end()
        assert engine.stream.calls[-1] == "end" and rec.final_latency() is not None

    asyncio.run(scenario())


def test_without_a_stream_frames_are_ignored(speech_dir: Path):
    rec = LegRecognition("agent", MediaSettings())
    for f in frames(speech_dir / "ko_two_16k.wav")[:100]:
        rec.push(f)
    rec.end()
    assert rec.speech_frames == 0 and rec.stream is None
