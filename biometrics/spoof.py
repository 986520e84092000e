"""Spoof detectors: checks that the audio is a live caller, not a recording or a synthetic voice.

A voiceprint answers "is this the customer's voice?". A spoof detector answers "is this voice live?".
Detectors implement :class:`SpoofDetector` and plug in side by side; each states in plain words what it
detects and what it does not, and the README repeats it. Hotline ships one: replay of a recording it has
heard before (:class:`biometrics.replay.ReplayDetector`). Synthetic speech (text-to-speech, voice
conversion) and replay of a recording Hotline never heard are **not** detected today.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from biometrics.fingerprint import Fingerprint
from media.frame import Pcm

SpoofKind = Literal["replay", "synthetic", "other"]
RecordingKind = Literal["enrolment", "call"]


@dataclass(frozen=True, eq=False)
class KnownRecording:
    """A recording Hotline heard before, as a fingerprint only (never audio): an enrolment file or a call."""

    label: str  # what the agent and the audit read: "enrolment recording 2 (take2.wav)", "call 3f2a…"
    kind: RecordingKind
    fingerprint: Fingerprint
    call_id: str | None = None


@dataclass(frozen=True)
class SpoofFinding:
    """Evidence that the audio is not a live caller."""

    detector: str
    kind: SpoofKind
    source: str  # which known recording (or what) the audio matched
    evidence: dict[str, float] = field(default_factory=dict)

    def reason(self) -> str:
        """One line for the agent and the audit."""
        facts = ", ".join(f"{k} {v:g}" for k, v in self.evidence.items())
        return f"{self.kind} suspected: matches {self.source}" + (f" ({facts})" if facts else "")


class SpoofDetector(Protocol):
    """A liveness check. ``check`` is synchronous and CPU-bound: callers run it in a worker thread."""

    name: str
    detects: str  # plain words, as the README states them
    does_not_detect: str

    def check(self, audio: Pcm, known: Sequence[KnownRecording]) -> SpoofFinding | None:
        """A finding when ``audio`` (16 kHz int16) looks spoofed; None when this detector sees nothing."""
        ...
