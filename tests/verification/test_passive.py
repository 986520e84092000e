"""Passive verification in a call, in process: a real engine, store and cipher, frames of a real speaker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from biometrics.crypto import TemplateCipher
from biometrics.service import VoiceprintEngine
from biometrics.settings import BiometricsSettings
from core.events import CallEventModel
from core.roles import Principal
from media.frame import FRAME_SAMPLES, AudioFrame
from media.prompt import load_pcm
from store.store import Store
from verification.passive import CallVerification
from verification.voiceprints import Voiceprints

FSDD = Path(__file__).resolve().parents[1] / "fixtures" / "fsdd" / "recordings"
CONSENT = {"given_by": "customer", "given_at": "2026-12-07T10:00:00Z", "method": "recorded verbal consent",
           "wording_version": "vp-consent-v3"}


def _speech(speaker: str, takes: range) -> np.ndarray:
    gap = np.zeros(3200, dtype=np.int16)
    return np.concatenate([part for d in range(10) for t in takes
                           for part in (load_pcm(FSDD / f"{d}_{speaker}_{t}.wav"), gap)])


@pytest.mark.asyncio
async def test_passive_checks_are_audited_under_whoever_claimed_the_customer(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'vp.db'}")
    store.migrate()
    engine = VoiceprintEngine.from_settings(BiometricsSettings(verify_min_speech_s=3.0))
    vp = Voiceprints(BiometricsSettings(), engine, TemplateCipher(bytes(range(32))), store)
    try:
        cid = store.customers.create("George", ["+380441110001"])
        security = Principal(1, "security", "sec")
        await vp.enroll(security, cid, [_speech("george", range(0, 3))], CONSENT, ["fixture"])
        store.calls.create("call1", "sip-1", "+380441110001", None, "100", "en")
        events: list[CallEventModel] = []
        verification = CallVerification(vp, store, "call1", events.append, "unverified")
        agent = Principal(7, "agent", "anna")
        claimed: dict[str, Any] = await verification.claim(cid, agent, "selected by the agent")
        assert claimed["decision"] == "pending"
        caller = _speech("george", range(3, 4))
        for i in range(caller.size // FRAME_SAMPLES):
            verification.push(AudioFrame("caller", i * 0.02, caller[i * FRAME_SAMPLES:(i + 1) * FRAME_SAMPLES]))
        await verification.finish()
        checks = [e for e in store.audit.entries(cid) if e.action == "passive_verify"]
        assert checks and all((e.actor, e.role) == ("anna#7", "agent") for e in checks)  # never "system"
        verdicts = [e for e in events if e.type == "verification" and e.risk is not None]  # type: ignore[attr-defined]
        assert verdicts and all(v.risk in ("medium", "high") for v in verdicts)  # type: ignore[attr-defined]
        assert "caller number: unverified (untrusted source)" in verdicts[-1].reasons  # type: ignore[attr-defined]
    finally:
        vp.close()
        store.close()


@pytest.mark.asyncio
async def test_a_caller_who_says_too_little_gets_an_inconclusive_verdict_with_the_reason(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'vp.db'}")
    store.migrate()
    engine = VoiceprintEngine.from_settings(BiometricsSettings())
    vp = Voiceprints(BiometricsSettings(), engine, TemplateCipher(bytes(range(32))), store)
    try:
        cid = store.customers.create("George", [])
        await vp.enroll(Principal(1, "security", "sec"), cid, [_speech("george", range(0, 3))], CONSENT, ["fixture"])
        events: list[CallEventModel] = []
        verification = CallVerification(vp, store, "call2", events.append, "asserted")
        await verification.claim(cid, Principal(0, "system", "hotline"), "caller number")
        await verification.finish()  # hung up before saying anything
        last = events[-1]
        assert last.type == "verification" and last.decision == "inconclusive"  # type: ignore[attr-defined]
        assert last.reason == "the caller said too little to verify" and last.final  # type: ignore[attr-defined]
    finally:
        vp.close()
        store.close()
