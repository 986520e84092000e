"""The customer profile as the hint engine reads it (flags, cards, documents, open cases, recent contacts)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from hints import Card, Document, HintContext, Interaction, OpenCase

log = logging.getLogger("hotline.hints")


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def profile_context(store: Any, customer_id: str, call_id: str | None = None, recent: int = 20) -> HintContext | None:
    """Read the profile for the hint engine; None when the customer is unknown. Bad entries are skipped."""
    customer = store.customers.get(customer_id)
    if customer is None:
        return None
    cards: list[Card] = []
    for c in customer.cards or []:
        expires = _date(c.get("expires"))
        if expires is None or c.get("status") not in ("active", "blocked", "expired", "closed"):
            log.info("customer %s: card entry %r skipped for hints", customer_id, c)
            continue
        cards.append(Card(str(c.get("last4", "")), c["status"], expires, c.get("block_reason")))
    documents = [Document(str(d.get("kind", "document")), _date(d.get("expires"))) for d in customer.documents or []]
    cases = [OpenCase(k.id, k.title, k.created_at) for k in store.timeline.list_cases(customer.id, status="open")]
    _, interactions = store.timeline.page(customer.id, limit=recent)
    contacts = [Interaction(i.started_at, tuple(i.tags), i.channel, i.summary or "")
                for i in interactions if i.call_id != call_id or call_id is None]
    return HintContext(customer.id, frozenset(customer.flags or []), tuple(cards), tuple(documents), tuple(cases),
                       tuple(contacts))


def profile_card(customer: Any) -> dict[str, Any]:
    """What the agent's call card shows about the customer."""
    return {"customer_id": customer.id, "name": customer.name, "provisional": customer.provisional,
            "flags": list(customer.flags or []), "segment": customer.segment, "language": customer.language}
