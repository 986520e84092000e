"""Merging one customer into another inside a transaction (phones, timeline, cases, calls, the voiceprint)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.clock import utcnow
from profiles.errors import MergeError, NotFoundError
from profiles.events import merge_event
from profiles.records import MergeResult
from store.outbox import OutboxRepository
from store.records import TemplateRecord
from store.schema import AuditEntry, Call, CaseRow, Customer, CustomerPhone, InteractionRow, VoiceprintRow

# Re-seals a voiceprint template (with its bytes) for another customer id; raises when it cannot.
Resealer = Callable[[TemplateRecord, str], bytes]


def merge_customers(s: Session, outbox: OutboxRepository, source_id: str, target_id: str, reseal: Resealer | None,
                    actor: str, role: str) -> MergeResult:
    """Merge ``source`` (typically provisional) into ``target``.

    Phones, interactions, cases and calls move; missing e-mail, language and segment are filled from the
    source, flags are united, the CRM id moves when only the source has one. The voiceprint moves when
    the target has none and ``reseal`` can seal it for the target (templates are bound to their customer).
    The source stays, marked ``merged_into``; an audit entry and a ``customer.merged`` event are written, all in
    ``s``'s transaction.
    """
    if source_id == target_id:
        raise MergeError(source_id, target_id, "a customer cannot be merged into itself")
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
    voiceprint = _move_voiceprint(s, source_id, target_id, reseal)
    _fold_profile(s, source, target)
    s.flush()
    counts = [int(getattr(r, "rowcount", 0) or 0) for r in moved]
    result = MergeResult(source_id, target_id, phones, counts[1], counts[2], counts[3], voiceprint)
    s.add(AuditEntry(at=utcnow(), actor=actor, role=role, action="merge", customer_id=target_id,
                     result="merged", detail={"source_id": source_id, "voiceprint": voiceprint,
                                              "phones": len(phones)}))
    outbox.emit(s, merge_event(result, source.external_id, target.external_id), target.language)
    return result


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
