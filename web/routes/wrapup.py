"""``POST /api/v1/calls/{id}/wrapup``: the agent's after-call work (tags, outcome, notes).

It is appended to the call's timeline as a ``wrapup`` event and written to the call's voice interaction on
the customer's timeline (created when the call has none yet), so CRMs hear of it through the webhooks.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request

from console.sessions import ConsoleSession
from core.roles import Principal
from profiles.errors import InvalidFieldError, NotFoundError
from web.auth import require
from web.deps import context
from web.schemas.calls import WrapUp

router = APIRouter(prefix="/api/v1")


def _handled_by(events: list[dict[str, Any]], agent_id: str) -> bool:
    return any(e.get("type") in ("offered", "agent_connected") and e.get("agent_id") == agent_id for e in events)


@router.post("/calls/{call_id}/wrapup")
async def wrap_up(request: Request, call_id: str, body: WrapUp,
                  who: Principal = Depends(require("agent", "admin"))) -> dict[str, Any]:
    """File the wrap-up of a call. A console session may only wrap up calls that were offered to its agent."""
    ctx = context(request)
    store = ctx.store
    if await asyncio.to_thread(store.calls.get, call_id) is None:
        raise HTTPException(404, f"no call {call_id!r}")
    session: ConsoleSession | None = getattr(request.state, "console_session", None)
    if session is not None and not _handled_by(await asyncio.to_thread(store.calls.events, call_id), session.agent_id):
        raise HTTPException(403, "this call was never offered to you")
    data = {**body.model_dump(), "by": who.name or f"key#{who.key_id}", "role": who.role}
    await store.run(store.calls.add_event, call_id, "wrapup", data)
    changes = {k: v for k, v in body.model_dump().items() if v is not None}
    try:
        rec = await store.run(store.timeline.record_voice_interaction, call_id, changes)
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    except InvalidFieldError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"call_id": call_id, "wrapup": data, "interaction": rec.to_json()}
