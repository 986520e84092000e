"""Agents over REST: the directory (admin writes it) and live presence (the status API).

Every directory change is mirrored on ``ctx.board`` at once and announced through
``ctx.on_agents_changed`` (which reloads the SIP credentials). Password hashes are never returned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response

from callcenter.agents import AgentFieldError
from callcenter.board import UnknownAgentError
from callcenter.presence import AgentState, IllegalAgentTransitionError
from calls.context import AppContext
from core.roles import Principal
from store.agents import AgentRecord, DuplicateUsernameError, sync_board
from web.auth import require
from web.deps import console_sessions, context
from web.schemas.agents import AgentChanges, NewAgent, StatusChange

router = APIRouter(prefix="/api/v1")
log = logging.getLogger("hotline.agents")
ADMIN = Depends(require("admin"))
READ = Depends(require("admin", "supervisor", "agent", "security"))
SET_STATUS = Depends(require("admin", "supervisor", "agent"))
BUSY = frozenset({AgentState.ON_CALL, AgentState.RINGING})
DEFAULT_REALM = "hotline"


def sip_realm(ctx: AppContext) -> str:
    """The digest realm HA1 values are made for (``sip.realm``, until that setting exists: ``hotline``)."""
    return str(getattr(ctx.settings.sip, "realm", DEFAULT_REALM))


def agent_view(ctx: AppContext, rec: AgentRecord) -> dict[str, Any]:
    """The record with its live presence from the board (an agent missing there is added, offline)."""
    board = ctx.board
    presence = board.find(rec.id) or board.sync(rec.info())
    elapsed = max(0.0, board.clock() - presence.since)
    since = datetime.now(UTC) - timedelta(seconds=elapsed)
    return {**rec.to_json(), "state": presence.state.value, "state_since": since.isoformat(),
            "time_in_state_s": round(elapsed, 3), "registered": board.is_registered(rec.id)}


def _announce(ctx: AppContext) -> None:
    hook = ctx.on_agents_changed
    if hook is None:
        return
    try:
        hook()
    except Exception:  # the change is stored; a failed reload must not turn it into an error
        log.exception("on_agents_changed hook failed")


def _unprocessable(exc: AgentFieldError) -> HTTPException:
    """The same shape FastAPI gives its own validation errors."""
    error: dict[str, Any] = {"type": "value_error", "loc": ["body", exc.field], "msg": exc.reason}
    if exc.value is not None:
        error["input"] = exc.value
    return HTTPException(422, [error])


@contextmanager
def _agent_errors(agent_id: str | None) -> Iterator[None]:
    """Store errors of an agent write as HTTP errors: 404 unknown agent, 422 bad field, 409 username taken."""
    try:
        yield
    except UnknownAgentError:
        raise _missing(agent_id or "") from None
    except AgentFieldError as exc:
        raise _unprocessable(exc) from None
    except DuplicateUsernameError as exc:
        raise HTTPException(409, str(exc)) from None


def _changed(ctx: AppContext, rec: AgentRecord) -> dict[str, Any]:
    """After a create or update: the live board and the registrar learn of it; the agent as the API shows it."""
    ctx.board.sync(rec.info())
    _announce(ctx)
    return agent_view(ctx, rec)


def _missing(agent_id: str) -> HTTPException:
    return HTTPException(404, str(UnknownAgentError(agent_id)))


@router.post("/agents", status_code=201, dependencies=[ADMIN])
async def create_agent(request: Request, body: NewAgent) -> dict[str, Any]:
    """Create an agent with the credentials of their phone."""
    ctx = context(request)
    with _agent_errors(None):
        rec = await ctx.store.run(ctx.store.agents.create, body.name, body.username, body.password, sip_realm(ctx),
                                  body.languages, body.skills)
    return _changed(ctx, rec)


@router.get("/agents", dependencies=[READ])
async def list_agents(request: Request) -> dict[str, Any]:
    """Every agent by name, with live state; agents added or removed outside the API are picked up here."""
    ctx = context(request)
    records = await asyncio.to_thread(ctx.store.agents.all)
    if sync_board(ctx.board, records):
        _announce(ctx)
    return {"agents": [agent_view(ctx, rec) for rec in records]}


@router.get("/agents/{agent_id}", dependencies=[READ])
async def get_agent(request: Request, agent_id: str) -> dict[str, Any]:
    """One agent with live state."""
    ctx = context(request)
    rec = await asyncio.to_thread(ctx.store.agents.get, agent_id)
    if rec is None:
        raise _missing(agent_id)
    return agent_view(ctx, rec)


@router.patch("/agents/{agent_id}", dependencies=[ADMIN])
async def update_agent(request: Request, agent_id: str, body: AgentChanges) -> dict[str, Any]:
    """Change name, languages, skills, username or password (both hashes are remade)."""
    ctx = context(request)
    changes = body.model_dump(exclude_unset=True)
    realm = sip_realm(ctx) if body.password is not None else None
    with _agent_errors(agent_id):
        rec = await ctx.store.run(ctx.store.agents.update, agent_id, realm=realm, **changes)
    if body.password is not None or body.username is not None:  # new credentials: signed-in consoles sign in again
        ended = console_sessions(request).drop_agent(agent_id)
        accounts = getattr(request.app.state, "console_accounts", None)
        if accounts is not None and body.password is not None:  # a reset password unlocks the account
            accounts.unblock("user:" + rec.username[:64].lower())
        if ended:
            log.info("agent %s: credentials changed, %d console session(s) ended", agent_id, ended)
    return _changed(ctx, rec)


@router.delete("/agents/{agent_id}", status_code=204, dependencies=[ADMIN])
async def delete_agent(request: Request, agent_id: str) -> Response:
    """Remove an agent; refused (409) while their phone rings or they are on a call."""
    ctx = context(request)
    presence = ctx.board.find(agent_id)
    if presence is not None and presence.state in BUSY:
        raise HTTPException(409, f"agent {agent_id} is {presence.state.value} (call {presence.call_id}); "
                                 "delete them after the call")
    ctx.board.drop(agent_id)  # before the await, so no call can be offered to them meanwhile
    try:
        await ctx.store.run(ctx.store.agents.delete, agent_id)
    except UnknownAgentError:
        raise _missing(agent_id) from None
    console_sessions(request).drop_agent(agent_id)
    _announce(ctx)
    return Response(status_code=204)


@router.put("/agents/{agent_id}/status")
async def set_status(request: Request, agent_id: str, body: StatusChange, who: Principal = SET_STATUS
                     ) -> dict[str, Any]:
    """Ask for available, away or offline; 409 with the reason when presence rules refuse it.

    An agent (console session or bound key) changes only their own status; supervisors and admins any agent's.
    """
    ctx = context(request)
    if who.role == "agent" and who.agent_id != agent_id:
        raise HTTPException(403, "an agent may change only their own status")
    rec = await asyncio.to_thread(ctx.store.agents.get, agent_id)
    if rec is None:
        raise _missing(agent_id)
    if ctx.board.find(agent_id) is None:
        ctx.board.sync(rec.info())
    try:
        ctx.board.set_status(agent_id, AgentState(body.status))
    except UnknownAgentError:
        raise _missing(agent_id) from None
    except IllegalAgentTransitionError as exc:
        raise HTTPException(409, str(exc)) from None
    return agent_view(ctx, rec)
