"""One error body for every error, and every status code the API can return written into its OpenAPI schema.

Every error answer is ``{"error": CODE, "detail": ...}``: ``error`` is a stable machine-readable code
(``not_found``, ``forbidden``, ``invalid_request``, ``database_unavailable``...), ``detail`` says what went
wrong in words, or lists the problems (a validation error, a quality gate's reasons).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "invalid_request",
         429: "too_many_requests", 500: "server_error", 503: "unavailable"}
WORDS = {400: "The request body is not valid JSON or form data.", 401: "No valid API key or console session.",
         403: "The caller's role may not do this (or a console change lacks its CSRF token).",
         404: "No such resource.", 409: "The request conflicts with the resource's current state.",
         413: "The request body or an uploaded file is too large.",
         422: "A parameter or the body is invalid; `detail` says which and why.",
         429: "Too many attempts; retry after `Retry-After` seconds.",
         503: "The database or a needed engine is unavailable; retry after `Retry-After` seconds."}


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: str = Field(description="Stable machine-readable code, e.g. not_found, forbidden, invalid_request.")
    detail: str | list[Any] | dict[str, Any] = Field(description="What went wrong: words, or the list of problems.")


def error_response(status: int, detail: Any, code: str | None = None, headers: dict[str, str] | None = None,
                   **extra: Any) -> JSONResponse:
    """An error answer in the one shape (``extra``: more keys, e.g. ``parked_writes``)."""
    body = {"error": code or CODES.get(status, "error"), "detail": jsonable_encoder(detail), **extra}
    return JSONResponse(body, status_code=status, headers=headers)


def _allowed(app: FastAPI, request: Request) -> str:
    """Every documented method at this path (Starlette's 405 names only the first matching route's)."""
    path = request.url.path
    methods: set[str] = set()
    for template, ops in app.openapi().get("paths", {}).items():
        if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), path):
            methods |= {m.upper() for m in ops}
    return ", ".join(sorted(methods))


def install_error_handlers(app: FastAPI) -> None:
    """HTTP errors and validation errors answer in the one shape."""

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed(app, request)
        if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
            return error_response(400, "the body is not valid JSON or form data", headers=headers)
        return error_response(exc.status_code, exc.detail, headers=headers)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        if any(p.get("type") == "json_invalid" for p in problems):  # not JSON at all: the body, not a field
            return error_response(400, "the body is not valid JSON", problems=problems)
        return error_response(422, problems)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, invalid)


def _error_codes(path: str, method: str, op: dict[str, Any]) -> list[int]:
    """The error statuses an operation can answer: authentication and roles, validation, the database,
    404 where the path names a resource, 400/409/413 where a body is sent."""
    if not path.startswith("/api/") and not path.startswith("/console/") and path != "/metrics":
        return [422] if op.get("parameters") or op.get("requestBody") else []
    codes = {401, 403, 422, 503}
    if re.search(r"\{[^}]+\}", path):
        codes.add(404)
    if method in ("post", "put", "patch", "delete"):
        codes |= {404, 409}  # a body may name a customer, agent or queue that does not exist
    if op.get("requestBody"):
        codes |= {400, 413}
    if path.startswith("/console/"):
        codes |= {429}
    return sorted(codes)


def install_openapi(app: FastAPI) -> None:
    """Document every error status of every operation with :class:`ErrorBody`; ``/metrics`` is text."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes, description=app.description)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for path, ops in schema.get("paths", {}).items():
            for method, op in ops.items():
                responses = op.setdefault("responses", {})
                for code in _error_codes(path, method, op):
                    responses[str(code)] = {"description": WORDS.get(code, CODES[code]), "content": ref}
        metrics = schema.get("paths", {}).get("/metrics", {}).get("get")
        if metrics is not None:
            metrics["responses"]["200"] = {"description": "Prometheus text exposition format.",
                                           "content": {"text/plain": {"schema": {"type": "string"}}}}
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
