"""Voiceprints for the API and calls: enrol, verify, delete; templates sealed at rest; every action audited.

CPU work (embeddings) runs in a dedicated worker thread so the event loop and
the speech recognizers keep their pace.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from biometrics.crypto import TemplateCipher
from biometrics.errors import BiometricsError
from biometrics.service import EnrollmentResult, Verification, VoiceprintEngine
from biometrics.settings import BiometricsSettings
from biometrics.spoof import SpoofFinding
from biometrics.voiceprint import ModelTag, Voiceprint
from core.clock import utcnow
from core.roles import Principal
from media.frame import Pcm
from store.records import TemplateRecord
from store.store import Store
from verification.replay import ReplayGuard
from verification.risk import Risk, assess_risk

log = logging.getLogger("hotline.voiceprint")
T = TypeVar("T")
CONSENT_FIELDS = ("given_by", "given_at", "method", "wording_version")


class ConsentError(ValueError):
    """Consent is missing (409) or malformed (422)."""

    def __init__(self, missing: bool, fields: Sequence[str] = ()) -> None:
        text = "consent is required" if missing else f"consent lacks {', '.join(fields)}"
        super().__init__(f"{text}: send consent as JSON with {', '.join(CONSENT_FIELDS)}")
        self.missing = missing
        self.fields = list(fields)


@dataclass(frozen=True, slots=True)
class VerifyOutcome:
    """What the API and the call events show for one verification."""

    decision: str  # verified | not_verified | inconclusive | not_enrolled | suspected_replay
    score: float | None
    threshold: float | None
    net_speech_s: float
    customer_id: str | None
    model_id: str | None = None
    number_trust: str | None = None  # of the caller's number, when the audio is a call's
    replay: str | None = None  # the replay finding, when the audio matches a recording heard before
    replay_checked: int | None = None  # known recordings compared (None: no replay check ran)

    def risk(self) -> tuple[Risk, list[str]]:
        """Risk level and its reasons (:func:`verification.risk.assess_risk`)."""
        return assess_risk(self.decision, self.score, self.threshold, self.net_speech_s, self.number_trust,
                           self.replay, self.replay_checked)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        risk, reasons = self.risk()
        return {"decision": self.decision, "score": None if self.score is None else round(self.score, 4),
                "threshold": self.threshold, "net_speech_s": round(self.net_speech_s, 2),
                "customer_id": self.customer_id, "model_id": self.model_id, "risk": risk, "reasons": reasons}


def check_consent(consent: dict[str, Any] | None) -> dict[str, Any]:
    """The consent record, or :class:`ConsentError`."""
    if not consent:
        raise ConsentError(missing=True)
    lacking = [f for f in CONSENT_FIELDS if not str(consent.get(f, "")).strip()]
    if lacking:
        raise ConsentError(missing=False, fields=lacking)
    return {f: consent[f] for f in CONSENT_FIELDS} | {k: v for k, v in consent.items() if k not in CONSENT_FIELDS}


class Voiceprints:
    """The biometrics engine bound to the store, the template cipher and the audit log."""

    def __init__(self, settings: BiometricsSettings, engine: VoiceprintEngine, cipher: TemplateCipher,
                 store: Store) -> None:
        self.settings = settings
        self.engine = engine
        self.cipher = cipher
        self.store = store
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="voiceprint")
        self.replay = ReplayGuard(settings, cipher, store, self.compute)

    @property
    def model(self) -> ModelTag:
        """The embedding model in use."""
        return self.engine.model

    async def compute(self, fn: Callable[..., T], *args: Any) -> T:
        """Run CPU work in the biometrics thread."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def close(self) -> None:
        """Stop the worker."""
        self._pool.shutdown(wait=True)

    async def enroll(self, who: Principal, customer_id: str, pcms: list[Pcm], consent: dict[str, Any],
                     sources: list[str]) -> TemplateRecord:
        """Enrol (or re-enrol) a customer; raises QualityError with the reasons when audio is not good enough."""
        try:
            result: EnrollmentResult = await self.compute(self.engine.enroll_from_pcm, pcms)
        except BiometricsError as exc:
            await self._audit(who, "enroll", "rejected", customer_id, detail={"reason": str(exc), "sources": sources})
            raise
        rec = TemplateRecord(customer_id, self.model.model_id, self.model.version, self.cipher.key_id,
                             round(result.net_speech_s, 2), utcnow(), _actor(who), consent, sources,
                             self.cipher.seal(result.embedding, customer_id))
        await self.store.run(self.store.voiceprints.save, rec)
        prints = await self.replay.remember_enrolment(customer_id, pcms, sources)
        await self._audit(who, "enroll", "enrolled", customer_id,
                          detail={"net_speech_s": rec.net_speech_s, "model": str(self.model), "sources": sources,
                                  "consent_wording": consent.get("wording_version"), "replay_prints": prints})
        return rec

    async def template(self, customer_id: str) -> Voiceprint | None:
        """The customer's decrypted voiceprint for this model, or None (not enrolled, or another model)."""
        rec = await self.store.run(self.store.voiceprints.get, customer_id, True)
        if rec is None:
            return None
        tag = ModelTag(rec.model_id, rec.model_version)
        if tag != self.model:
            log.warning("customer %s was enrolled with %s, engine is %s: re-enrolment needed", customer_id, tag,
                        self.model)
            return None
        return self.cipher.open(rec.template, customer_id, tag)

    async def verify(self, who: Principal, customer_id: str, pcm: Pcm, call_id: str | None = None) -> VerifyOutcome:
        """Verify a recording against a customer (``not_enrolled`` when there is no usable template)."""
        enrolled = await self.template(customer_id)
        if enrolled is None:
            outcome = VerifyOutcome("not_enrolled", None, None, 0.0, customer_id)
        else:
            known = await self.replay.known(customer_id)
            v: Verification = await self.compute(self.engine.verify, enrolled, pcm)
            finding = await self.replay.check(pcm, known)
            outcome = self.outcome(v, customer_id, None, finding, len(known) if self.replay.enabled else None)
            if finding is not None:
                await self.audit_replay(who, customer_id, call_id, finding)
        await self._audit(who, "verify", outcome.decision, customer_id, call_id, outcome.to_json())
        return outcome

    def outcome(self, v: Verification, customer_id: str | None, number_trust: str | None = None,
                replay: SpoofFinding | None = None, replay_checked: int | None = None) -> VerifyOutcome:
        """Engine result as the API's outcome (``number_trust``: the caller's, for a call's audio).

        A replay finding overrides the voice decision: ``suspected_replay``, whatever the score.
        """
        decision = "suspected_replay" if replay is not None else v.decision
        return VerifyOutcome(decision, v.score, round(v.threshold, 4), v.net_speech_s, customer_id, v.model_id,
                             number_trust, replay.reason() if replay is not None else None, replay_checked)

    async def audit_replay(self, who: Principal, customer_id: str | None, call_id: str | None,
                           finding: SpoofFinding) -> None:
        """Audit a suspected replay (which recording it matched and how well)."""
        await self._audit(who, "replay_check", "suspected_replay", customer_id, call_id,
                          {"detector": finding.detector, "source": finding.source, **finding.evidence})

    async def delete(self, who: Principal, customer_id: str) -> bool:
        """Hard-delete a template."""
        deleted = await self.store.run(self.store.voiceprints.delete, customer_id)
        prints = await self.replay.forget(customer_id)
        await self._audit(who, "delete", "deleted" if deleted else "not_enrolled", customer_id,
                          detail={"replay_prints_deleted": prints})
        return bool(deleted)

    async def audit(self, who: Principal, action: str, result: str, customer_id: str | None,
                    call_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
        """Write an audit entry (never audio or embeddings)."""
        await self._audit(who, action, result, customer_id, call_id, detail)

    async def _audit(self, who: Principal, action: str, result: str, customer_id: str | None,
                     call_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
        # durable: during a database outage the entry is parked and written when the database is back
        await self.store.submit(self.store.audit.write, _actor(who), who.role, action, result, customer_id, call_id,
                                detail or {})


def _actor(who: Principal) -> str:
    return f"{who.name or 'key'}#{who.key_id}"
