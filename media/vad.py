"""Voice activity gate: only speech plus padding goes on to recognition."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import webrtcvad

from media.frame import FRAME_MS, SAMPLE_RATE, AudioFrame


@dataclass(frozen=True, slots=True)
class UtteranceEnd:
    """The speaker fell silent: ``timestamp`` is the end of the last voiced frame."""

    leg: str
    timestamp: float


GateOutput = AudioFrame | UtteranceEnd


class VadGate:
    """Passes speech frames with ``padding_ms`` before and after; marks utterance ends.

    An utterance starts when 3 of the last 5 frames are voiced and ends after
    ``silence_ms`` of unvoiced frames. ``speech_s`` counts voiced audio seen so far.
    """

    def __init__(self, aggressiveness: int = 2, padding_ms: int = 300, silence_ms: int = 300) -> None:
        self._vad = webrtcvad.Vad(aggressiveness)
        self._pre: deque[AudioFrame] = deque(maxlen=max(1, padding_ms // FRAME_MS))
        self._recent: deque[bool] = deque(maxlen=5)
        self._silence_frames = max(1, silence_ms // FRAME_MS)
        self._post_frames = max(0, padding_ms // FRAME_MS)
        self._active = False
        self._unvoiced_run = 0
        self._last_voiced_end = 0.0
        self.speech_s = 0.0

    @property
    def active(self) -> bool:
        """True while inside an utterance."""
        return self._active

    def push(self, frame: AudioFrame) -> list[GateOutput]:
        """Feed one frame; return what passes the gate."""
        voiced = self._vad.is_speech(frame.pcm_bytes(), SAMPLE_RATE)
        if voiced:
            self.speech_s += FRAME_MS / 1000
            self._last_voiced_end = frame.timestamp + FRAME_MS / 1000
        if not self._active:
            self._recent.append(voiced)
            self._pre.append(frame)
            if sum(self._recent) >= 3:
                self._active = True
                self._unvoiced_run = 0
                out: list[GateOutput] = list(self._pre)
                self._pre.clear()
                return out
            return []
        self._unvoiced_run = 0 if voiced else self._unvoiced_run + 1
        if self._unvoiced_run >= self._silence_frames:
            return [*self._close(frame.leg)]
        if self._unvoiced_run > self._post_frames:
            return []  # inside the closing silence, beyond the trailing padding
        return [frame]

    def finish(self, leg: str) -> list[GateOutput]:
        """End of the stream: close an open utterance."""
        return self._close(leg) if self._active else []

    def _close(self, leg: str) -> list[GateOutput]:
        self._active = False
        self._recent.clear()
        self._unvoiced_run = 0
        return [UtteranceEnd(leg, self._last_voiced_end)]
