"""The streaming recognizer interface: push frames, iterate typed events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from asr.events import SpeechEvent
from media.frame import AudioFrame


class RecognizeStream(Protocol):
    """One leg's recognition.

    ``push_frame`` and ``flush`` never block; work happens in the engine's thread
    pool. After ``end_input`` the stream finishes the last utterance, yields its
    final and then :class:`~asr.events.EndOfStream`.
    """

    leg: str

    def push_frame(self, frame: AudioFrame) -> None:
        """Queue one canonical frame."""

    def flush(self) -> None:
        """The utterance ended (VAD silence): produce its final now."""

    def end_input(self) -> None:
        """No more audio: flush and close the stream."""

    def __aiter__(self) -> AsyncIterator[SpeechEvent]:
        """Iterate events until EndOfStream."""
        ...


class RecognitionUnavailableError(RuntimeError):
    """Recognition cannot run (no model, engine failed to load)."""

    def __init__(self, language: str, reason: str) -> None:
        super().__init__(f"recognition unavailable for {language!r}: {reason}")
        self.language = language
        self.reason = reason
