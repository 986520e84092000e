"""Landmark fingerprints: a recording through a G.711 call lines up with itself; new speech does not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from biometrics.channel import telephone
from biometrics.fingerprint import FRAME_S, Fingerprint, align, fingerprint
from biometrics.replay import MIN_ALIGNED, ReplayDetector
from biometrics.spoof import KnownRecording
from media.prompt import load_pcm

FSDD = Path(__file__).resolve().parents[1] / "fixtures" / "fsdd" / "recordings"


def take(speaker: str, index: int, gap_s: float = 0.3) -> np.ndarray:
    """Ten digits of one take, joined: about 5 s of one speaker at 16 kHz."""
    gap = np.zeros(int(16000 * gap_s), np.int16)
    return np.concatenate([x for d in range(10) for x in (load_pcm(FSDD / f"{d}_{speaker}_{index}.wav"), gap)])


def through_call(pcm16k: np.ndarray) -> np.ndarray:
    """What a call hears of 16 kHz audio played into it: 8 kHz, G.711 u-law, back to 16 kHz."""
    return telephone(pcm16k[::2].copy())


def test_a_recording_played_into_a_call_lines_up_with_itself() -> None:
    enrolment = take("george", 0)
    lead = np.zeros(16000 * 2 + 4000, np.int16)  # the replay starts 2.25 s into the call
    found = align(fingerprint(through_call(np.concatenate([lead, enrolment]))), fingerprint(enrolment))
    assert found.aligned >= 2 * MIN_ALIGNED
    assert found.offset_s == pytest.approx(-2.25, abs=2 * FRAME_S)


@pytest.mark.parametrize("speaker", ["george", "jackson", "lucas"])
def test_the_same_speaker_saying_the_same_digits_again_does_not_line_up(speaker: str) -> None:
    enrolled = [fingerprint(take(speaker, i)) for i in range(3)]
    again = fingerprint(through_call(take(speaker, 3)))
    assert max(align(again, ref).aligned for ref in enrolled) < MIN_ALIGNED // 2


def test_replay_between_live_speech_is_found_and_named() -> None:
    known = [KnownRecording(f"enrolment recording {i + 1}", "enrolment", fingerprint(take("lucas", i)))
             for i in range(3)]
    call = np.concatenate([take("lucas", 3), take("lucas", 1)[16000:64000], take("lucas", 3)])
    finding = ReplayDetector().check(through_call(call), known)
    assert finding is not None and finding.kind == "replay" and finding.source == "enrolment recording 2"
    assert finding.evidence["aligned_landmarks"] >= MIN_ALIGNED
    assert finding.reason().startswith("replay suspected: matches enrolment recording 2 (aligned_landmarks ")
    assert ReplayDetector().check(through_call(take("lucas", 3)), known) is None


def test_round_trip_and_bad_bytes() -> None:
    fp = fingerprint(take("jackson", 0))
    back = Fingerprint.from_bytes(fp.to_bytes())
    assert np.array_equal(back.hashes, fp.hashes) and np.array_equal(back.frames, fp.frames) and len(fp) > 100
    with pytest.raises(ValueError, match="pairs of 4-byte values"):
        Fingerprint.from_bytes(b"\x00" * 12)


def test_silence_and_too_short_audio_have_no_landmarks() -> None:
    assert len(fingerprint(np.zeros(16000, np.int16))) == 0
    assert len(fingerprint(np.zeros(100, np.int16))) == 0
    assert align(Fingerprint.empty(), fingerprint(take("george", 0))).aligned == 0
