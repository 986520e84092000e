"""REST endpoints for queues and transfers."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request

from calls.consult import ConsultError
from calls.context import AppContext
from calls.routing import TransferTargetError
from core.roles import Principal
from web.access import require_call_act
from web.auth import require
from web.deps import context
from web.schemas.calls import ConsultRequest, TransferRequest

router = APIRouter(prefix="/api/v1")



@router.get("/queues", dependencies=[Depends(require("admin", "supervisor", "agent", "security"))])
async def list_queues(request: Request) -> dict[str, Any]:
    """Per queue: waiting callers, longest wait, agents available for it."""
    ctx = context(request)
    if ctx.router is None:
        return {"routing": "disabled", "queues": []}
    return {"routing": "enabled", "queues": ctx.router.snapshot()}


@router.post("/calls/{call_id}/transfer")
async def transfer(request: Request, call_id: str, body: TransferRequest,
                   who: Principal = Depends(require("agent", "supervisor", "admin"))) -> dict[str, Any]:
    """Blind transfer of a live call: the caller goes to the agent or to the head of the queue."""
    ctx = context(request)
    await require_call_act(ctx, who, call_id)
    svc = ctx.active.get(call_id)
    if svc is None:
        raise HTTPException(404, f"no live call {call_id!r}")
    if svc.routing is None:
        raise HTTPException(409, "routing is disabled; nothing to transfer")
    target = body.agent_id or body.queue or ""
    if body.agent_id is not None and ctx.board.find(body.agent_id) is None:
        raise HTTPException(404, f"no agent {body.agent_id!r}")
    if body.queue is not None and ctx.settings.routing.queue(body.queue) is None:
        raise HTTPException(404, f"no queue {body.queue!r}")
    try:
        result = await svc.routing.transfer(target, by=_by(who))
    except TransferTargetError as exc:
        raise HTTPException(409, str(exc)) from exc
    return {"call_id": call_id, **result}


def _routed(ctx: AppContext, call_id: str) -> Any:
    svc = ctx.active.get(call_id)
    if svc is None:
        raise HTTPException(404, f"no live call {call_id!r}")
    if svc.routing is None:
        raise HTTPException(409, "routing is disabled; nothing to transfer")
    return svc.routing


@router.post("/calls/{call_id}/consult", status_code=202)
async def consult(request: Request, call_id: str, body: ConsultRequest,
                  who: Principal = Depends(require("agent", "supervisor", "admin"))) -> dict[str, Any]:
    """Warm transfer, step 1: ring another agent while the caller holds (progress: consult_* events)."""
    ctx = context(request)
    await require_call_act(ctx, who, call_id)
    routing = _routed(ctx, call_id)
    if ctx.board.find(body.agent_id) is None:
        raise HTTPException(404, f"no agent {body.agent_id!r}")
    try:
        return {"call_id": call_id, **routing.consult(body.agent_id, by=_by(who))}
    except ConsultError as exc:
        raise HTTPException(409, exc.reason) from exc


@router.post("/calls/{call_id}/consult/{action}")
async def consult_finish(request: Request, call_id: str, action: Literal["complete", "cancel"],
                         who: Principal = Depends(require("agent", "supervisor", "admin"))) -> dict[str, Any]:
    """Warm transfer, step 2: ``complete`` hands the caller to the consulted agent, ``cancel`` returns them."""
    await require_call_act(context(request), who, call_id)
    routing = _routed(context(request), call_id)
    try:
        return {"call_id": call_id, **await routing.consult_finish(action == "complete", by=_by(who))}
    except ConsultError as exc:
        raise HTTPException(409, exc.reason) from exc


def _by(who: Principal) -> str:
    return f"api:{who.role}:{who.name or who.key_id}"
