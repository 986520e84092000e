"""Customers and their shared profile: create, change, find, provisional customers for unknown callers, merges.

Records, never rows, leave this module.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from profiles.errors import ConflictError, ExternalIdTakenError, InvalidFieldError, NotFoundError
from profiles.records import MergeResult, check_fields
from store.merge import Resealer, merge_customers
from store.outbox import OutboxRepository
from store.records import (
    E164,
    CustomerRecord,
    PhoneTakenError,
    customer_for_phone,
    customer_record,
    retry_once_on_conflict,
)
from store.schema import Customer, CustomerPhone

CUSTOMER_FIELDS = ("name", "phones", "email", "language", "segment", "flags", "external_id", "provisional", "cards",
                   "documents")

class MergedCustomerError(ConflictError):
    """The customer was merged into another one; changes go to that one."""

    def __init__(self, customer_id: str, merged_into: str) -> None:
        super().__init__(f"customer {customer_id} was merged into {merged_into}; change that customer instead")
        self.customer_id = customer_id
        self.merged_into = merged_into


def _check_values(values: Mapping[str, Any]) -> None:
    if "name" in values and not str(values["name"] or "").strip():
        raise InvalidFieldError("name", values["name"], "a customer needs a name")
    for phone in values.get("phones") or ():
        if not isinstance(phone, str) or not E164.match(phone):
            raise InvalidFieldError("phones", phone, "not an E.164 number (+ and 7 to 15 digits)")
    flags = values.get("flags")
    if flags is not None and (not isinstance(flags, list) or not all(isinstance(f, str) and f for f in flags)):
        raise InvalidFieldError("flags", flags, "flags are a list of non-empty strings")
    for key in ("cards", "documents"):
        items = values.get(key)
        if items is not None and (not isinstance(items, list) or not all(isinstance(i, dict) for i in items)):
            raise InvalidFieldError(key, items, "a list of objects")


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _claim_phones(s: Session, customer_id: str, phones: Sequence[str]) -> None:
    for phone in dict.fromkeys(phones):
        owner = s.get(CustomerPhone, phone)
        if owner is not None and owner.customer_id != customer_id:
            raise PhoneTakenError(phone, owner.customer_id)
        if owner is None:
            s.add(CustomerPhone(phone=phone, customer_id=customer_id))


def _claim_external_id(s: Session, customer_id: str, external_id: str | None) -> None:
    if external_id is None:
        return
    other = s.scalars(select(Customer.id).where(Customer.external_id == external_id)).first()
    if other is not None and other != customer_id:
        raise ExternalIdTakenError(external_id, other)



class CustomerRepository:
    """Customer profiles: the minimal customer of voiceprint enrolment and the full shared profile."""

    def __init__(self, sessions: sessionmaker[Session], outbox: OutboxRepository) -> None:
        self.sessions = sessions
        self.outbox = outbox

    def create(self, name: str, phones: list[str]) -> str:
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

    def get(self, customer_id: str) -> CustomerRecord | None:
        """One customer, or None."""
        with self.sessions() as s:
            row = s.get(Customer, customer_id)
            return customer_record(s, row) if row is not None else None

    def by_phone(self, phone: str) -> CustomerRecord | None:
        """The customer owning an E.164 number, or None."""
        with self.sessions() as s:
            owner = s.get(CustomerPhone, phone)
            cid = owner.customer_id if owner is not None else None
        return self.get(cid) if cid else None

    def create_profile(self, name: str, phones: Sequence[str] = (), *, email: str | None = None,
                       language: str | None = None, segment: str | None = None,
                       flags: Sequence[str] = (), external_id: str | None = None, provisional: bool = False,
                       cards: Sequence[dict[str, Any]] = (),
                       documents: Sequence[dict[str, Any]] = ()) -> CustomerRecord:
        """Create a customer with its phones (E.164) and profile; PhoneTakenError / ExternalIdTakenError."""
        _check_values({"name": name, "phones": list(phones), "flags": list(flags), "cards": list(cards),
                       "documents": list(documents)})
        cid = uuid.uuid4().hex
        with self.sessions.begin() as s:
            _claim_external_id(s, cid, external_id)
            now = utcnow()
            row = Customer(id=cid, name=name, email=email, language=language, segment=segment, flags=list(flags),
                           external_id=external_id, provisional=provisional, cards=list(cards) or None,
                           documents=list(documents) or None, created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            _claim_phones(s, cid, phones)
            s.flush()
            return customer_record(s, row)

    def patch(self, customer_id: str, changes: Mapping[str, Any]) -> CustomerRecord:
        """Change profile fields; ``phones`` replaces the customer's numbers."""
        check_fields(changes, CUSTOMER_FIELDS)
        _check_values(changes)
        with self.sessions.begin() as s:
            row = s.get(Customer, customer_id)
            if row is None:
                raise NotFoundError("customer", customer_id)
            if row.merged_into is not None:
                raise MergedCustomerError(customer_id, row.merged_into)
            values = dict(changes)
            if "external_id" in values:
                _claim_external_id(s, customer_id, values["external_id"])
            if "phones" in values:
                phones = list(values.pop("phones") or [])
                for old in s.scalars(select(CustomerPhone).where(CustomerPhone.customer_id == customer_id)).all():
                    if old.phone not in phones:
                        s.delete(old)
                s.flush()
                _claim_phones(s, customer_id, phones)
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            s.flush()
            return customer_record(s, row)

    def search(self, q: str | None = None, limit: int = 50, offset: int = 0,
             include_merged: bool = False) -> tuple[int, list[CustomerRecord]]:
        """Customers by name, e-mail, CRM id or part of a phone number, newest first, with the total."""
        query = select(Customer)
        if not include_merged:
            query = query.where(Customer.merged_into.is_(None))
        if q:
            pattern = _like(q.strip())
            query = query.where(or_(
                Customer.name.ilike(pattern, escape="\\"), Customer.email.ilike(pattern, escape="\\"),
                Customer.external_id == q.strip(),
                exists().where(CustomerPhone.customer_id == Customer.id,
                               CustomerPhone.phone.like(pattern, escape="\\")),
            ))
        with self.sessions() as s:
            total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = s.scalars(query.order_by(Customer.created_at.desc(), Customer.id).limit(limit).offset(offset)).all()
            return total, [customer_record(s, r) for r in rows]

    def by_external_id(self, external_id: str) -> CustomerRecord | None:
        """The customer with this CRM id, or None."""
        with self.sessions() as s:
            row = s.scalars(select(Customer).where(Customer.external_id == external_id)).first()
            return customer_record(s, row) if row is not None else None

    def ensure_for_phone(self, phone: str) -> CustomerRecord:
        """The customer owning an E.164 number, else a new provisional customer keyed by it."""

        def tx() -> CustomerRecord:
            with self.sessions.begin() as s:
                return customer_record(s, customer_for_phone(s, phone))

        return retry_once_on_conflict(tx)

    def merge(self, source_id: str, target_id: str, reseal: Resealer | None = None, actor: str = "system",
              role: str = "system") -> MergeResult:
        """Merge ``source`` (typically provisional) into ``target``: see :func:`store.merge.merge_customers`."""
        with self.sessions.begin() as s:
            return merge_customers(s, self.outbox, source_id, target_id, reseal, actor, role)
