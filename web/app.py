"""The FastAPI application."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from calls.context import AppContext
from console.settings import ConsoleSettings
from store.backlog import StoreUnavailableError, is_unavailable
from web.auth import AnyRole
from web.errors import error_response, install_error_handlers, install_openapi
from web.middleware import BodyLimit, SecurityHeaders
from web.routes.agents import router as agents_router
from web.routes.calls import router as calls_router
from web.routes.console import install_console
from web.routes.profile import router as profile_router
from web.routes.routing import router as routing_router
from web.routes.voiceprints import router as voiceprints_router
from web.settings import HttpSettings

log = logging.getLogger("hotline.api")
UPLOAD_PATHS = (r"/api/v1/customers/[^/]+/voiceprint", r"/api/v1/voiceprints/verify")


def create_app(ctx: AppContext, console: ConsoleSettings | None = None, http: HttpSettings | None = None) -> FastAPI:
    """Build the app around a running context (``console``: sign-in settings; ``http``: body limits; defaults
    when None)."""
    app = FastAPI(title="Hotline", version="0.1.0", docs_url="/docs", redoc_url=None)
    app.state.ctx = ctx
    install_error_handlers(app)  # one error body: {"error": CODE, "detail": ...}
    install_openapi(app)  # every status code an operation can answer, documented
    http = http or HttpSettings()
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, limit=http.max_body_bytes, upload_limit=http.max_upload_bytes,
                       uploads=UPLOAD_PATHS)  # outermost: nothing reads a body, or a key, before it
    app.include_router(calls_router)
    app.include_router(routing_router)
    app.include_router(voiceprints_router)
    app.include_router(profile_router)
    app.include_router(agents_router)
    install_console(app, ctx, console or ConsoleSettings())  # /console: agent sign-in, live feed, static pages
    ctx.metrics.parked_writes.set_function(lambda: ctx.store.parked)

    async def database_error(request: Request, exc: Exception) -> Response:
        """An unreachable database is a 503 with a reason; any other database failure a logged 500."""
        if is_unavailable(exc):
            return error_response(503, "database unavailable: try again shortly", "database_unavailable",
                                  {"Retry-After": "5"}, parked_writes=ctx.store.parked)
        log.error("database error on %s %s: %s", request.method, request.url.path, exc)
        return error_response(500, "database error", "database_error")

    for kind in (StoreUnavailableError, DBAPIError, PoolTimeoutError):
        app.add_exception_handler(kind, database_error)

    @app.get("/health")
    def health() -> dict[str, Any]:
        """Liveness, without authentication."""
        return {"status": "ok", "active_calls": len(ctx.active),
                "database": "unavailable" if ctx.store.parked else "ok", "parked_writes": ctx.store.parked,
                "recognition": "ok" if ctx.engine is not None else "unavailable",
                "biometrics": "ok" if ctx.voiceprints is not None else "unavailable"}

    @app.get("/metrics", dependencies=[AnyRole])
    def metrics(request: Request) -> Response:
        """Prometheus exposition."""
        return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app
