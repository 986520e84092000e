"""Passive verification during a call: score as the caller's speech accumulates.

Feed every 20 ms :class:`~media.frame.AudioFrame` of the caller's leg to :meth:`PassiveVerifier.push`.
Once net speech reaches ``verify_min_speech_s`` it returns a :class:`PassiveCheck`, then again after
each further ``update_every_s`` of speech, and a last one at exactly ``verify_max_speech_s``, after
which the verifier is ``done`` and ignores further audio. ``push`` is cheap (VAD only); computing a
check (:meth:`PassiveVerifier.compute`) embeds speech and is slow, so an asyncio caller runs it in a
thread pool::

    check = verifier.push(frame)
    if check is not None:
        result = await loop.run_in_executor(pool, verifier.compute, check)
"""

from __future__ import annotations

from dataclasses import dataclass

from biometrics.pooling import SegmentCache
from biometrics.service import Verification, VoiceprintEngine
from biometrics.speech import SpeechSplit, SpeechTracker
from biometrics.voiceprint import Voiceprint
from media.frame import AudioFrame


@dataclass(frozen=True, eq=False)
class PassiveCheck:
    """A snapshot of the speech so far, to be scored (independent of later frames)."""

    index: int
    speech: SpeechSplit
    final: bool
    timestamp: float

    @property
    def net_speech_s(self) -> float:
        """Net speech in this snapshot."""
        return self.speech.net_speech_s


class PassiveVerifier:
    """Incremental verification of one call leg against one enrolled voiceprint."""

    def __init__(self, engine: VoiceprintEngine, enrolled: Voiceprint) -> None:
        self.engine = engine
        self.enrolled = enrolled
        s = engine.settings
        self._tracker = SpeechTracker(s.vad_aggressiveness, s.vad_padding_ms)
        self._next = s.verify_min_speech_s
        self._max = s.verify_max_speech_s
        self._step = s.update_every_s
        self._checks = 0
        self._last_net = 0.0
        self._cache = SegmentCache()  # segments already embedded are not embedded again
        self.done = False

    @property
    def net_speech_s(self) -> float:
        """Net speech heard so far (stops growing once done)."""
        return self._tracker.net_speech_s

    def push(self, frame: AudioFrame) -> PassiveCheck | None:
        """Feed one frame; a check is returned when a scoring point is reached."""
        if self.done:
            return None
        self._tracker.push(frame.samples)
        net = self._tracker.net_speech_s
        if net + 1e-9 < self._next:
            return None
        final = self._next >= self._max - 1e-9
        self.done = final
        self._next = min(self._next + self._step, self._max)
        return self._check(final, frame.timestamp)

    def flush(self, timestamp: float = 0.0) -> PassiveCheck | None:
        """End of the call: a last check if speech arrived since the previous one (even below the minimum)."""
        if self.done or self._tracker.net_speech_s <= self._last_net:
            return None
        self.done = True
        return self._check(True, timestamp)

    def _check(self, final: bool, timestamp: float) -> PassiveCheck:
        self._checks += 1
        snapshot = self._tracker.snapshot()
        self._last_net = snapshot.net_speech_s
        return PassiveCheck(self._checks, snapshot, final, timestamp)

    def compute(self, check: PassiveCheck) -> Verification:
        """Score a check. Pure apart from a thread-safe memo of segment embeddings: run it in a worker thread."""
        return self.engine.verify_speech(self.enrolled, check.speech, self._cache)

    def push_and_compute(self, frame: AudioFrame) -> Verification | None:
        """Synchronous convenience: :meth:`push`, then :meth:`compute` when a check is due."""
        check = self.push(frame)
        return self.compute(check) if check is not None else None
