"""Call records: the call row and its final transcript segments as the rest of Hotline sees them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from store.schema import Call


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

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = asdict(self)
        for key in ("started_at", "answered_at", "ended_at", "queued_at", "agent_connected_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


@dataclass(frozen=True, slots=True)
class SegmentRecord:
    """A stored final segment."""

    leg: str
    start: float
    end: float
    text: str
    confidence: float
    words: list[dict[str, Any]] = field(default_factory=list)


def _call(row: Call) -> CallRecord:
    return CallRecord(
        row.id, row.sip_call_id, row.caller_number, row.caller_display, row.called_number, row.language,
        row.codec, row.state, row.started_at, row.answered_at, row.ended_at, row.end_reason, row.recognition,
        row.recognition_note, row.customer_id, row.verification, row.queue, row.reason, row.agent_id,
        row.queued_at, row.agent_connected_at, row.wait_s,
    )
