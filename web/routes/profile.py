"""REST: the shared customer profile, its timeline and cases, hint feedback, webhook deliveries.

Roles: every role reads customers, timelines and cases; ``integration`` (CRMs) and ``admin`` create and
change customers and merge them; ``agent`` also writes interactions and cases; deliveries are ``admin`` only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from calls.context import AppContext
from core.roles import Principal
from privacy import RawTranscriptForbidden, serve_raw
from profiles.errors import ConflictError, InvalidFieldError, NotFoundError
from profiles.records import InteractionDraft
from store.merge import Resealer
from store.outbox import redact_payload
from store.records import PhoneTakenError, TemplateRecord
from voice.numbers import normalize_number
from web.access import audit_raw_read, require_call_act, require_call_read, require_customer_read
from web.auth import require
from web.deps import context
from web.params import MAX_ID, Offset, page_limit
from web.schemas.profile import (
    PHONE,
    CasePatch,
    CustomerPatch,
    HintFeedback,
    InteractionPatch,
    MergeBody,
    NewCase,
    NewCustomer,
    NewInteraction,
)

router = APIRouter(prefix="/api/v1")
READ = require("agent", "supervisor", "security", "admin", "integration")  # an agent: their call's customer only
SEARCH = require("supervisor", "security", "admin", "integration")
CUSTOMER_WRITE = require("admin", "integration")
TIMELINE_WRITE = require("agent", "supervisor", "admin", "integration")  # an agent: their call's customer only
FEEDBACK = require("agent", "supervisor", "admin")
ADMIN = require("admin")



@contextmanager
def _errors() -> Iterator[None]:
    """Store errors as HTTP answers: unknown ids 404, refused values 422, conflicts 409."""
    try:
        yield
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    except InvalidFieldError as exc:
        raise HTTPException(422, {"message": str(exc), "field": exc.field, "reason": exc.reason,
                                  "allowed": list(exc.allowed)}) from None
    except (ConflictError, PhoneTakenError) as exc:
        raise HTTPException(409, str(exc)) from None


def _phones(ctx: AppContext, raw: list[str]) -> list[str]:
    out = []
    for number in raw:
        e164 = normalize_number(number, ctx.settings.sip.default_region)
        if e164 is None:
            raise HTTPException(422, f"not a phone number: {number!r}")
        out.append(e164)
    return out


def _actor(who: Principal) -> str:
    return f"{who.name or 'key'}#{who.key_id}"


# -- customers -----------------------------------------------------------------------------------------------


@router.get("/customers", dependencies=[Depends(SEARCH)])
async def list_customers(request: Request,
                         phone: str | None = Query(None, pattern=PHONE, description="Any format of a dialled "
                                                   "number; one that is not a possible number matches nobody."),
                         external_id: str | None = Query(None, max_length=128),
                         q: str | None = Query(None, max_length=255), limit: int = page_limit(50, 500),
                         offset: Offset = 0) -> dict[str, Any]:
    """Find customers by phone (any format, stored E.164), CRM id, or text (name, e-mail, part of a number)."""
    store = context(request).store
    if phone is not None or external_id is not None:
        if phone is not None:
            e164 = normalize_number(phone, context(request).settings.sip.default_region)
            found = await asyncio.to_thread(store.customers.by_phone, e164) if e164 else None
        else:
            found = await asyncio.to_thread(store.customers.by_external_id, external_id or "")
        matches = [found] if found is not None else []
        return {"total": len(matches), "customers": [c.to_json() for c in matches]}
    total, rows = await asyncio.to_thread(store.customers.search, q, limit, offset)
    return {"total": total, "customers": [c.to_json() for c in rows]}


@router.post("/customers", status_code=201)
async def create_customer(request: Request, body: NewCustomer,
                          who: Principal = Depends(CUSTOMER_WRITE)) -> dict[str, Any]:
    """Create a customer; phone numbers are stored in E.164. Answers the whole profile (with ``id``)."""
    ctx = context(request)
    data = body.model_dump(mode="json")
    data["phones"] = _phones(ctx, body.phones)
    name, phones = data.pop("name"), data.pop("phones")
    with _errors():
        rec = await ctx.store.run(ctx.store.customers.create_profile, name, phones, **data)
    return rec.to_json()


@router.get("/customers/{customer_id}")
async def get_customer(request: Request, customer_id: str, who: Principal = Depends(READ)) -> dict[str, Any]:
    """One customer (a merged one shows ``merged_into``)."""
    await require_customer_read(context(request), who, customer_id)
    rec = await asyncio.to_thread(context(request).store.customers.get, customer_id)
    if rec is None:
        raise HTTPException(404, f"no customer {customer_id!r}")
    return rec.to_json()


@router.patch("/customers/{customer_id}", dependencies=[Depends(CUSTOMER_WRITE)])
async def patch_customer(request: Request, customer_id: str, body: CustomerPatch) -> dict[str, Any]:
    """Change profile fields (``phones`` replaces the numbers; null clears e-mail, language, segment, CRM id)."""
    ctx = context(request)
    changes = body.changes()
    if "phones" in changes:
        changes["phones"] = _phones(ctx, changes["phones"])
    with _errors():
        rec = await ctx.store.run(ctx.store.customers.patch, customer_id, changes)
    return rec.to_json()


def _resealer(ctx: AppContext) -> Resealer | None:
    """Re-seals a voiceprint for another customer with the loaded key (None without biometrics)."""
    vp = ctx.voiceprints
    if vp is None:
        return None
    from biometrics.voiceprint import ModelTag

    def reseal(rec: TemplateRecord, customer_id: str) -> bytes:
        voiceprint = vp.cipher.open(rec.template, rec.customer_id, ModelTag(rec.model_id, rec.model_version))
        return vp.cipher.seal(voiceprint, customer_id)

    return reseal


@router.post("/customers/{customer_id}/merge")
async def merge_customer(request: Request, customer_id: str, body: MergeBody,
                         who: Principal = Depends(CUSTOMER_WRITE)) -> dict[str, Any]:
    """Merge this (typically provisional) customer into ``into``: phones, interactions, cases, calls and,
    when ``into`` has none, the voiceprint move there."""
    ctx = context(request)
    with _errors():
        result = await ctx.store.run(ctx.store.customers.merge, customer_id, body.into, _resealer(ctx), _actor(who),
                                     who.role)
    return result.to_json()


# -- timeline ------------------------------------------------------------------------------------------------


@router.get("/customers/{customer_id}/timeline")
async def timeline(request: Request, customer_id: str, limit: int = page_limit(50, 500),
                   offset: Offset = 0,
                   channel: Literal["voice", "chat", "email", "branch"] | None = None,
                   raw: bool = Query(False, description="Unredacted text (roles in privacy.raw_transcript_roles)"),
                   who: Principal = Depends(READ)) -> dict[str, Any]:
    """Interactions on every channel, newest first (a merged customer's id shows its target's timeline).

    Free text (reason, summary, notes) is redacted like transcripts: cards, phones, e-mails and IBANs are
    hidden unless ``raw=true`` is asked for by an allowed role (others get 403).
    """
    ctx = context(request)
    await require_customer_read(ctx, who, customer_id)
    try:
        show_raw = serve_raw(who.role, raw, ctx.settings.privacy)
    except RawTranscriptForbidden as exc:
        raise HTTPException(403, str(exc)) from exc
    with _errors():
        total, rows = await asyncio.to_thread(ctx.store.timeline.page, customer_id, limit, offset, channel)
    items = [r.to_json() for r in rows]
    if show_raw:
        await audit_raw_read(ctx, who, "timeline", customer_id=customer_id)
    return {"total": total, "redacted": not show_raw,
            "interactions": items if show_raw else [redact_payload(i) for i in items]}


@router.post("/customers/{customer_id}/interactions", status_code=201)
async def add_interaction(request: Request, customer_id: str, body: NewInteraction,
                          who: Principal = Depends(TIMELINE_WRITE)) -> dict[str, Any]:
    """Append a contact (voice, chat, e-mail, branch) to the customer's timeline."""
    await require_customer_read(context(request), who, customer_id)
    fields = body.model_dump(exclude={"channel", "started_at", "call_id", "tags"})
    draft = InteractionDraft(customer_id=customer_id, channel=body.channel, started_at=body.started_at,
                             call_id=body.call_id, tags=list(body.tags or []), **fields)
    store = context(request).store
    with _errors():
        rec = await store.run(store.timeline.add_interaction, draft)
    return rec.to_json()


@router.patch("/interactions/{interaction_id}")
async def patch_interaction(request: Request, interaction_id: str, body: InteractionPatch,
                            who: Principal = Depends(TIMELINE_WRITE)) -> dict[str, Any]:
    """Change an interaction (wrap-up: outcome, summary, CSI, notes; customer). Never its verification."""
    store = context(request).store
    if who.role == "agent":
        current = await store.run(store.timeline.get_interaction, interaction_id)
        if current is None or current.customer_id is None:
            raise HTTPException(403, "an agent changes only the interactions of their current call's customer")
        await require_customer_read(context(request), who, current.customer_id)
    with _errors():
        rec = await store.run(store.timeline.update_interaction, interaction_id, body.changes())
    return rec.to_json()


# -- cases ---------------------------------------------------------------------------------------------------


@router.get("/customers/{customer_id}/cases")
async def list_cases(request: Request, customer_id: str, status: Literal["open", "closed"] | None = None,
                     who: Principal = Depends(READ)) -> dict[str, Any]:
    """The customer's cases, newest first."""
    await require_customer_read(context(request), who, customer_id)
    with _errors():
        rows = await asyncio.to_thread(context(request).store.timeline.list_cases, customer_id, status)
    return {"cases": [r.to_json() for r in rows]}


@router.post("/customers/{customer_id}/cases", status_code=201)
async def create_case(request: Request, customer_id: str, body: NewCase,
                      who: Principal = Depends(TIMELINE_WRITE)) -> dict[str, Any]:
    """Open a case."""
    await require_customer_read(context(request), who, customer_id)
    store = context(request).store
    with _errors():
        rec = await store.run(store.timeline.create_case, customer_id, body.title, body.status)
    return rec.to_json()


@router.patch("/cases/{case_id}", dependencies=[Depends(require("supervisor", "admin", "integration"))])
async def patch_case(request: Request, case_id: str, body: CasePatch) -> dict[str, Any]:
    """Rename, close or reopen a case."""
    store = context(request).store
    with _errors():
        rec = await store.run(store.timeline.patch_case, case_id, body.changes())
    return rec.to_json()


# -- hint feedback -------------------------------------------------------------------------------------------


@router.post("/calls/{call_id}/hints/{hint_id}/feedback", status_code=201)
async def hint_feedback(request: Request, call_id: str, hint_id: str, body: HintFeedback,
                        who: Principal = Depends(FEEDBACK)) -> dict[str, Any]:
    """Whether a hint shown during the call helped."""
    if len(hint_id) > 128:
        raise HTTPException(422, "hint id longer than 128 characters")
    await require_call_act(context(request), who, call_id)
    store = context(request).store
    with _errors():
        rec = await store.run(store.timeline.add_hint_feedback, call_id, hint_id, body.useful,
                              body.agent_id or _actor(who))
    return rec.to_json()


@router.get("/calls/{call_id}/hints/feedback")
async def list_hint_feedback(request: Request, call_id: str, who: Principal = Depends(READ)) -> dict[str, Any]:
    """Feedback given on a call's hints, newest first."""
    await require_call_read(context(request), who, call_id)
    store = context(request).store
    if await asyncio.to_thread(store.calls.get, call_id) is None:
        raise HTTPException(404, f"no call {call_id!r}")
    rows = await asyncio.to_thread(store.timeline.hint_feedback, call_id)
    return {"feedback": [r.to_json() for r in rows]}


# -- webhook deliveries --------------------------------------------------------------------------------------


@router.get("/webhooks/deliveries", dependencies=[Depends(ADMIN)])
async def deliveries(request: Request, status: Literal["pending", "delivered", "failed"] | None = None,
                     limit: int = page_limit(100, 1000), offset: Offset = 0) -> dict[str, Any]:
    """Outbox rows newest first: event, URL, status, attempts, next attempt, last error (payloads are redacted)."""
    total, rows = await asyncio.to_thread(context(request).store.outbox.deliveries, status, limit, offset)
    return {"total": total, "deliveries": [r.to_json() for r in rows]}


@router.post("/webhooks/deliveries/{delivery_id}/redeliver", dependencies=[Depends(ADMIN)])
async def redeliver_one(request: Request, delivery_id: int = Path(ge=1, le=MAX_ID)) -> dict[str, Any]:
    """Send a failed (or delivered) event again, with a fresh attempt budget and the same idempotency key."""
    store = context(request).store
    rec = await store.run(store.outbox.redeliver, delivery_id)
    if rec is None:
        raise HTTPException(404, f"no webhook delivery {delivery_id}")
    return rec.to_json()
