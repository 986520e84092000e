"""The transactional outbox: webhook events written in the same transaction as the change behind them.

:func:`enqueue` adds one row per interested target to the caller's session, so the event exists exactly when
the change commits. The delivery worker (:mod:`webhooks.worker`) claims due rows with a lease: a claim adds one
attempt and pushes ``next_attempt_at`` past the POST's timeout, so a row left in flight by a crash simply
becomes due again. State lives only in the database.

Payloads leave Hotline, so their free-text fields are redacted before they are stored here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from privacy import redact
from store.schema import WebhookOutboxRow

STATUSES = ("pending", "delivered", "failed")
# Keys whose string values are free text (what people typed or said) and go through redaction, at any depth.
FREE_TEXT_KEYS = frozenset({"reason", "summary", "notes", "title", "text", "transcript"})


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One outbox row: an event for one URL and how its delivery is going."""

    id: int
    event_id: str
    kind: str
    payload: dict[str, Any]
    url: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = asdict(self)
        for key in ("next_attempt_at", "created_at", "delivered_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return data


def _record(row: WebhookOutboxRow) -> DeliveryRecord:
    return DeliveryRecord(row.id, row.event_id, row.kind, dict(row.payload), row.url, row.status, row.attempts,
                          row.next_attempt_at, row.last_error, row.created_at, row.delivered_at)


# -- redaction ---------------------------------------------------------------------------------------------

def redact_payload(value: Any, language: str | None = None, key: str | None = None) -> Any:
    """A copy of ``value`` with the strings under :data:`FREE_TEXT_KEYS` redacted (lists and dicts walked)."""
    if isinstance(value, Mapping):
        return {k: redact_payload(v, language, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_payload(v, language, key) for v in value]
    if isinstance(value, str) and key in FREE_TEXT_KEYS and value:
        return str(redact(value, language=language).text)
    return value


class OutboxTarget(Protocol):
    """A webhook receiver as the outbox sees it (``webhooks.settings.WebhookTarget`` is one)."""

    @property
    def url(self) -> str:
        """Where its deliveries go."""
        ...

    def wants(self, kind: str) -> bool:
        """Whether events of ``kind`` go to it."""
        ...


# -- writing ----------------------------------------------------------------------------------------------


def enqueue(session: Session, kind: str, payload: Mapping[str, Any], key: str, targets: Sequence[OutboxTarget],
            language: str | None = None) -> int:
    """Queue event ``kind`` for every target that wants it, inside ``session``'s transaction.

    ``key`` is the event's idempotency key: it is sent with every attempt, and enqueuing the same key twice
    for a URL adds nothing. Returns how many rows were added.
    """
    wanted = [t for t in targets if t.wants(kind)]
    if not wanted:
        return 0
    known = set(session.scalars(select(WebhookOutboxRow.url).where(WebhookOutboxRow.event_id == key)).all())
    clean = redact_payload(dict(payload), language)
    now = utcnow()
    rows = [WebhookOutboxRow(event_id=key, kind=kind, payload=clean, url=t.url, status="pending", attempts=0,
                             next_attempt_at=now, created_at=now) for t in wanted if t.url not in known]
    session.add_all(rows)
    return len(rows)


# -- the worker's side ----------------------------------------------------------------------------------------


def claim_due(sessions: sessionmaker[Session], now: datetime, limit: int, lease_s: float) -> list[DeliveryRecord]:
    """Claim up to ``limit`` due pending rows: one more attempt each, and not due again for ``lease_s``.

    A row is claimed only if nobody changed its attempt count meanwhile, so two workers never send the same
    attempt. The records carry the new attempt number.
    """
    with sessions.begin() as s:
        due = s.execute(select(WebhookOutboxRow.id, WebhookOutboxRow.attempts)
                        .where(WebhookOutboxRow.status == "pending", WebhookOutboxRow.next_attempt_at <= now)
                        .order_by(WebhookOutboxRow.next_attempt_at, WebhookOutboxRow.id).limit(limit)).all()
        claimed: list[int] = []
        for row_id, attempts in due:
            result = s.execute(update(WebhookOutboxRow)
                               .where(WebhookOutboxRow.id == row_id, WebhookOutboxRow.status == "pending",
                                      WebhookOutboxRow.attempts == attempts)
                               .values(attempts=attempts + 1, next_attempt_at=now + timedelta(seconds=lease_s))
                               .execution_options(synchronize_session=False))
            if getattr(result, "rowcount", 0) == 1:
                claimed.append(row_id)
        if not claimed:
            return []
        rows = s.scalars(select(WebhookOutboxRow).where(WebhookOutboxRow.id.in_(claimed))
                         .order_by(WebhookOutboxRow.id)).all()
        return [_record(r) for r in rows]


def mark_delivered(sessions: sessionmaker[Session], row_id: int, attempt: int, now: datetime) -> bool:
    """Record a successful attempt; False when the row was meanwhile re-claimed or changed."""
    with sessions.begin() as s:
        result = s.execute(update(WebhookOutboxRow)
                           .where(WebhookOutboxRow.id == row_id, WebhookOutboxRow.attempts == attempt,
                                  WebhookOutboxRow.status == "pending")
                           .values(status="delivered", delivered_at=now, last_error=None)
                           .execution_options(synchronize_session=False))
        return getattr(result, "rowcount", 0) == 1


def mark_attempt_failed(sessions: sessionmaker[Session], row_id: int, attempt: int, error: str,
                        retry_at: datetime | None) -> bool:
    """Record a failed attempt: due again at ``retry_at``, or ``failed`` for good when it is None."""
    values: dict[str, Any] = {"last_error": error[:2000]}
    if retry_at is None:
        values["status"] = "failed"
    else:
        values["next_attempt_at"] = retry_at
    with sessions.begin() as s:
        result = s.execute(update(WebhookOutboxRow)
                           .where(WebhookOutboxRow.id == row_id, WebhookOutboxRow.attempts == attempt,
                                  WebhookOutboxRow.status == "pending")
                           .values(**values).execution_options(synchronize_session=False))
        return getattr(result, "rowcount", 0) == 1


# -- reading and operations -----------------------------------------------------------------------------------


def list_deliveries(sessions: sessionmaker[Session], status: str | None = None, limit: int = 100,
                    offset: int = 0) -> tuple[int, list[DeliveryRecord]]:
    """Deliveries newest first (optionally of one status), with the total."""
    q = select(WebhookOutboxRow)
    if status is not None:
        q = q.where(WebhookOutboxRow.status == status)
    with sessions() as s:
        total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
        rows = s.scalars(q.order_by(WebhookOutboxRow.id.desc()).limit(limit).offset(offset)).all()
        return total, [_record(r) for r in rows]


def redeliver(sessions: sessionmaker[Session], row_id: int) -> DeliveryRecord | None:
    """Queue a failed or delivered row again with a fresh attempt budget (same idempotency key); None if unknown."""
    with sessions.begin() as s:
        row = s.get(WebhookOutboxRow, row_id)
        if row is None:
            return None
        if row.status != "pending":
            row.status, row.attempts, row.next_attempt_at, row.delivered_at = "pending", 0, utcnow(), None
        s.flush()
        return _record(row)


class OutboxRepository:
    """The outbox of one database: the configured targets, queueing events, and the delivery rows."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.targets: tuple[OutboxTarget, ...] = ()

    def configure(self, targets: Sequence[OutboxTarget]) -> None:
        """Targets that events are queued for from now on."""
        self.targets = tuple(targets)

    def emit(self, s: Session, event: tuple[str, str, dict[str, Any]], language: str | None = None) -> None:
        """Queue ``event`` (kind, idempotency key, payload) in ``s``'s transaction for the configured targets."""
        kind, key, payload = event
        enqueue(s, kind, payload, key, self.targets, language)

    def claim_due(self, now: datetime, limit: int, lease_s: float) -> list[DeliveryRecord]:
        """See :func:`claim_due`."""
        return claim_due(self.sessions, now, limit, lease_s)

    def mark_delivered(self, row_id: int, attempt: int, now: datetime) -> bool:
        """See :func:`mark_delivered`."""
        return mark_delivered(self.sessions, row_id, attempt, now)

    def mark_attempt_failed(self, row_id: int, attempt: int, error: str, retry_at: datetime | None) -> bool:
        """See :func:`mark_attempt_failed`."""
        return mark_attempt_failed(self.sessions, row_id, attempt, error, retry_at)

    def deliveries(self, status: str | None = None, limit: int = 100,
                   offset: int = 0) -> tuple[int, list[DeliveryRecord]]:
        """See :func:`list_deliveries`."""
        return list_deliveries(self.sessions, status, limit, offset)

    def redeliver(self, row_id: int) -> DeliveryRecord | None:
        """See :func:`redeliver`."""
        return redeliver(self.sessions, row_id)

