"""Customer look-ups inside a transaction, shared by the repositories (all take an open session)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.clock import utcnow
from profiles.errors import InvalidFieldError, NotFoundError
from store.schema import Customer, CustomerPhone

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
