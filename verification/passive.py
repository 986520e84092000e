"""Passive verification of a call's caller leg against the customer they claim to be."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from biometrics.errors import TemplateCryptoError
from core.events import CallEventModel, CustomerClaimed, VerificationResult
from core.roles import Principal
from media.frame import FRAME_MS, AudioFrame
from store.store import Store

if TYPE_CHECKING:
    from biometrics.passive import PassiveCheck, PassiveVerifier
    from biometrics.service import Verification
    from biometrics.spoof import KnownRecording, SpoofFinding
    from verification.voiceprints import VerifyOutcome, Voiceprints

SYSTEM = Principal(0, "system", "hotline")  # who acts when Hotline itself claims or verifies
log = logging.getLogger("hotline.voiceprint")
KEEP_S = 60.0  # caller audio kept so a customer claimed later is scored on what was already said

Publish = Callable[[CallEventModel], None]


class CallVerification:
    """Scores the caller's speech as it arrives; publishes ``verification`` events and stores the latest."""

    def __init__(self, voiceprints: Voiceprints | None, store: Store, call_id: str, publish: Publish,
                 number_trust: str | None = None) -> None:
        self.vp = voiceprints
        self.number_trust = number_trust  # of the caller's number: part of every verdict's risk
        self.store = store
        self.call_id = call_id
        self.publish = publish
        self.customer_id: str | None = None
        self.latest: dict[str, Any] | None = None
        self._verifier: PassiveVerifier | None = None
        self._frames: deque[AudioFrame] = deque(maxlen=int(KEEP_S * 1000 / FRAME_MS))
        self._tasks: set[asyncio.Task[None]] = set()
        self._generation = 0
        self._claimed_by: Principal = SYSTEM  # who set the claimed customer: the audit names them
        self._known: list[KnownRecording] = []  # the claimed customer's recordings, for the replay check
        self._replay: SpoofFinding | None = None  # once found, every later verdict says suspected_replay
        self._last: tuple[Verification, bool, int] | None = None  # the latest scored result, final, check

    async def claim(self, customer_id: str | None, who: Principal, reason: str) -> dict[str, Any]:
        """Set the claimed customer (None: nobody matches) and start verifying against them."""
        self._generation += 1
        self._verifier = None
        self._known, self._replay, self._last = [], None, None
        self.customer_id = customer_id
        self._claimed_by = who
        await self.store.submit(self.store.calls.set_customer, self.call_id, customer_id)  # parked if the DB is down
        self.publish(CustomerClaimed(customer_id=customer_id, reason=reason, by=who.role))
        if self.vp is None:
            return await self._report({"decision": "unavailable", "customer_id": customer_id})
        try:
            enrolled = await self.vp.template(customer_id) if customer_id else None
        except TemplateCryptoError as exc:
            log.error("voiceprint of customer %s cannot be opened: %s", customer_id, exc)
            return await self._report({"decision": "unavailable", "customer_id": customer_id,
                                       "reason": "the voiceprint cannot be opened with the configured key"})
        if enrolled is None:
            await self.vp.audit(who, "passive_verify", "not_enrolled", customer_id, self.call_id)
            return await self._report({"decision": "not_enrolled", "customer_id": customer_id, "score": None,
                                       "threshold": None, "net_speech_s": 0.0})
        from biometrics.passive import PassiveVerifier  # biometrics load only when voiceprints are on

        self._verifier = PassiveVerifier(self.vp.engine, enrolled)
        try:  # enrolled, so customer_id is set
            self._known = await self.vp.replay.known(str(customer_id), exclude_call=self.call_id)
        except Exception:
            log.exception("replay fingerprints of customer %s unavailable; verifying without the replay check",
                          customer_id)
        pending = None
        for frame in self._frames:  # what the caller already said counts
            pending = self._verifier.push(frame) or pending
        if pending is not None:
            self._schedule(pending)
        return {"decision": "pending", "customer_id": customer_id}

    def push(self, frame: AudioFrame) -> None:
        """Per caller frame (cheap): buffer it, and score when a scoring point is reached."""
        if self.vp is None:
            return
        self._frames.append(frame)
        if self._verifier is not None:
            check = self._verifier.push(frame)
            if check is not None:
                self._schedule(check)

    async def finish(self) -> None:
        """At hang-up: a last score on the speech since the previous one; wait for pending scores; a last
        replay check on all the caller audio kept; remember this call's fingerprint for later checks."""
        if self._verifier is not None:
            check = self._verifier.flush()
            if check is not None:
                self._schedule(check)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        replay_after_last_score = self._verifier is not None and self._replay is None and self._last is not None
        if replay_after_last_score and await self._replay_check() is not None and self._last is not None:
            await self._publish_outcome(*self._last)
        await self._remember_call()
        if self._verifier is not None and (self.latest is None or not self.latest.get("final")):
            net = self._verifier.net_speech_s
            await self._report({"decision": "inconclusive", "customer_id": self.customer_id, "score": None,
                                "threshold": None, "net_speech_s": round(net, 2), "final": True,
                                "reason": "the caller said too little to verify"})

    def _schedule(self, check: PassiveCheck) -> None:
        task = asyncio.get_running_loop().create_task(self._score(check, self._generation))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _score(self, check: PassiveCheck, generation: int) -> None:
        assert self.vp is not None and self._verifier is not None
        verifier = self._verifier
        try:
            result = await self.vp.compute(verifier.compute, check)
        except Exception:
            log.exception("passive verification failed; the call goes on")
            return
        if generation != self._generation:
            return  # the claimed customer changed meanwhile
        if self._replay is None:
            await self._replay_check()
        if generation != self._generation:
            return
        self._last = (result, check.final, check.index)
        await self._publish_outcome(result, check.final, check.index)

    async def _publish_outcome(self, result: Verification, final: bool, index: int) -> None:
        assert self.vp is not None
        outcome: VerifyOutcome = self.vp.outcome(result, self.customer_id, self.number_trust, self._replay,
                                                 len(self._known) if self.vp.replay.enabled else None)
        body = outcome.to_json() | {"final": final, "check": index}
        await self.vp.audit(self._claimed_by, "passive_verify", outcome.decision, self.customer_id, self.call_id,
                            outcome.to_json())
        await self._report(body)

    def _caller_audio(self) -> np.ndarray:
        return np.concatenate([f.samples for f in self._frames]) if self._frames else np.zeros(0, np.int16)

    async def _replay_check(self) -> SpoofFinding | None:
        """Check the caller audio kept so far against the customer's known recordings (never raises)."""
        assert self.vp is not None
        try:
            finding = await self.vp.replay.check(self._caller_audio(), self._known)
        except Exception:
            log.exception("replay check failed; the call goes on")
            return None
        if finding is not None and self._replay is None:
            self._replay = finding
            log.warning("call %s: suspected replay of customer %s's %s", self.call_id, self.customer_id,
                        finding.source)
            await self.vp.audit_replay(self._claimed_by, self.customer_id, self.call_id, finding)
        return finding

    async def _remember_call(self) -> None:
        """Keep this call's caller fingerprint (enrolled customers only), so a later replay of it is caught."""
        if self.vp is None or self._verifier is None or self.customer_id is None or not self._frames:
            return
        try:
            await self.vp.replay.remember_call(self.customer_id, self.call_id, self._caller_audio())
        except Exception:
            log.exception("could not keep the call's replay fingerprint; the call goes on")

    async def _report(self, body: dict[str, Any]) -> dict[str, Any]:
        self.latest = body
        await self.store.submit(self.store.calls.set_verification, self.call_id, body)
        self.publish(VerificationResult(**body))
        return body


