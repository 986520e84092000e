"""The audit log of biometric and profile actions: who did what to whom, and with what result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from store.backlog import parkable
from store.schema import AuditEntry


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit entry."""

    id: int
    at: datetime
    actor: str
    role: str
    action: str
    customer_id: str | None
    call_id: str | None
    result: str
    detail: dict[str, Any]


class AuditRepository:
    """Append and read audit entries."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    @parkable("audit.write")
    def write(self, actor: str, role: str, action: str, result: str, customer_id: str | None = None,
              call_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
        """Append an audit entry (committed at once)."""
        with self.sessions.begin() as s:
            s.add(AuditEntry(at=utcnow(), actor=actor, role=role, action=action, customer_id=customer_id,
                             call_id=call_id, result=result, detail=detail or {}))

    def entries(self, customer_id: str | None = None, limit: int = 100) -> list[AuditRecord]:
        """Newest first."""
        q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if customer_id:
            q = q.where(AuditEntry.customer_id == customer_id)
        with self.sessions() as s:
            return [AuditRecord(r.id, r.at, r.actor, r.role, r.action, r.customer_id, r.call_id, r.result,
                                dict(r.detail or {})) for r in s.scalars(q).all()]
