"""Records of customers and voiceprint templates, and the customer look-ups inside a transaction, shared by the
repositories (the look-ups take an open session)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import utcnow
from profiles.errors import InvalidFieldError, NotFoundError
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


T = TypeVar("T")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
MAX_MERGE_HOPS = 16
PROVISIONAL_NAME = "Unknown caller"


def retry_once_on_conflict(fn: Callable[[], T]) -> T:
    """Run a transaction again after a unique-key race with another process (the rerun sees the winner's row)."""
    try:
        return fn()
    except IntegrityError:
        return fn()


def resolve_customer(s: Session, customer_id: str) -> Customer:
    """The customer, following merges to the one it now lives in; NotFoundError when unknown."""
    row = s.get(Customer, customer_id)
    for _ in range(MAX_MERGE_HOPS):
        if row is None:
            raise NotFoundError("customer", customer_id)
        if row.merged_into is None:
            return row
        row = s.get(Customer, row.merged_into)
    raise NotFoundError("customer", customer_id)


def crm_id_and_language(s: Session, customer_id: str | None) -> tuple[str | None, str | None]:
    """(CRM id, language) of a customer, for event payloads; (None, None) when there is none."""
    row = s.get(Customer, customer_id) if customer_id else None
    return (row.external_id, row.language) if row is not None else (None, None)


def customer_for_phone(s: Session, phone: str) -> Customer:
    """The customer owning ``phone``, or a new provisional one keyed by it."""
    if not E164.match(phone):
        raise InvalidFieldError("phone", phone, "not an E.164 number (+ and 7 to 15 digits)")
    owner = s.get(CustomerPhone, phone)
    if owner is not None:
        return resolve_customer(s, owner.customer_id)
    now = utcnow()
    row = Customer(id=uuid.uuid4().hex, name=PROVISIONAL_NAME, provisional=True, flags=[], created_at=now,
                   updated_at=now)
    s.add(row)
    s.flush()
    s.add(CustomerPhone(phone=phone, customer_id=row.id))
    s.flush()
    return row
