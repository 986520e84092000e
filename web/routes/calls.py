"""REST and WebSocket endpoints for calls and transcripts."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, WebSocket, WebSocketDisconnect

from calls.bus import ChannelClosed
from calls.context import AppContext
from core.events import CallEventModel, CallStateChanged, FinalSegment
from core.roles import Principal
from privacy import RawTranscriptForbidden, may_read_raw, redact_call, redact_event, redact_transcript, serve_raw
from store.backlog import is_unavailable
from web.access import audit_raw_read, owns_call, require_call_act, require_call_read
from web.auth import require, websocket_principal
from web.deps import context
from web.params import IsoDateTime, Offset, page_limit
from web.schemas.calls import ClaimedCustomer

router = APIRouter(prefix="/api/v1")
log = logging.getLogger("hotline.api")
READ_ROLES = ("admin", "agent", "security", "integration")



@router.get("/calls")
async def list_calls(
    request: Request,
    number: str | None = Query(None, description="Caller or called number (E.164)"),
    since: IsoDateTime | None = Query(None, description="Started at or after (ISO 8601)"),
    until: IsoDateTime | None = Query(None, description="Started before (ISO 8601)"),
    limit: int = page_limit(50, 500),
    offset: Offset = 0,
    who: Principal = Depends(require()),
) -> dict[str, Any]:
    """Calls, newest first (an agent: only the calls they took); each ``reason`` redacted (the original:
    ``GET /calls/{id}?raw=true``)."""
    store = context(request).store
    if who.role == "agent" and who.agent_id is None:
        return {"total": 0, "limit": limit, "offset": offset, "calls": []}  # a key bound to no agent owns no call
    agent = who.agent_id if who.role == "agent" else None
    total, calls = await store.run(store.calls.find, number, since, until, limit, offset, agent)
    privacy = context(request).settings.privacy
    return {"total": total, "limit": limit, "offset": offset,
            "calls": [redact_call(c.to_json(), who.role, privacy) for c in calls]}


@router.get("/calls/{call_id}")
async def get_call(request: Request, call_id: str, who: Principal = Depends(require()),
                   raw: bool = Query(False, description="The original reason, DTMF and notes (roles in "
                                     "privacy.raw_transcript_roles only)")) -> dict[str, Any]:
    """One call with its timeline (an agent: their own calls only). The reason, DTMF digits and wrap-up notes
    are redacted unless an allowed role asks for ``raw``."""
    ctx = context(request)
    store = ctx.store
    await require_call_read(ctx, who, call_id)
    try:
        original = serve_raw(who.role, raw, ctx.settings.privacy)
    except RawTranscriptForbidden as exc:
        raise HTTPException(403, str(exc)) from exc
    call = await store.run(store.calls.get, call_id)
    if call is None:
        raise HTTPException(404, f"no call {call_id!r}")
    body = {**call.to_json(), "timeline": await store.run(store.calls.events, call_id)}
    if original:
        await audit_raw_read(ctx, who, "call", call_id=call_id)
    return redact_call(body, who.role, ctx.settings.privacy, raw=original)


@router.put("/calls/{call_id}/customer")
async def set_customer(request: Request, call_id: str, body: ClaimedCustomer,
                      who: Principal = Depends(require("agent", "supervisor", "admin", "security"))
                      ) -> dict[str, Any]:
    """Set the claimed identity; a live call is (re)verified against that customer's voiceprint. An agent
    claims only on their own call."""
    ctx = context(request)
    await require_call_act(ctx, who, call_id, also=frozenset({"security"}))
    if await asyncio.to_thread(ctx.store.calls.get, call_id) is None:
        raise HTTPException(404, f"no call {call_id!r}")
    if await asyncio.to_thread(ctx.store.customers.get, body.customer_id) is None:
        raise HTTPException(404, f"no customer {body.customer_id!r}")
    ctx.store.submit(ctx.store.timeline.record_voice_interaction, call_id, {"customer_id": body.customer_id})
    svc = ctx.active.get(call_id)
    if svc is None:
        await ctx.store.submit(ctx.store.calls.set_customer, call_id, body.customer_id)  # the single writer
        return {"call_id": call_id, "customer_id": body.customer_id, "verification": None, "live": False}
    result = await svc.verification.claim(body.customer_id, who, f"set by {who.role}")
    return {"call_id": call_id, "customer_id": body.customer_id, "verification": result, "live": True}


@router.get("/calls/{call_id}/transcript")
async def get_transcript(
    request: Request,
    call_id: str,
    raw: bool = Query(False, description="The original text (roles in privacy.raw_transcript_roles only)"),
    who: Principal = Depends(require()),
) -> dict[str, Any]:
    """Stored final segments of every leg, by start time; card numbers, phones, e-mails and IBANs redacted
    unless an allowed role asks for ``raw``."""
    ctx = context(request)
    await require_call_read(ctx, who, call_id)
    privacy = ctx.settings.privacy
    try:
        original = serve_raw(who.role, raw, privacy)
    except RawTranscriptForbidden as exc:
        raise HTTPException(403, str(exc)) from exc
    call = ctx.store.calls.get(call_id)
    if call is None:
        raise HTTPException(404, f"no call {call_id!r}")
    segments = [
        {"leg": s.leg, "start": s.start, "end": s.end, "text": s.text, "confidence": s.confidence, "words": s.words}
        for s in ctx.store.calls.transcript(call_id)
    ]
    if original:
        await audit_raw_read(ctx, who, "transcript", call_id=call_id)
        log.info("unredacted transcript of call %s read by key %s (%s)", call_id, who.key_id, who.role)
    else:
        segments = redact_transcript(segments, call.language, privacy.kinds)
    return {"call_id": call_id, "redacted": not original, "segments": segments}


def _snapshot(ctx: AppContext, call_id: str) -> list[dict[str, Any]] | None:
    """Events rebuilt from the store, for calls the live bus no longer holds (after a restart)."""
    call = ctx.store.calls.get(call_id)
    if call is None:
        return None
    events: list[CallEventModel] = [CallStateChanged.model_validate({"state": call.state,
                                                                     "reason": call.end_reason})]
    events += [FinalSegment.model_validate({"leg": s.leg, "start": s.start, "end": s.end, "text": s.text,
                                            "confidence": s.confidence, "words": s.words})
               for s in ctx.store.calls.transcript(call_id)]
    if call.state == "ended":
        events.append(CallStateChanged(state="ended", reason=call.end_reason))
    return [{"id": i, "call_id": call_id, "snapshot": True, **e.data()} for i, e in enumerate(events, start=1)]


@router.websocket("/calls/{call_id}/events")
async def call_events(ws: WebSocket, call_id: str, after: int = 0, raw: bool = False) -> None:
    """Live events of one call (state, partial, final, dtmf, ...), replaying from event id ``after``.

    Transcript text is redacted (cards, phones, e-mails, IBANs) unless ``raw=true`` is asked for by a role
    in ``privacy.raw_transcript_roles``. Close codes: 4401 missing or invalid key, 4403 raw text refused or
    another agent's call,
    4404 unknown call, 1013 the database is unavailable (try again). A call this node's bus no longer holds is
    served as a snapshot from the store, then closed.
    """
    ctx = context(ws)
    await ws.accept()
    try:
        who = await asyncio.to_thread(websocket_principal, ws)
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        await ws.close(code=1013, reason="database unavailable: try again later")
        return
    if who is None:
        await ws.close(code=4401, reason="missing or invalid API key")
        return
    if raw and not may_read_raw(who.role, ctx.settings.privacy):
        await ws.close(code=4403, reason=f"role {who.role!r} may not read raw transcripts")
        return
    if who.role == "agent" and not await owns_call(ctx, who, call_id):
        await ws.close(code=4403, reason="an agent reads only their own calls")
        return

    if raw:
        await audit_raw_read(ctx, who, "live events", call_id=call_id)

    def shown(event: dict[str, Any]) -> dict[str, Any]:
        return redact_event(event, who.role, ctx.settings.privacy, raw=raw)

    if not ctx.bus.known(call_id):
        snapshot = await asyncio.to_thread(_snapshot, ctx, call_id)
        if snapshot is None:
            await ws.close(code=4404, reason=f"no call {call_id}")
            return
        for event in snapshot:
            if event["id"] > after:
                await ws.send_json(shown(event))
        await ws.close()
        return
    backlog, queue, ended = ctx.bus.subscribe(call_id, after)
    try:
        for event in backlog:
            await ws.send_json(shown(event))
        if ended:
            await ws.close()
            return
        while True:
            message = await queue.get()
            if isinstance(message, ChannelClosed):
                await ws.close()
                return
            await ws.send_json(shown(message))
    except WebSocketDisconnect:
        pass
    finally:
        ctx.bus.unsubscribe(call_id, queue)
