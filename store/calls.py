"""Calls: the call row, its final transcript segments and its timeline events (:class:`CallRepository`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from store.backlog import parkable, spillable
from store.schema import Call, CallEventRow, TranscriptSegment


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A call as the API shows it."""

    id: str
    sip_call_id: str
    caller_number: str | None
    caller_display: str | None
    called_number: str | None
    language: str | None
    codec: str | None
    state: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    recognition: str
    recognition_note: str | None
    customer_id: str | None = None
    verification: dict[str, Any] | None = None
    queue: str | None = None
    reason: str | None = None
    agent_id: str | None = None
    queued_at: datetime | None = None
    agent_connected_at: datetime | None = None
    wait_s: float | None = None
    number_trust: str | None = None  # asserted | peer | unverified (None: calls before this was kept)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = asdict(self)
        for key in ("started_at", "answered_at", "ended_at", "queued_at", "agent_connected_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@spillable("SegmentRecord")
@dataclass(frozen=True, slots=True)
class SegmentRecord:
    """A stored final segment."""

    leg: str
    start: float
    end: float
    text: str
    confidence: float
    words: list[dict[str, Any]] = field(default_factory=list)


def call_record(row: Call) -> CallRecord:
    """The record of a call row."""
    return CallRecord(
        row.id, row.sip_call_id, row.caller_number, row.caller_display, row.called_number, row.language,
        row.codec, row.state, row.started_at, row.answered_at, row.ended_at, row.end_reason, row.recognition,
        row.recognition_note, row.customer_id, row.verification, row.queue, row.reason, row.agent_id,
        row.queued_at, row.agent_connected_at, row.wait_s, row.number_trust,
    )


class CallRepository:
    """Calls and their transcripts. The call path's writes are parkable (replayed after an outage)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    @parkable("calls.create")
    def create(self, call_id: str, sip_call_id: str, caller: str | None, display: str | None,
               called: str | None, language: str | None, number_trust: str | None = None) -> None:
        """Insert a new call row (``number_trust``: how far the caller's number can be believed)."""
        with self.sessions.begin() as s:
            s.add(Call(id=call_id, sip_call_id=sip_call_id, caller_number=caller, caller_display=display,
                       called_number=called, language=language, state="offered", started_at=utcnow(),
                       recognition="pending", number_trust=number_trust))

    @parkable("calls.update")
    def update(self, call_id: str, **values: Any) -> None:
        """Update columns of a call."""
        with self.sessions.begin() as s:
            row = s.get(Call, call_id)
            if row is not None:
                for key, value in values.items():
                    setattr(row, key, value)

    @parkable("calls.add_segment")
    def add_segment(self, call_id: str, seg: SegmentRecord) -> None:
        """Commit one final segment now."""
        with self.sessions.begin() as s:
            s.add(TranscriptSegment(call_id=call_id, leg=seg.leg, start=seg.start, end=seg.end, text=seg.text,
                                    words=seg.words, confidence=seg.confidence, created_at=utcnow()))

    @parkable("calls.add_event")
    def add_event(self, call_id: str, kind: str, data: dict[str, Any]) -> None:
        """Append to the call's timeline."""
        with self.sessions.begin() as s:
            s.add(CallEventRow(call_id=call_id, type=kind, data=data, at=utcnow()))

    def get(self, call_id: str) -> CallRecord | None:
        """One call, or None."""
        with self.sessions() as s:
            row = s.get(Call, call_id)
            return call_record(row) if row is not None else None

    def find(self, number: str | None = None, since: datetime | None = None, until: datetime | None = None,
             limit: int = 50, offset: int = 0, agent_id: str | None = None) -> tuple[int, list[CallRecord]]:
        """Calls, newest first, filtered by caller or called number, start time and the agent who took them."""
        q = select(Call)
        if agent_id is not None:
            q = q.where(Call.agent_id == agent_id)
        if number:
            q = q.where((Call.caller_number == number) | (Call.called_number == number))
        if since:
            q = q.where(Call.started_at >= since)
        if until:
            q = q.where(Call.started_at < until)
        with self.sessions() as s:
            total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
            rows = s.scalars(q.order_by(Call.started_at.desc(), Call.id).limit(limit).offset(offset)).all()
            return total, [call_record(r) for r in rows]

    def transcript(self, call_id: str) -> list[SegmentRecord]:
        """Final segments ordered by start time."""
        with self.sessions() as s:
            rows = s.scalars(select(TranscriptSegment).where(TranscriptSegment.call_id == call_id)
                             .order_by(TranscriptSegment.start, TranscriptSegment.id)).all()
            return [SegmentRecord(r.leg, r.start, r.end, r.text, r.confidence, list(r.words or [])) for r in rows]

    def events(self, call_id: str) -> list[dict[str, Any]]:
        """The call's timeline."""
        with self.sessions() as s:
            rows = s.scalars(select(CallEventRow).where(CallEventRow.call_id == call_id)
                             .order_by(CallEventRow.id)).all()
            return [{"type": r.type, "at": r.at.isoformat(), **(r.data or {})} for r in rows]

    @parkable("calls.set_customer")
    def set_customer(self, call_id: str, customer_id: str | None) -> None:
        """Record the claimed customer of a call."""
        with self.sessions.begin() as s:
            row = s.get(Call, call_id)
            if row is not None:
                row.customer_id = customer_id

    @parkable("calls.set_verification")
    def set_verification(self, call_id: str, verification: dict[str, Any]) -> None:
        """Store the latest verification result on the call."""
        with self.sessions.begin() as s:
            row = s.get(Call, call_id)
            if row is not None:
                row.verification = verification
