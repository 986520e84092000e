"""The customer timeline (interactions on every channel), cases and hint feedback: :class:`TimelineRepository`.

Every change that other systems hear about is queued in the outbox in the same transaction as the change
itself (:func:`store.outbox.enqueue`), so an event exists exactly when its change is committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from profiles.errors import CallInteractionExistsError, InvalidFieldError, NotFoundError
from profiles.events import case_event, interaction_event
from profiles.records import (
    CASE_FIELDS,
    INTERACTION_FIELDS,
    CaseRecord,
    HintFeedbackRecord,
    InteractionDraft,
    InteractionRecord,
    check_case_status,
    check_fields,
    check_interaction_values,
)
from store.backlog import parkable
from store.outbox import OutboxRepository
from store.records import E164, crm_id_and_language, customer_for_phone, resolve_customer, retry_once_on_conflict
from store.schema import Call, CaseRow, HintFeedbackRow, InteractionRow


def transcript_path(call_id: str) -> str:
    """Where a voice interaction's transcript is served."""
    return f"/api/v1/calls/{call_id}/transcript"


class TimelineRepository:
    """Interactions, cases and hint feedback, with their webhook events (queued in the same transaction)."""

    def __init__(self, sessions: sessionmaker[Session], outbox: OutboxRepository) -> None:
        self.sessions = sessions
        self.outbox = outbox

    def _apply_interaction(self, s: Session, row: InteractionRow, changes: Mapping[str, Any]) -> list[str]:
        """Set changed fields, bump the version and queue ``interaction.updated``; returns what changed."""
        return self._apply(s, row, changes, lambda ext, changed: interaction_event(interaction_record(row), ext,
                                                                                   changed))

    def _apply(self, s: Session, row: InteractionRow | CaseRow, changes: Mapping[str, Any],
               event: Callable[[str | None, list[str]], tuple[str, str, dict[str, Any]]]) -> list[str]:
        """Set the fields that differ, bump the row's version and queue its ``*.updated`` webhook event in the
        same transaction; returns what changed (nothing changed: no version, no event)."""
        changed = [k for k, v in changes.items() if getattr(row, k) != v]
        if not changed:
            return []
        for key in changed:
            setattr(row, key, changes[key])
        row.version += 1
        row.updated_at = utcnow()
        s.flush()
        external_id, language = crm_id_and_language(s, row.customer_id)
        self.outbox.emit(s, event(external_id, changed), language)
        return changed

    def _insert_interaction(self, s: Session, draft: InteractionDraft) -> InteractionRow:
        if draft.call_id is not None:
            existing = s.scalars(select(InteractionRow.id).where(InteractionRow.call_id == draft.call_id)).first()
            if existing is not None:
                raise CallInteractionExistsError(draft.call_id, existing)
        now = utcnow()
        values = asdict(draft)
        values["started_at"] = _utc(draft.started_at) if draft.started_at is not None else now
        row = InteractionRow(id=uuid.uuid4().hex, version=1, created_at=now, updated_at=now, **values)
        s.add(row)
        s.flush()
        external_id, language = crm_id_and_language(s, row.customer_id)
        self.outbox.emit(s, interaction_event(interaction_record(row), external_id), language)
        return row

    # -- interactions -------------------------------------------------------------------------------------------
    def add_interaction(self, draft: InteractionDraft) -> InteractionRecord:
        """Append an interaction to a customer's timeline (a merged customer's id leads to its target)."""
        check_interaction_values(asdict(draft))
        with self.sessions.begin() as s:
            if draft.customer_id is not None:
                customer_id = resolve_customer(s, draft.customer_id).id
                draft = InteractionDraft(**{**asdict(draft), "customer_id": customer_id})
            return interaction_record(self._insert_interaction(s, draft))

    def update_interaction(self, interaction_id: str, changes: Mapping[str, Any]) -> InteractionRecord:
        """Change fields of an interaction (wrap-up: outcome, summary, CSI, notes, ...)."""
        check_fields(changes, INTERACTION_FIELDS)
        check_interaction_values(changes)
        with self.sessions.begin() as s:
            row = s.get(InteractionRow, interaction_id)
            if row is None:
                raise NotFoundError("interaction", interaction_id)
            changes = dict(changes)
            if changes.get("customer_id") is not None:
                changes["customer_id"] = resolve_customer(s, changes["customer_id"]).id
            self._apply_interaction(s, row, changes)
            return interaction_record(row)

    def get_interaction(self, interaction_id: str) -> InteractionRecord | None:
        """One interaction, or None."""
        with self.sessions() as s:
            row = s.get(InteractionRow, interaction_id)
            return interaction_record(row) if row is not None else None

    def interaction_for_call(self, call_id: str) -> InteractionRecord | None:
        """The interaction of a voice call, or None."""
        with self.sessions() as s:
            row = s.scalars(select(InteractionRow).where(InteractionRow.call_id == call_id)).first()
            return interaction_record(row) if row is not None else None

    @parkable("timeline.record_voice_interaction")
    def record_voice_interaction(self, call_id: str, changes: Mapping[str, Any] | None = None) -> InteractionRecord:
        """Create or update the voice interaction of a call, in one transaction with its event.

        What the call row knows (customer, agent, queue wait, reason, verification, handle time once it
        ended) fills fields that are still empty; ``changes`` are applied as given. A call without a claimed
        customer is filed under the customer owning the caller's number, or a new provisional one.
        """
        given = dict(changes or {})
        check_fields(given, INTERACTION_FIELDS)
        check_interaction_values(given)
        return retry_once_on_conflict(lambda: self._record_voice(call_id, given))

    def _record_voice(self, call_id: str, given: dict[str, Any]) -> InteractionRecord:
        with self.sessions.begin() as s:
            call = s.get(Call, call_id)
            if call is None:
                raise NotFoundError("call", call_id)
            derived = _from_call(call)
            for values in (derived, given):
                if values.get("customer_id") is not None:
                    values["customer_id"] = resolve_customer(s, values["customer_id"]).id
            row = s.scalars(select(InteractionRow).where(InteractionRow.call_id == call_id)).first()
            if row is None:
                values = {"customer_id": None, "transcript_ref": transcript_path(call_id), **derived, **given}
                if values.get("customer_id") is None and call.caller_number and E164.match(call.caller_number):
                    values["customer_id"] = customer_for_phone(s, call.caller_number).id
                draft = InteractionDraft(channel="voice", started_at=call.started_at, call_id=call_id, **values)
                return interaction_record(self._insert_interaction(s, draft))
            blanks = {k: v for k, v in derived.items() if getattr(row, k) is None and k not in given}
            self._apply_interaction(s, row, {**blanks, **given})
            return interaction_record(row)

    def page(self, customer_id: str, limit: int = 50, offset: int = 0,
                 channel: str | None = None) -> tuple[int, list[InteractionRecord]]:
        """A customer's interactions, newest first, with the total (NotFoundError for an unknown customer)."""
        with self.sessions() as s:
            cid = resolve_customer(s, customer_id).id
            q = select(InteractionRow).where(InteractionRow.customer_id == cid)
            if channel is not None:
                q = q.where(InteractionRow.channel == channel)
            total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = s.scalars(q.order_by(InteractionRow.started_at.desc(), InteractionRow.created_at.desc(),
                                        InteractionRow.id).limit(limit).offset(offset)).all()
            return total, [interaction_record(r) for r in rows]

    # -- cases --------------------------------------------------------------------------------------------------
    def create_case(self, customer_id: str, title: str, status: str = "open") -> CaseRecord:
        """Open a case for a customer."""
        check_case_status(status)
        if not title.strip():
            raise InvalidFieldError("title", title, "a case needs a title")
        with self.sessions.begin() as s:
            customer = resolve_customer(s, customer_id)
            now = utcnow()
            row = CaseRow(id=uuid.uuid4().hex, customer_id=customer.id, title=title, status=status, version=1,
                          created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            rec = case_record(row)
            self.outbox.emit(s, case_event(rec, customer.external_id), customer.language)
            return rec

    def patch_case(self, case_id: str, changes: Mapping[str, Any]) -> CaseRecord:
        """Change a case's title or status."""
        check_fields(changes, CASE_FIELDS)
        if "status" in changes:
            check_case_status(changes["status"])
        if "title" in changes and not str(changes["title"] or "").strip():
            raise InvalidFieldError("title", changes["title"], "a case needs a title")
        with self.sessions.begin() as s:
            row = s.get(CaseRow, case_id)
            if row is None:
                raise NotFoundError("case", case_id)
            self._apply(s, row, changes, lambda ext, changed: case_event(case_record(row), ext, changed))
            return case_record(row)

    def list_cases(self, customer_id: str, status: str | None = None) -> list[CaseRecord]:
        """A customer's cases, newest first."""
        with self.sessions() as s:
            q = select(CaseRow).where(CaseRow.customer_id == resolve_customer(s, customer_id).id)
            if status is not None:
                q = q.where(CaseRow.status == status)
            return [case_record(r) for r in s.scalars(q.order_by(CaseRow.created_at.desc(), CaseRow.id)).all()]

    # -- hint feedback ------------------------------------------------------------------------------------------
    def add_hint_feedback(self, call_id: str, hint_id: str, useful: bool,
                          agent_id: str | None = None) -> HintFeedbackRecord:
        """Record whether a hint shown during a call was useful."""
        with self.sessions.begin() as s:
            if s.get(Call, call_id) is None:
                raise NotFoundError("call", call_id)
            row = HintFeedbackRow(call_id=call_id, hint_id=hint_id, useful=useful, agent_id=agent_id,
                                  created_at=utcnow())
            s.add(row)
            s.flush()
            return feedback_record(row)

    def hint_feedback(self, call_id: str | None = None, hint_id: str | None = None,
                      limit: int = 100) -> list[HintFeedbackRecord]:
        """Feedback, newest first, for a call and/or a hint."""
        q = select(HintFeedbackRow)
        if call_id is not None:
            q = q.where(HintFeedbackRow.call_id == call_id)
        if hint_id is not None:
            q = q.where(HintFeedbackRow.hint_id == hint_id)
        with self.sessions() as s:
            rows = s.scalars(q.order_by(HintFeedbackRow.id.desc()).limit(limit)).all()
            return [feedback_record(r) for r in rows]


def _utc(value: datetime) -> datetime:
    """Aware UTC, as the column reads back (naive values are taken to be UTC)."""
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _from_call(call: Call) -> dict[str, Any]:
    """Interaction fields the call row already knows (None when it does not)."""
    handle_s: float | None = None
    start: datetime | None = call.agent_connected_at or call.answered_at
    if call.ended_at is not None and start is not None:
        handle_s = round(max((call.ended_at - start).total_seconds(), 0.0), 3)
    values: dict[str, Any] = {"customer_id": call.customer_id, "agent_id": call.agent_id, "wait_s": call.wait_s,
                              "reason": call.reason, "verification": call.verification, "handle_s": handle_s}
    return {k: v for k, v in values.items() if v is not None}


def interaction_record(row: InteractionRow) -> InteractionRecord:
    """The record of an interaction row."""
    return InteractionRecord(row.id, row.customer_id, row.channel, row.started_at, row.agent_id, row.call_id,
                             row.reason, list(row.tags or []), row.summary, row.transcript_ref,
                             dict(row.verification) if row.verification is not None else None, row.outcome, row.csi,
                             row.wait_s, row.handle_s, row.notes, row.version, row.created_at, row.updated_at)


def case_record(row: CaseRow) -> CaseRecord:
    """The record of a case row."""
    return CaseRecord(row.id, row.customer_id, row.title, row.status, row.version, row.created_at, row.updated_at)


def feedback_record(row: HintFeedbackRow) -> HintFeedbackRecord:
    """The record of a hint feedback row."""
    return HintFeedbackRecord(row.id, row.call_id, row.hint_id, bool(row.useful), row.agent_id, row.created_at)
