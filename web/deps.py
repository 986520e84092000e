"""The one dependency module: what route handlers take from the running app (set up by :func:`web.app.create_app`).

Each takes the request or WebSocket (Starlette's ``HTTPConnection``), so it works both as a plain call and
with ``Depends``.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from calls.context import AppContext
from console.feed import AgentFeed
from console.sessions import LoginLimiter, SessionTable


def context(conn: HTTPConnection) -> AppContext:
    """The running Hotline's shared parts (store, bus, board, router, active calls, settings)."""
    ctx: AppContext = conn.app.state.ctx
    return ctx


def console_sessions(conn: HTTPConnection) -> SessionTable:
    """The console's signed-in sessions."""
    sessions: SessionTable = conn.app.state.console_sessions
    return sessions


def console_limiter(conn: HTTPConnection) -> LoginLimiter:
    """The console's failed sign-in limiter."""
    limiter: LoginLimiter = conn.app.state.console_limiter
    return limiter


def console_feed(conn: HTTPConnection) -> AgentFeed:
    """Every agent's live feed."""
    feed: AgentFeed = conn.app.state.console_feed
    return feed
