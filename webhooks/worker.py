"""Webhook delivery: an asyncio worker that POSTs due outbox rows, signed, with retries.

Each request carries the event JSON (the same bytes on every attempt) and the headers
``X-Hotline-Event`` (kind), ``Idempotency-Key`` (the event id, also ``id`` in the body),
``X-Hotline-Attempt`` (1, 2, ...), and the signature pair (see :mod:`webhooks.signing`)::

    X-Hotline-Timestamp: <Unix seconds of this attempt>
    X-Hotline-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + raw body, keyed with the target's secret>

Every attempt is signed afresh with its own time, so a receiver can refuse stale (replayed) requests with
:func:`webhooks.signing.signature_matches`. Targets are https unless ``webhooks.allow_http_hosts`` lists their
host, and secrets have at least 32 characters (both checked when the settings load, :mod:`webhooks.settings`).
Any 2xx answer counts as delivered. Anything else (including timeouts and refused connections) is retried
after an exponential, jittered, capped delay (``Retry-After`` is honoured up to the cap) until
``max_attempts``; then the row is marked ``failed`` and stays listed. All state is in the database, so a
restart loses nothing (see :mod:`store.outbox` for the lease that recovers rows left in flight).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import httpx

from core.clock import utcnow
from store.backlog import is_unavailable
from store.outbox import DeliveryRecord
from webhooks.settings import WebhookSettings
from webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

if TYPE_CHECKING:
    from store.store import Store

log = logging.getLogger("hotline.webhooks")
EVENT_HEADER = "X-Hotline-Event"
KEY_HEADER = "Idempotency-Key"
ATTEMPT_HEADER = "X-Hotline-Attempt"


def event_body(delivery: DeliveryRecord) -> bytes:
    """The request body of a delivery: identical bytes on every attempt."""
    doc = {"id": delivery.event_id, "kind": delivery.kind, "created_at": delivery.created_at.isoformat(),
           "data": delivery.payload}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def backoff_delay(attempt: int, base_s: float, max_s: float, rand: Callable[[], float] = random.random) -> float:
    """Delay after failed attempt number ``attempt`` (1-based): base·2^(attempt-1), capped, then jittered
    into its upper half so retries of many rows spread out but never come sooner than half the step."""
    step = min(max_s, base_s * 2.0 ** min(attempt - 1, 60))
    return step / 2 + rand() * step / 2


def retry_after_s(response: httpx.Response) -> float | None:
    """A ``Retry-After`` given in seconds, or None."""
    value = response.headers.get("retry-after", "")
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """How one POST went."""

    delivered: bool
    error: str | None = None
    retry_after_s: float | None = None


class WebhookWorker:
    """Delivers the outbox until stopped."""

    def __init__(self, settings: WebhookSettings, store: Store, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.store = store
        self._client = client or httpx.AsyncClient(timeout=settings.timeout_s, follow_redirects=False,
                                                   headers={"User-Agent": "Hotline-Webhooks"})
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def lease_s(self) -> float:
        """How long a claimed row stays invisible: longer than any POST can take (they are cut at timeout_s)."""
        return self.settings.timeout_s + self.settings.poll_interval_s + 1.0

    def start(self) -> None:
        """Run in the background of the current event loop."""
        self._task = asyncio.get_running_loop().create_task(self.run(), name="webhooks")

    async def stop(self) -> None:
        """Stop polling, give in-flight POSTs their timeout, close the client (unfinished rows are retried later)."""
        self._stopping.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, self.settings.timeout_s + 1)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        await self._client.aclose()

    async def run(self) -> None:
        """Deliver due rows, then wait ``poll_interval_s`` (at once again while a full batch was due)."""
        db_down = False
        while not self._stopping.is_set():
            try:
                sent = await self.deliver_due()
                if db_down:
                    log.info("database available again: webhook deliveries resume")
                db_down = False
            except Exception as exc:
                sent = 0
                if not is_unavailable(exc):
                    log.exception("webhook delivery round failed; retrying after the poll interval")
                elif not db_down:  # once per outage: the events wait in the outbox, nothing is lost
                    db_down = True
                    log.warning("database unavailable: webhook deliveries wait in the outbox (%s)", exc)
            if sent < self.settings.batch_size:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self.settings.poll_interval_s)

    async def deliver_due(self) -> int:
        """Claim and send one batch of due deliveries; returns how many were attempted."""
        batch = await self.store.run(self.store.outbox.claim_due, utcnow(), self.settings.batch_size,
                                     self.lease_s)
        if batch:
            await asyncio.gather(*(self._deliver(d) for d in batch))
        return len(batch)

    async def _deliver(self, delivery: DeliveryRecord) -> None:
        target = self.settings.target(delivery.url)
        if target is None:
            result = AttemptResult(False, "no webhook target with this URL is configured any more")
            await self.store.run(self.store.outbox.mark_attempt_failed, delivery.id, delivery.attempts,
                                 result.error or "", None)
            log.warning("webhook %s for %s failed: %s", delivery.event_id, delivery.url, result.error)
            return
        result = await self._post(delivery, target.secret.get_secret_value())
        if result.delivered:
            await self.store.run(self.store.outbox.mark_delivered, delivery.id, delivery.attempts, utcnow())
            return
        error = result.error or "failed"
        if delivery.attempts >= self.settings.max_attempts:
            log.error("webhook %s to %s failed for good after %d attempts: %s", delivery.event_id, delivery.url,
                      delivery.attempts, error)
            await self.store.run(self.store.outbox.mark_attempt_failed, delivery.id, delivery.attempts, error, None)
            return
        delay = backoff_delay(delivery.attempts, self.settings.backoff_base_s, self.settings.backoff_max_s)
        if result.retry_after_s is not None:
            delay = min(max(delay, result.retry_after_s), self.settings.backoff_max_s)
        log.warning("webhook %s to %s: attempt %d failed (%s); next in %.1f s", delivery.event_id, delivery.url,
                    delivery.attempts, error, delay)
        await self.store.run(self.store.outbox.mark_attempt_failed, delivery.id, delivery.attempts, error,
                             utcnow() + timedelta(seconds=delay))

    async def _post(self, delivery: DeliveryRecord, secret: str) -> AttemptResult:
        body = event_body(delivery)
        timestamp = int(utcnow().timestamp())  # this attempt's time: a retry is never sent with an old one
        headers = {"Content-Type": "application/json", EVENT_HEADER: delivery.kind, KEY_HEADER: delivery.event_id,
                   TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(body, secret, timestamp),
                   ATTEMPT_HEADER: str(delivery.attempts)}
        try:
            response = await asyncio.wait_for(self._client.post(delivery.url, content=body, headers=headers),
                                              self.settings.timeout_s)
        except TimeoutError:
            return AttemptResult(False, f"no answer within {self.settings.timeout_s:g} s")
        except httpx.HTTPError as exc:
            return AttemptResult(False, f"{type(exc).__name__}: {exc}".rstrip(": "))
        if 200 <= response.status_code < 300:
            return AttemptResult(True)
        return AttemptResult(False, f"HTTP {response.status_code}", retry_after_s(response))


def start_webhooks(settings: WebhookSettings, store: Store) -> WebhookWorker:
    """Queue events for the configured targets from now on and start delivering (call inside the event loop)."""
    store.outbox.configure(settings.targets)
    worker = WebhookWorker(settings, store)
    worker.start()
    return worker
