"""Replay checks for voiceprints: fingerprints of what Hotline heard, sealed at rest, matched against new audio.

At enrolment each uploaded recording is fingerprinted; at the end of a call with a claimed customer the
caller side is. Fingerprints are sealed with the template key (AES-GCM, bound to the customer), kept
per customer, deleted with the voiceprint, and call fingerprints expire after ``replay_keep_days``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any

from biometrics.crypto import TemplateCipher
from biometrics.errors import TemplateCryptoError
from biometrics.fingerprint import Fingerprint, fingerprint
from biometrics.replay import ReplayDetector
from biometrics.settings import BiometricsSettings
from biometrics.spoof import KnownRecording, SpoofFinding
from core.clock import utcnow
from media.frame import Pcm
from store.store import Store
from store.voiceprints import ReplayPrintRecord

log = logging.getLogger("hotline.voiceprint")
PURPOSE = "replay-fingerprint"
Compute = Callable[..., Awaitable[Any]]


class ReplayGuard:
    """Remembers recordings as sealed fingerprints and checks new audio against a customer's."""

    def __init__(self, settings: BiometricsSettings, cipher: TemplateCipher, store: Store, compute: Compute) -> None:
        self.settings = settings
        self.enabled = settings.replay_detection
        self.detector = ReplayDetector(settings.replay_min_aligned)
        self.cipher = cipher
        self.store = store
        self._compute = compute  # runs CPU work in the biometrics thread

    def _seal(self, customer_id: str, kind: str, label: str, fp: Fingerprint,
              call_id: str | None = None) -> ReplayPrintRecord:
        return ReplayPrintRecord(customer_id, kind, label[:255], call_id, self.cipher.key_id,
                                 self.cipher.seal_bytes(fp.to_bytes(), PURPOSE, customer_id))

    async def remember_enrolment(self, customer_id: str, pcms: Sequence[Pcm], sources: Sequence[str]) -> int:
        """Fingerprint each enrolment recording (replacing earlier ones); how many were kept."""
        if not self.enabled:
            return 0
        prints: list[Fingerprint] = [await self._compute(fingerprint, pcm) for pcm in pcms]
        names = list(sources) + [""] * (len(prints) - len(sources))
        recs = [self._seal(customer_id, "enrolment", f"enrolment recording {i + 1}" + (f" ({name})" if name else ""),
                           fp) for i, (fp, name) in enumerate(zip(prints, names, strict=False)) if len(fp)]
        await self.store.run(self.store.replay.replace_enrolment, customer_id, recs)
        return len(recs)

    async def remember_call(self, customer_id: str, call_id: str, pcm: Pcm) -> bool:
        """Fingerprint a call's caller audio for later checks (parked during a database outage)."""
        if not self.enabled or pcm.size == 0:
            return False
        fp: Fingerprint = await self._compute(fingerprint, pcm)
        if not len(fp):
            return False
        await self.store.submit(self.store.replay.add, self._seal(customer_id, "call", f"call {call_id}", fp, call_id))
        return True

    async def known(self, customer_id: str, exclude_call: str | None = None) -> list[KnownRecording]:
        """The customer's enrolment recordings and recent calls (fingerprints); unopenable ones are skipped."""
        if not self.enabled:
            return []
        since = utcnow() - timedelta(days=self.settings.replay_keep_days)
        recs = await self.store.run(self.store.replay.for_customer, customer_id, since)
        out = []
        for rec in recs:
            if rec.call_id is not None and rec.call_id == exclude_call:
                continue
            try:
                fp = Fingerprint.from_bytes(self.cipher.open_bytes(rec.sealed, PURPOSE, customer_id))
            except (TemplateCryptoError, ValueError) as exc:
                log.error("replay fingerprint %r of customer %s cannot be opened: %s", rec.label, customer_id, exc)
                continue
            out.append(KnownRecording(rec.label, "call" if rec.kind == "call" else "enrolment", fp, rec.call_id))
        return out

    async def check(self, pcm: Pcm, known: Sequence[KnownRecording]) -> SpoofFinding | None:
        """The detector's finding on ``pcm`` (None without known recordings or when off)."""
        if not self.enabled or not known or pcm.size == 0:
            return None
        finding: SpoofFinding | None = await self._compute(self.detector.check, pcm, list(known))
        return finding

    async def forget(self, customer_id: str) -> int:
        """Delete every fingerprint of a customer (their voiceprint is being deleted)."""
        deleted: int = await self.store.run(self.store.replay.delete_customer, customer_id)
        return deleted

    async def expire(self) -> int:
        """Delete call fingerprints older than ``replay_keep_days``."""
        before = utcnow() - timedelta(days=self.settings.replay_keep_days)
        expired: int = await self.store.run(self.store.replay.expire_calls, before)
        return expired
