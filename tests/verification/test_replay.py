"""Replay checks in process: a real engine, store and cipher; FSDD voices (committed fixtures).

A customer enrolled from three recordings; the verify path and a call's passive check must call the
replay of one of them ``suspected_replay`` (never ``verified``), audit it, and let new speech of the
same customer through. A call's caller audio is remembered, so replaying it in a later call is caught too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from biometrics.channel import telephone
from biometrics.crypto import TemplateCipher
from biometrics.service import VoiceprintEngine
from biometrics.settings import BiometricsSettings
from core.events import CallEventModel, VerificationResult
from core.roles import Principal
from media.frame import FRAME_SAMPLES, AudioFrame
from store.schema import ReplayPrintRow
from store.store import Store
from tests.biometrics.test_fingerprint import take
from verification.passive import CallVerification
from verification.voiceprints import Voiceprints

CONSENT = {"given_by": "customer", "given_at": "2026-12-07T10:00:00Z", "method": "recorded verbal consent",
           "wording_version": "vp-consent-v3"}
SECURITY = Principal(1, "security", "sec")
AGENT = Principal(7, "agent", "anna")


@pytest.fixture
async def vp(tmp_path: Path) -> AsyncIterator[Voiceprints]:
    store = Store(f"sqlite:///{tmp_path / 'vp.db'}")
    store.migrate()
    settings = BiometricsSettings()
    voiceprints = Voiceprints(settings, VoiceprintEngine.from_settings(settings), TemplateCipher(bytes(range(32))),
                              store)
    yield voiceprints
    voiceprints.close()
    store.close()


async def enrolled(vp: Voiceprints, speaker: str = "george") -> str:
    cid = vp.store.customers.create(speaker.title(), [])
    sources = [f"{speaker}_{i}.wav" for i in range(3)]
    await vp.enroll(SECURITY, cid, [take(speaker, i) for i in range(3)], CONSENT, sources)
    return cid


def call_audio(*parts: np.ndarray) -> np.ndarray:
    """16 kHz audio as a G.711 call delivers it."""
    return telephone(np.concatenate(parts)[::2].copy())


async def run_call(vp: Voiceprints, call_id: str, cid: str, pcm: np.ndarray) -> list[VerificationResult]:
    events: list[CallEventModel] = []
    check = CallVerification(vp, vp.store, call_id, events.append, "asserted")
    await check.claim(cid, AGENT, "selected by the agent")
    for i in range(pcm.size // FRAME_SAMPLES):
        check.push(AudioFrame("caller", i * 0.02, pcm[i * FRAME_SAMPLES:(i + 1) * FRAME_SAMPLES]))
    await check.finish()
    return [e for e in events if isinstance(e, VerificationResult)]


async def test_verify_calls_a_replayed_enrolment_recording_a_suspected_replay(vp: Voiceprints) -> None:
    cid = await enrolled(vp)
    replayed = await vp.verify(SECURITY, cid, call_audio(take("george", 1)))
    assert replayed.decision == "suspected_replay"  # the voice matches, of course: it is the customer's
    assert replayed.score is not None and replayed.score > replayed.threshold  # type: ignore[operator]
    risk, reasons = replayed.risk()
    assert risk == "high" and reasons[2].startswith("replay suspected: matches enrolment recording 2 (george_1.wav)")
    live = await vp.verify(SECURITY, cid, call_audio(take("george", 3)))
    assert live.decision == "verified" and live.risk()[1][2].startswith("replay: no match with 3 recording(s)")
    audit = [(e.action, e.result, e.actor) for e in vp.store.audit.entries(cid)]
    assert ("replay_check", "suspected_replay", "sec#1") in audit
    assert ("verify", "suspected_replay", "sec#1") in audit and ("verify", "verified", "sec#1") in audit


async def test_a_call_replaying_an_enrolment_recording_is_flagged_audited_and_remembered(vp: Voiceprints) -> None:
    cid = await enrolled(vp)
    verdicts = await run_call(vp, "call-1", cid, call_audio(take("george", 3), take("george", 2)))
    assert verdicts[-1].decision == "suspected_replay" and verdicts[-1].risk == "high"
    assert not any(v.decision == "verified" for v in verdicts[verdicts.index(
        next(v for v in verdicts if v.decision == "suspected_replay")):])  # once found, never verified again
    entries = [e for e in vp.store.audit.entries(cid) if e.action == "replay_check"]
    assert len(entries) == 1 and entries[0].call_id == "call-1" and entries[0].actor == "anna#7"
    assert entries[0].detail["source"] == "enrolment recording 3 (george_2.wav)"
    assert [r.label for r in vp.store.replay.for_customer(cid, entries[0].at.replace(year=2000))][-1] == "call call-1"


async def test_a_later_call_replaying_an_earlier_calls_audio_is_flagged(vp: Voiceprints) -> None:
    cid = await enrolled(vp)
    first = call_audio(take("george", 3))
    assert (await run_call(vp, "call-1", cid, first))[-1].decision == "verified"  # live speech
    again = await run_call(vp, "call-2", cid, np.concatenate([np.zeros(3000, np.int16), first]))
    assert again[-1].decision == "suspected_replay"
    assert any("matches call call-1" in r for r in again[-1].reasons)


async def test_fingerprints_are_sealed_and_deleted_with_the_voiceprint(vp: Voiceprints) -> None:
    cid = await enrolled(vp)
    from sqlalchemy import select

    with vp.store.sessions() as s:
        rows = s.scalars(select(ReplayPrintRow).where(ReplayPrintRow.customer_id == cid)).all()
        assert len(rows) == 3 and all(r.key_id == vp.cipher.key_id for r in rows)
        sealed = bytes(rows[0].sealed)
    plain = vp.cipher.open_bytes(sealed, "replay-fingerprint", cid)
    assert plain[:64] not in sealed
    assert await vp.delete(SECURITY, cid)
    assert vp.store.replay.for_customer(cid, rows[0].created_at.replace(year=2000)) == []
    deleted = [e for e in vp.store.audit.entries(cid) if e.action == "delete"]
    assert deleted[0].detail == {"replay_prints_deleted": 3}


async def test_call_fingerprints_expire_and_enrolment_ones_stay(vp: Voiceprints) -> None:
    from datetime import timedelta

    from core.clock import utcnow
    from store.voiceprints import ReplayPrintRecord

    cid = await enrolled(vp)
    old = utcnow() - timedelta(days=vp.settings.replay_keep_days + 1)
    vp.store.replay.add(ReplayPrintRecord(cid, "call", "call old", "old", vp.cipher.key_id, b"x", old))
    assert await vp.replay.expire() == 1
    assert [r.kind for r in vp.store.replay.for_customer(cid, old)] == ["enrolment"] * 3
