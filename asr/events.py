"""Typed speech events a recognizer stream yields."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Word:
    """One recognized word with call-relative times (seconds) and confidence 0..1."""

    word: str
    start: float
    end: float
    conf: float


@dataclass(frozen=True, slots=True)
class PartialTranscript:
    """The hypothesis so far for the utterance in progress."""

    leg: str
    text: str


@dataclass(frozen=True, slots=True)
class FinalTranscript:
    """A finished utterance."""

    leg: str
    text: str
    start: float
    end: float
    confidence: float
    words: list[Word] = field(default_factory=list)
    audio_end: float = 0.0  # call time of the last audio the decoder had seen


@dataclass(frozen=True, slots=True)
class EndOfStream:
    """No more events will follow for this leg."""

    leg: str


SpeechEvent = PartialTranscript | FinalTranscript | EndOfStream
