"""Authentication and role checks: API keys (``Authorization: Bearer``) or an agent's console session cookie."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request, WebSocket, status

from console.sessions import SAFE_METHODS, session_principal
from core.roles import Principal
from store.store import Store
from web.deps import context


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def principal_for(store: Store, token: str | None) -> Principal | None:
    """Look a presented key up."""
    return store.keys.authenticate(token) if token else None


def require(*roles: str) -> Callable[[Request], Principal]:
    """A dependency that admits a valid key of one of ``roles`` (any role when empty).

    Without a key, a console session cookie stands for its agent (role ``agent``); then a request that changes
    state also needs the session's CSRF token (see :mod:`console.sessions`).
    """

    def check(request: Request) -> Principal:
        token = _bearer(request.headers.get("authorization"))
        if token is None:
            who = session_principal(request, state_changing=request.method not in SAFE_METHODS)
            if who is None:
                raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing API key: send Authorization: Bearer KEY",
                                    headers={"WWW-Authenticate": "Bearer"})
        else:
            who = principal_for(context(request).store, token)
        if who is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or revoked API key",
                                headers={"WWW-Authenticate": "Bearer"})
        if roles and who.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {who.role!r} may not do this")
        return who

    return check


def websocket_principal(ws: WebSocket) -> Principal | None:
    """Key from the Authorization header or, for browsers, the ``token`` query parameter, else the console
    session cookie (only from this site's pages: the handshake's ``Origin`` must be this host)."""
    token = _bearer(ws.headers.get("authorization")) or ws.query_params.get("token")
    if token is not None:
        return principal_for(context(ws).store, token)
    try:
        return session_principal(ws, state_changing=False, websocket=True)
    except HTTPException:
        return None


AnyRole = Depends(require())
