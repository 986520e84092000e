"""The agent console: sign-in and sign-out, the live feed WebSocket, and the static pages at ``/console``.

``POST /console/login`` takes the agent's SIP user name and password (JSON or form) and sets the session
cookie; its answer carries the CSRF token the page sends as ``X-CSRF-Token`` on every change.
``GET /console/session`` gives the same to a reloaded page. ``WS /console/ws?after=ID&epoch=E`` streams the
agent's feed (:mod:`console.feed`), starting with a ``hello`` message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from calls.context import AppContext
from console.feed import AgentFeed, Subscription
from console.files import STATIC
from console.sessions import (
    COOKIE,
    ConsoleSession,
    LoginLimiter,
    SessionTable,
    console_session,
    same_origin,
    session_principal,
)
from console.settings import ConsoleSettings
from web.deps import console_feed, console_limiter, console_sessions, context
from web.errors import error_response
from web.routes.wrapup import router as wrapup_router

router = APIRouter(prefix="/console")
log = logging.getLogger("hotline.console")
BAD_LOGIN = "wrong user name or password"
SESSION_CHECK_S = 30.0  # how often a quiet feed checks its session (an open console keeps it alive)
MAX_FIELD = 1024
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


API_PATHS = {"login": "POST", "logout": "POST", "session": "GET"}  # routes, not files


class ConsoleFiles(StaticFiles):
    """The console's pages, with a strict content security policy and no framing."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The file, with the security headers; the sign-in routes' paths answer 405 to other methods."""
        if path in API_PATHS:
            return error_response(405, f"{scope['method']} is not allowed here", headers={"Allow": API_PATHS[path]})
        response = await super().get_response(path, scope)
        response.headers.update(HEADERS)
        return response


def install_console(app: FastAPI, ctx: AppContext, cs: ConsoleSettings) -> None:
    """Add the console to ``app``: session table, login limiter, the agent feed on ``ctx``'s bus and board,
    the routes, and the static pages."""
    feed = AgentFeed(ctx.bus, ctx.settings.privacy,
                     lambda call_id: getattr(ctx.active.get(call_id), "language", None))
    feed.attach(ctx.board)
    app.state.console_sessions = SessionTable(cs.session_idle_s, cs.session_max_s)
    app.state.console_limiter = LoginLimiter(cs.login_fail_limit, cs.login_fail_window_s, cs.login_block_s)
    app.state.console_accounts = LoginLimiter(cs.account_fail_limit, cs.account_fail_window_s, cs.account_block_s)
    app.state.console_feed = feed
    app.include_router(router)
    app.include_router(wrapup_router)
    app.mount("/console", ConsoleFiles(directory=STATIC, html=True), name="console")




def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _credentials(request: Request) -> tuple[str, str]:
    """User name and password from a JSON or form body; 422 when either is missing or absurdly long."""
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            body: Any = await request.json()
        else:
            body = dict(await request.form())
    except (ValueError, json.JSONDecodeError):
        raise HTTPException(422, "send username and password as JSON or as a form") from None
    username = body.get("username") if isinstance(body, dict) else None
    password = body.get("password") if isinstance(body, dict) else None
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        raise HTTPException(422, "username and password are required")
    if len(username) > MAX_FIELD or len(password) > MAX_FIELD:
        raise HTTPException(422, "username or password too long")
    return username, password


def _session_body(sessions: SessionTable, session: ConsoleSession) -> dict[str, Any]:
    return {"agent": {"id": session.agent_id, "name": session.name, "username": session.username},
            "csrf_token": session.csrf, "expires_in_s": round(sessions.expires_in(session))}


LOGIN_BODY = {"type": "object", "required": ["username", "password"], "additionalProperties": False,
              "properties": {"username": {"type": "string", "minLength": 1, "maxLength": MAX_FIELD},
                             "password": {"type": "string", "minLength": 1, "maxLength": MAX_FIELD}}}


@router.post("/login", openapi_extra={"requestBody": {"required": True, "content": {
    "application/json": {"schema": LOGIN_BODY}, "application/x-www-form-urlencoded": {"schema": LOGIN_BODY}}}})
async def login(request: Request) -> JSONResponse:
    """Sign an agent in with their SIP credentials. Every failure answers the same 401 (no hint whether the
    user exists); too many failures from one address answer 429 for a while, even for the right password."""
    ctx, address = context(request), _client(request)
    limiter = console_limiter(request)
    if not same_origin(request):
        raise HTTPException(403, "cross-site request refused")
    username, password = await _credentials(request)
    accounts: LoginLimiter = request.app.state.console_accounts
    account = "user:" + username[:64].lower()
    wait = limiter.begin(address)
    if wait == 0:
        wait = accounts.begin(account)
        if wait > 0:
            limiter.release(address)
            log.warning("console login for user %r from %s refused: account locked (%.0f s to wait)",
                        username[:64], address, wait)
    elif wait > 0:
        log.warning("console login from %s refused: too many failed logins (%.0f s to wait)", address, wait)
    if wait > 0:  # the same answer for a blocked address and a locked account
        return error_response(429, "too many failed logins; try again later",
                              headers={"Retry-After": str(int(wait) + 1)})
    rec = None
    try:
        rec = await asyncio.to_thread(ctx.store.agents.check_password, username, password)
    finally:
        blocked = limiter.finish(address, rec is not None)
        locked = accounts.finish(account, rec is not None)
    if rec is None:
        log.warning("console login failed for user %r from %s%s%s", username[:64], address,
                    "; address blocked" if blocked else "", "; account locked" if locked else "")
        return error_response(401, BAD_LOGIN)
    if ctx.board.find(rec.id) is None:
        ctx.board.sync(rec.info())
    sessions = console_sessions(request)
    token, session = sessions.create(rec.id, rec.name, rec.username)
    log.info("console login: agent %s (%s) from %s", rec.id, rec.username, address)
    response = JSONResponse(_session_body(sessions, session))
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/",
                        secure=request.url.scheme == "https")
    return response


@router.get("/session")
async def current_session(request: Request) -> dict[str, Any]:
    """The signed-in agent and the CSRF token (for a reloaded page); 401 without a live session."""
    session = console_session(request)
    if session is None:
        raise HTTPException(401, "not signed in")
    return _session_body(console_sessions(request), session)


@router.post("/logout", status_code=204)
async def logout(request: Request) -> Response:
    """End the session (needs the CSRF token like any change) and clear the cookie."""
    session = console_session(request, touch=False)
    if session is not None:
        session_principal(request, state_changing=True)  # 403 without the CSRF token
        console_sessions(request).drop(request.cookies.get(COOKIE))
        log.info("console logout: agent %s", session.agent_id)
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


@router.websocket("/ws")
async def feed_socket(ws: WebSocket, after: int = 0, epoch: str | None = None) -> None:
    """The signed-in agent's feed: a ``hello`` (epoch, reset, last id, presence), then every event after
    ``after``, then live ones. Close codes: 4401 no live session (or another site's page), 4403 agent gone."""
    await ws.accept()
    session = console_session(ws) if same_origin(ws) else None
    if session is None:
        await ws.close(code=4401, reason="not signed in")
        return
    ctx = context(ws)
    feed = console_feed(ws)
    sub = feed.subscribe(session.agent_id, max(0, after), epoch)
    try:
        presence = ctx.board.find(session.agent_id)
        await ws.send_json({"type": "hello", "epoch": feed.epoch, "reset": sub.reset,
                            "last_id": feed.last_id(session.agent_id), "server_time": time.time(),
                            "agent": {"id": session.agent_id, "name": session.name, "username": session.username},
                            "presence": presence.state.value if presence else "offline"})
        for event in sub.backlog:
            await ws.send_json(event)
        await _pump(ws, sub)
    except (WebSocketDisconnect, RuntimeError, OSError):  # the client went away while we were sending
        pass
    finally:
        feed.unsubscribe(sub)


async def _pump(ws: WebSocket, sub: Subscription) -> None:
    """Send live events until the client leaves or its session ends."""
    receiver = asyncio.create_task(_until_closed(ws))
    getter: asyncio.Task[dict[str, Any]] | None = None
    try:
        while not receiver.done():
            getter = getter or asyncio.create_task(sub.queue.get())
            done, _ = await asyncio.wait({getter, receiver}, timeout=SESSION_CHECK_S,
                                         return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                await ws.send_json(getter.result())
                getter = None
            elif not done and console_session(ws) is None:
                await ws.close(code=4401, reason="session ended")
                return
    finally:
        receiver.cancel()
        if getter is not None:
            getter.cancel()


async def _until_closed(ws: WebSocket) -> None:
    """Read (and ignore) what the client sends, until it disconnects."""
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
