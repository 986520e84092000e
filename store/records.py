"""Records of customers and voiceprint templates, shared by the repositories that read and move them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.schema import Customer, CustomerPhone


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
