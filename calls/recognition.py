"""One call leg's recognition: VAD-gated frames into a recognize stream, and when each utterance ended."""

from __future__ import annotations

import asyncio
from collections import deque

from asr.stream import RecognizeStream
from asr.vosk_engine import VoskEngine
from media.frame import AudioFrame
from media.settings import MediaSettings
from media.vad import UtteranceEnd, VadGate


class LegRecognition:
    """The VAD gate and the recognize stream of one leg (caller or agent); per-frame work stays small."""

    def __init__(self, leg: str, media: MediaSettings) -> None:
        self.leg = leg
        self.vad = VadGate(media.vad_aggressiveness, media.vad_padding_ms, media.vad_silence_ms)
        self.stream: RecognizeStream | None = None
        self.speech_frames = 0  # 20 ms frames sent to the recognizer
        self._utterance_ends: deque[float] = deque()

    def open(self, engine: VoskEngine, language: str) -> RecognizeStream:
        """Open the leg's stream; raises RecognitionUnavailableError (no model for the language, ...)."""
        self.stream = engine.open_stream(self.leg, language)
        return self.stream

    def push(self, frame: AudioFrame) -> None:
        """One 20 ms frame of the leg: speech goes to the recognizer, the end of an utterance flushes it."""
        if self.stream is None:
            return
        for out in self.vad.push(frame):
            if isinstance(out, UtteranceEnd):
                self._utterance_ends.append(asyncio.get_running_loop().time())
                self.stream.flush()
            else:
                self.speech_frames += 1
                self.stream.push_frame(out)

    def end(self) -> None:
        """The leg is over: an utterance still open is closed and decoded (its final is never dropped)."""
        if self.stream is None:
            return
        for out in self.vad.finish(self.leg):
            if isinstance(out, UtteranceEnd):
                self._utterance_ends.append(asyncio.get_running_loop().time())
        self.stream.end_input()

    def final_latency(self) -> float | None:
        """Seconds since the oldest utterance end not yet matched by a final (call once per final)."""
        if not self._utterance_ends:
            return None
        return asyncio.get_running_loop().time() - self._utterance_ends.popleft()
