"""Sealed biometric data per customer: voiceprint templates (one per customer) and replay fingerprints.

The store never sees either unsealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from store.backlog import parkable, spillable
from store.records import TemplateRecord
from store.schema import ReplayPrintRow, VoiceprintRow

__all__ = ["ReplayPrintRecord", "ReplayPrintRepository", "TemplateRecord", "VoiceprintRepository"]


class VoiceprintRepository:
    """Templates: save, read, count by key id, delete."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def save(self, rec: TemplateRecord) -> None:
        """Insert or replace a customer's template."""
        with self.sessions.begin() as s:
            s.execute(delete(VoiceprintRow).where(VoiceprintRow.customer_id == rec.customer_id))
            s.add(VoiceprintRow(customer_id=rec.customer_id, model_id=rec.model_id, model_version=rec.model_version,
                                template=rec.template, key_id=rec.key_id, net_speech_s=rec.net_speech_s,
                                enrolled_at=rec.enrolled_at, enrolled_by=rec.enrolled_by, consent=rec.consent,
                                sources=rec.sources))

    def get(self, customer_id: str, with_template: bool = False) -> TemplateRecord | None:
        """A customer's template record (the encrypted bytes only when asked for), or None."""
        with self.sessions() as s:
            r = s.get(VoiceprintRow, customer_id)
            if r is None:
                return None
            return TemplateRecord(r.customer_id, r.model_id, r.model_version, r.key_id, r.net_speech_s, r.enrolled_at,
                                  r.enrolled_by, dict(r.consent), list(r.sources or []),
                                  bytes(r.template) if with_template else b"")

    def key_ids(self) -> dict[str, int]:
        """How many templates each key id sealed."""
        with self.sessions() as s:
            rows = s.execute(select(VoiceprintRow.key_id, func.count()).group_by(VoiceprintRow.key_id)).all()
            return {str(k): int(n) for k, n in rows}

    def delete(self, customer_id: str) -> bool:
        """Hard-delete a template; False when there was none."""
        with self.sessions.begin() as s:
            row = s.get(VoiceprintRow, customer_id)
            if row is None:
                return False
            s.delete(row)
            return True


@spillable("ReplayPrintRecord")
@dataclass(frozen=True, slots=True)
class ReplayPrintRecord:
    """One sealed fingerprint (opened only by the verification package, with the template key)."""

    customer_id: str
    kind: str  # enrolment | call
    label: str
    call_id: str | None
    key_id: str
    sealed: bytes
    created_at: datetime | None = None


class ReplayPrintRepository:
    """Add, list, expire and delete a customer's replay fingerprints."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    @parkable("replay.add")
    def add(self, rec: ReplayPrintRecord) -> None:
        """Store a fingerprint (a call's is parked during a database outage, like the call itself)."""
        with self.sessions.begin() as s:
            s.add(ReplayPrintRow(customer_id=rec.customer_id, kind=rec.kind, label=rec.label, call_id=rec.call_id,
                                 key_id=rec.key_id, sealed=rec.sealed, created_at=rec.created_at or utcnow()))

    def replace_enrolment(self, customer_id: str, recs: list[ReplayPrintRecord]) -> None:
        """A (re-)enrolment: the customer's enrolment fingerprints become ``recs``."""
        with self.sessions.begin() as s:
            s.execute(delete(ReplayPrintRow).where(ReplayPrintRow.customer_id == customer_id,
                                                   ReplayPrintRow.kind == "enrolment"))
            s.add_all(ReplayPrintRow(customer_id=r.customer_id, kind=r.kind, label=r.label, call_id=r.call_id,
                                     key_id=r.key_id, sealed=r.sealed, created_at=r.created_at or utcnow())
                      for r in recs)

    def for_customer(self, customer_id: str, calls_since: datetime, limit: int = 50) -> list[ReplayPrintRecord]:
        """The enrolment fingerprints and the newest ``limit`` call fingerprints since ``calls_since``."""
        with self.sessions() as s:
            enrolment = s.scalars(select(ReplayPrintRow).where(ReplayPrintRow.customer_id == customer_id,
                                                               ReplayPrintRow.kind == "enrolment")
                                  .order_by(ReplayPrintRow.id)).all()
            calls = s.scalars(select(ReplayPrintRow).where(ReplayPrintRow.customer_id == customer_id,
                                                           ReplayPrintRow.kind == "call",
                                                           ReplayPrintRow.created_at >= calls_since)
                              .order_by(ReplayPrintRow.id.desc()).limit(limit)).all()
            return [ReplayPrintRecord(r.customer_id, r.kind, r.label, r.call_id, r.key_id, bytes(r.sealed),
                                      r.created_at) for r in (*enrolment, *calls)]

    def delete_customer(self, customer_id: str) -> int:
        """Hard-delete every fingerprint of a customer (with their voiceprint); how many there were."""
        with self.sessions.begin() as s:
            result = s.execute(delete(ReplayPrintRow).where(ReplayPrintRow.customer_id == customer_id))
            return int(getattr(result, "rowcount", 0) or 0)

    def expire_calls(self, before: datetime) -> int:
        """Delete call fingerprints older than ``before``; how many went."""
        with self.sessions.begin() as s:
            result = s.execute(delete(ReplayPrintRow).where(ReplayPrintRow.kind == "call",
                                                            ReplayPrintRow.created_at < before))
            return int(getattr(result, "rowcount", 0) or 0)
