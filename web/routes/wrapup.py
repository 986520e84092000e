"""``POST /api/v1/calls/{id}/wrapup``: the agent's after-call work (tags, outcome, notes).

It is appended to the call's timeline as a ``wrapup`` event and written to the call's voice interaction on
the customer's timeline (created when the call has none yet), so CRMs hear of it through the webhooks.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request

from core.roles import Principal
from profiles.errors import InvalidFieldError, NotFoundError
from web.access import require_call_act
from web.auth import require
from web.deps import context
from web.schemas.calls import WrapUp

router = APIRouter(prefix="/api/v1")


@router.post("/calls/{call_id}/wrapup")
async def wrap_up(request: Request, call_id: str, body: WrapUp,
                  who: Principal = Depends(require("agent", "supervisor", "admin"))) -> dict[str, Any]:
    """File the wrap-up of a call. An agent (console session or bound key) wraps up only their own calls."""
    ctx = context(request)
    store = ctx.store
    await require_call_act(ctx, who, call_id)
    if await asyncio.to_thread(store.calls.get, call_id) is None:
        raise HTTPException(404, f"no call {call_id!r}")
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
