"""The webhook events the customer profile emits: kinds, idempotency keys and payloads.

Payloads name customers by id and CRM id only (no names, phones or e-mail addresses); free text in them is
redacted by :func:`store.outbox.enqueue`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.events import WEBHOOK_KINDS, WebhookKind
from profiles.records import CaseRecord, InteractionRecord, MergeResult

INTERACTION_CREATED: WebhookKind = "interaction.created"
INTERACTION_UPDATED: WebhookKind = "interaction.updated"
CASE_CREATED: WebhookKind = "case.created"
CASE_UPDATED: WebhookKind = "case.updated"
CUSTOMER_MERGED: WebhookKind = "customer.merged"
KINDS = WEBHOOK_KINDS


def interaction_event(rec: InteractionRecord, external_id: str | None,
                      changed: Sequence[str] | None = None) -> tuple[str, str, dict[str, Any]]:
    """(kind, key, payload) for a new interaction (``changed`` None) or a changed one."""
    return _versioned_event(INTERACTION_CREATED, INTERACTION_UPDATED, "interaction", rec, external_id, changed)


def case_event(rec: CaseRecord, external_id: str | None,
               changed: Sequence[str] | None = None) -> tuple[str, str, dict[str, Any]]:
    """(kind, key, payload) for a new case (``changed`` None) or a changed one."""
    return _versioned_event(CASE_CREATED, CASE_UPDATED, "case", rec, external_id, changed)


def _versioned_event(created: str, updated: str, noun: str, rec: InteractionRecord | CaseRecord,
                     external_id: str | None, changed: Sequence[str] | None) -> tuple[str, str, dict[str, Any]]:
    """The key names the record (and its version once changed), so a retry repeats the same key."""
    payload: dict[str, Any] = {"customer_id": rec.customer_id, "customer_external_id": external_id,
                               noun: rec.to_json()}
    if changed is None:
        return created, f"{created}:{rec.id}", payload
    payload["changed"] = sorted(changed)
    return updated, f"{updated}:{rec.id}:v{rec.version}", payload


def merge_event(result: MergeResult, source_external_id: str | None,
                target_external_id: str | None) -> tuple[str, str, dict[str, Any]]:
    """(kind, key, payload) for a merge (phones are left out: they are personal data)."""
    payload = {"source_id": result.source_id, "source_external_id": source_external_id,
               "target_id": result.target_id, "target_external_id": target_external_id,
               "moved": {"phones": len(result.phones), "interactions": result.interactions, "cases": result.cases,
                         "calls": result.calls}, "voiceprint": result.voiceprint}
    return CUSTOMER_MERGED, f"{CUSTOMER_MERGED}:{result.source_id}", payload
