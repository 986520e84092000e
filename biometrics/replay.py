"""Replay detection: the caller's audio contains a stretch of a recording Hotline heard before.

Enrolment recordings and the caller side of recent calls are kept as landmark fingerprints
(:mod:`biometrics.fingerprint`). A call or an uploaded file whose fingerprint lines up with one of them
on at least ``min_aligned`` hashes at a single time offset is a suspected replay. A live caller saying
the same words again does not line up: speech is never timed the same way twice to 8 ms.
"""

from __future__ import annotations

from collections.abc import Sequence

from biometrics.fingerprint import Fingerprint, align, fingerprint
from biometrics.spoof import KnownRecording, SpoofFinding
from media.frame import Pcm

MIN_ALIGNED = 10  # chosen on the tune split by benchmarks/replay.py: twice the largest live-speech value


class ReplayDetector:
    """Replay of an enrolment recording or of an earlier call's caller audio (see the module docstring)."""

    name = "landmark-replay"
    detects = ("digital or re-recorded playback of at least about 2 s of a recording Hotline already holds: "
               "the customer's enrolment files and the caller side of their recent calls")
    does_not_detect = ("synthetic speech (text-to-speech, voice conversion), and replay of recordings Hotline "
                       "never heard (a voicemail greeting, a recording made elsewhere)")

    def __init__(self, min_aligned: int = MIN_ALIGNED) -> None:
        self.min_aligned = min_aligned

    def check(self, audio: Pcm, known: Sequence[KnownRecording]) -> SpoofFinding | None:
        """A ``replay`` finding naming the best-matching known recording, or None."""
        return self.check_print(fingerprint(audio), known)

    def check_print(self, heard: Fingerprint, known: Sequence[KnownRecording]) -> SpoofFinding | None:
        """As :meth:`check`, for audio already fingerprinted."""
        best, source = None, None
        for rec in known:
            found = align(heard, rec.fingerprint)
            if best is None or found.aligned > best.aligned:
                best, source = found, rec
        if best is None or source is None or best.aligned < self.min_aligned:
            return None
        return SpoofFinding(self.name, "replay", source.label,
                            {"aligned_landmarks": best.aligned, "offset_s": round(best.offset_s, 2)})
