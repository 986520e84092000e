"""API-key authentication and role checks."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request, WebSocket, status

from api.store import Principal, Store


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def principal_for(store: Store, token: str | None) -> Principal | None:
    """Look a presented key up."""
    return store.authenticate(token) if token else None


def require(*roles: str) -> Callable[[Request], Principal]:
    """A dependency that admits a valid key of one of ``roles`` (any role when empty)."""

    def check(request: Request) -> Principal:
        token = _bearer(request.headers.get("authorization"))
        if token is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing API key: send Authorization: Bearer KEY",
                                headers={"WWW-Authenticate": "Bearer"})
        who = principal_for(request.app.state.ctx.store, token)
        if who is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or revoked API key",
                                headers={"WWW-Authenticate": "Bearer"})
        if roles and who.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {who.role!r} may not do this")
        return who

    return check


def websocket_principal(ws: WebSocket) -> Principal | None:
    """Key from the Authorization header or, for browsers, the ``token`` query parameter."""
    token = _bearer(ws.headers.get("authorization")) or ws.query_params.get("token")
    return principal_for(ws.app.state.ctx.store, token)


AnyRole = Depends(require())
