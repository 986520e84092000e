"""The shared customer profile: create, change, find, provisional customers for unknown callers, merges.

A mixin of :class:`store.store.Store` (with the timeline, cases and hint feedback of
:class:`store.timeline.TimelineStoreMixin`). Records, never rows, leave it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import Session

from core.clock import utcnow
from profiles.errors import ConflictError, ExternalIdTakenError, InvalidFieldError, MergeError, NotFoundError
from profiles.events import merge_event
from profiles.records import MergeResult, check_fields
from store.customers import CustomerRecord, PhoneTakenError, TemplateRecord, customer_record
from store.schema import AuditEntry, Call, CaseRow, Customer, CustomerPhone, InteractionRow, VoiceprintRow
from store.timeline import E164, TimelineStoreMixin, retry_once_on_conflict

CUSTOMER_FIELDS = ("name", "phones", "email", "language", "segment", "flags", "external_id", "provisional", "cards",
                   "documents")
# Re-seals a voiceprint template (with its bytes) for another customer id; raises when it cannot.
Resealer = Callable[[TemplateRecord, str], bytes]


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


class ProfileStoreMixin(TimelineStoreMixin):
    """Customer profiles (on top of the minimal customers of :mod:`store.customers`)."""

    def _claim_phones(self, s: Session, customer_id: str, phones: Sequence[str]) -> None:
        for phone in dict.fromkeys(phones):
            owner = s.get(CustomerPhone, phone)
            if owner is not None and owner.customer_id != customer_id:
                raise PhoneTakenError(phone, owner.customer_id)
            if owner is None:
                s.add(CustomerPhone(phone=phone, customer_id=customer_id))

    @staticmethod
    def _claim_external_id(s: Session, customer_id: str, external_id: str | None) -> None:
        if external_id is None:
            return
        other = s.scalars(select(Customer.id).where(Customer.external_id == external_id)).first()
        if other is not None and other != customer_id:
            raise ExternalIdTakenError(external_id, other)

    def create_customer_profile(self, name: str, phones: Sequence[str] = (), *, email: str | None = None,
                                language: str | None = None, segment: str | None = None,
                                flags: Sequence[str] = (), external_id: str | None = None, provisional: bool = False,
                                cards: Sequence[dict[str, Any]] = (),
                                documents: Sequence[dict[str, Any]] = ()) -> CustomerRecord:
        """Create a customer with its phones (E.164) and profile; PhoneTakenError / ExternalIdTakenError."""
        _check_values({"name": name, "phones": list(phones), "flags": list(flags), "cards": list(cards),
                       "documents": list(documents)})
        cid = uuid.uuid4().hex
        with self.sessions.begin() as s:
            self._claim_external_id(s, cid, external_id)
            now = utcnow()
            row = Customer(id=cid, name=name, email=email, language=language, segment=segment, flags=list(flags),
                           external_id=external_id, provisional=provisional, cards=list(cards) or None,
                           documents=list(documents) or None, created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            self._claim_phones(s, cid, phones)
            s.flush()
            return customer_record(s, row)

    def patch_customer(self, customer_id: str, changes: Mapping[str, Any]) -> CustomerRecord:
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
                self._claim_external_id(s, customer_id, values["external_id"])
            if "phones" in values:
                phones = list(values.pop("phones") or [])
                for old in s.scalars(select(CustomerPhone).where(CustomerPhone.customer_id == customer_id)).all():
                    if old.phone not in phones:
                        s.delete(old)
                s.flush()
                self._claim_phones(s, customer_id, phones)
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            s.flush()
            return customer_record(s, row)

    def list_customers(self, q: str | None = None, limit: int = 50, offset: int = 0,
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

    def customer_by_external_id(self, external_id: str) -> CustomerRecord | None:
        """The customer with this CRM id, or None."""
        with self.sessions() as s:
            row = s.scalars(select(Customer).where(Customer.external_id == external_id)).first()
            return customer_record(s, row) if row is not None else None

    def ensure_customer_for_phone(self, phone: str) -> CustomerRecord:
        """The customer owning an E.164 number, else a new provisional customer keyed by it."""

        def tx() -> CustomerRecord:
            with self.sessions.begin() as s:
                return customer_record(s, self._customer_for_phone(s, phone))

        return retry_once_on_conflict(tx)

    def merge_customers(self, source_id: str, target_id: str, reseal: Resealer | None = None,
                        actor: str = "system", role: str = "system") -> MergeResult:
        """Merge ``source`` (typically provisional) into ``target``.

        Phones, interactions, cases and calls move; missing e-mail, language and segment are filled from the
        source, flags are united, the CRM id moves when only the source has one. The voiceprint moves when
        the target has none and ``reseal`` can seal it for the target (templates are bound to their customer).
        The source stays, marked ``merged_into``; an audit entry and a ``customer.merged`` event are written.
        """
        if source_id == target_id:
            raise MergeError(source_id, target_id, "a customer cannot be merged into itself")
        with self.sessions.begin() as s:
            source, target = s.get(Customer, source_id), s.get(Customer, target_id)
            if source is None:
                raise NotFoundError("customer", source_id)
            if target is None:
                raise NotFoundError("customer", target_id)
            for row, what in ((source, "source"), (target, "target")):
                if row.merged_into is not None:
                    raise MergeError(source_id, target_id, f"the {what} was already merged into {row.merged_into}")
            if source.external_id and target.external_id:
                raise MergeError(source_id, target_id, "both have CRM ids; merge them in the CRM first")
            phones = sorted(s.scalars(select(CustomerPhone.phone).where(CustomerPhone.customer_id == source_id)))
            moved = [s.execute(update(model).where(model.customer_id == source_id).values(customer_id=target_id)
                               .execution_options(synchronize_session=False))
                     for model in (CustomerPhone, InteractionRow, CaseRow, Call)]
            voiceprint = self._move_voiceprint(s, source_id, target_id, reseal)
            self._fold_profile(s, source, target)
            s.flush()
            counts = [int(getattr(r, "rowcount", 0) or 0) for r in moved]
            result = MergeResult(source_id, target_id, phones, counts[1], counts[2], counts[3], voiceprint)
            s.add(AuditEntry(at=utcnow(), actor=actor, role=role, action="merge", customer_id=target_id,
                             result="merged", detail={"source_id": source_id, "voiceprint": voiceprint,
                                                      "phones": len(phones)}))
            self._emit(s, merge_event(result, source.external_id, target.external_id), target.language)
            return result

    @staticmethod
    def _fold_profile(s: Session, source: Customer, target: Customer) -> None:
        now = utcnow()
        for key in ("email", "language", "segment"):
            if getattr(target, key) is None and getattr(source, key) is not None:
                setattr(target, key, getattr(source, key))
        target.flags = list(dict.fromkeys([*(target.flags or []), *(source.flags or [])]))
        if source.external_id and not target.external_id:
            external_id, source.external_id = source.external_id, None
            s.flush()  # free the unique CRM id before the target takes it
            target.external_id = external_id
        source.merged_into, source.updated_at, target.updated_at = target.id, now, now

    @staticmethod
    def _move_voiceprint(s: Session, source_id: str, target_id: str, reseal: Resealer | None) -> str:
        row = s.get(VoiceprintRow, source_id)
        if row is None:
            return "none"
        if s.get(VoiceprintRow, target_id) is not None:
            return "target_has_one"
        if reseal is None:
            return "not_moved: voice biometrics are unavailable to re-seal the template"
        rec = TemplateRecord(row.customer_id, row.model_id, row.model_version, row.key_id, row.net_speech_s,
                             row.enrolled_at, row.enrolled_by, dict(row.consent), list(row.sources or []),
                             bytes(row.template))
        try:
            template = reseal(rec, target_id)
        except Exception as exc:  # the template cannot be opened (another key, altered): keep it where it is
            return f"not_moved: {exc}"
        s.add(VoiceprintRow(customer_id=target_id, model_id=row.model_id, model_version=row.model_version,
                            template=template, key_id=row.key_id, net_speech_s=row.net_speech_s,
                            enrolled_at=row.enrolled_at, enrolled_by=row.enrolled_by, consent=dict(row.consent),
                            sources=[*(row.sources or []), f"merged:{source_id}"]))
        s.delete(row)
        return "moved"
