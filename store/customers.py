"""Customers, encrypted voiceprint templates and the audit log (a mixin of :class:`store.store.Store`)."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from store.schema import AuditEntry, Call, Customer, CustomerPhone, VoiceprintRow


class PhoneTakenError(ValueError):
    """A phone number already belongs to another customer."""

    def __init__(self, phone: str, customer_id: str) -> None:
        super().__init__(f"phone {phone} already belongs to customer {customer_id}")
        self.phone = phone
        self.customer_id = customer_id


@dataclass(frozen=True, slots=True)
class CustomerRecord:
    """A customer as the API shows it (the shared profile; hint rules read flags, cards and documents)."""

    id: str
    name: str
    phones: list[str]
    created_at: datetime
    email: str | None = None
    language: str | None = None
    segment: str | None = None
    flags: list[str] = field(default_factory=list)
    external_id: str | None = None
    provisional: bool = False
    merged_into: str | None = None
    cards: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    updated_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["updated_at"] = self.updated_at.isoformat() if self.updated_at else None
        return data


def customer_record(s: Session, row: Customer) -> CustomerRecord:
    """The record of a customer row, with its phones."""
    phones = s.scalars(select(CustomerPhone.phone).where(CustomerPhone.customer_id == row.id)).all()
    return CustomerRecord(row.id, row.name, sorted(phones), row.created_at, row.email, row.language, row.segment,
                          list(row.flags or []), row.external_id, bool(row.provisional), row.merged_into,
                          list(row.cards or []), list(row.documents or []), row.updated_at)


@dataclass(frozen=True, slots=True)
class TemplateRecord:
    """An encrypted template and its metadata (the status view drops ``template``)."""

    customer_id: str
    model_id: str
    model_version: str
    key_id: str
    net_speech_s: float
    enrolled_at: datetime
    enrolled_by: str
    consent: dict[str, Any]
    sources: list[str] = field(default_factory=list)
    template: bytes = b""


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


class CustomerStoreMixin:
    """Customer, voiceprint and audit persistence."""

    sessions: sessionmaker[Session]

    def create_customer(self, name: str, phones: list[str]) -> str:
        """Insert a customer with its phone numbers; returns the new id."""
        cid = uuid.uuid4().hex
        with self.sessions.begin() as s:
            for phone in phones:
                owner = s.get(CustomerPhone, phone)
                if owner is not None:
                    raise PhoneTakenError(phone, owner.customer_id)
            s.add(Customer(id=cid, name=name, created_at=utcnow()))
            s.flush()
            s.add_all(CustomerPhone(phone=p, customer_id=cid) for p in dict.fromkeys(phones))
        return cid

    def get_customer(self, customer_id: str) -> CustomerRecord | None:
        """One customer, or None."""
        with self.sessions() as s:
            row = s.get(Customer, customer_id)
            return customer_record(s, row) if row is not None else None

    def customer_by_phone(self, phone: str) -> CustomerRecord | None:
        """The customer owning an E.164 number, or None."""
        with self.sessions() as s:
            owner = s.get(CustomerPhone, phone)
            cid = owner.customer_id if owner is not None else None
        return self.get_customer(cid) if cid else None

    def save_voiceprint(self, rec: TemplateRecord) -> None:
        """Insert or replace a customer's template."""
        with self.sessions.begin() as s:
            s.execute(delete(VoiceprintRow).where(VoiceprintRow.customer_id == rec.customer_id))
            s.add(VoiceprintRow(customer_id=rec.customer_id, model_id=rec.model_id, model_version=rec.model_version,
                                template=rec.template, key_id=rec.key_id, net_speech_s=rec.net_speech_s,
                                enrolled_at=rec.enrolled_at, enrolled_by=rec.enrolled_by, consent=rec.consent,
                                sources=rec.sources))

    def voiceprint(self, customer_id: str, with_template: bool = False) -> TemplateRecord | None:
        """A customer's template record (the encrypted bytes only when asked for), or None."""
        with self.sessions() as s:
            r = s.get(VoiceprintRow, customer_id)
            if r is None:
                return None
            return TemplateRecord(r.customer_id, r.model_id, r.model_version, r.key_id, r.net_speech_s, r.enrolled_at,
                                  r.enrolled_by, dict(r.consent), list(r.sources or []),
                                  bytes(r.template) if with_template else b"")

    def template_key_ids(self) -> dict[str, int]:
        """How many templates each key id sealed."""
        with self.sessions() as s:
            rows = s.execute(select(VoiceprintRow.key_id, func.count()).group_by(VoiceprintRow.key_id)).all()
            return {str(k): int(n) for k, n in rows}

    def delete_voiceprint(self, customer_id: str) -> bool:
        """Hard-delete a template; False when there was none."""
        with self.sessions.begin() as s:
            row = s.get(VoiceprintRow, customer_id)
            if row is None:
                return False
            s.delete(row)
            return True

    def set_call_customer(self, call_id: str, customer_id: str | None) -> None:
        """Record the claimed customer of a call."""
        with self.sessions.begin() as s:
            row = s.get(Call, call_id)
            if row is not None:
                row.customer_id = customer_id

    def set_call_verification(self, call_id: str, verification: dict[str, Any]) -> None:
        """Store the latest verification result on the call."""
        with self.sessions.begin() as s:
            row = s.get(Call, call_id)
            if row is not None:
                row.verification = verification

    def audit(self, actor: str, role: str, action: str, result: str, customer_id: str | None = None,
              call_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
        """Append an audit entry (committed at once)."""
        with self.sessions.begin() as s:
            s.add(AuditEntry(at=utcnow(), actor=actor, role=role, action=action, customer_id=customer_id,
                             call_id=call_id, result=result, detail=detail or {}))

    def audit_entries(self, customer_id: str | None = None, limit: int = 100) -> list[AuditRecord]:
        """Newest first."""
        q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if customer_id:
            q = q.where(AuditEntry.customer_id == customer_id)
        with self.sessions() as s:
            return [AuditRecord(r.id, r.at, r.actor, r.role, r.action, r.customer_id, r.call_id, r.result,
                                dict(r.detail or {})) for r in s.scalars(q).all()]
