"""Query parameters shared by the routes, bounded so that no value reaches the database unchecked."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import BeforeValidator

NOT_BLANK = r"[^\s\u0085\u001c-\u001f]"  # a character Python's str.strip() keeps (ECMA \s lacks U+0085)
MAX_OFFSET = 1_000_000  # paging deeper than this is an export, not a page
MAX_ID = 2**63 - 1  # the largest integer id a database column holds


def _iso(value: Any) -> Any:
    """Only ISO 8601 text is a date-time here (pydantic alone would take 0.5 as a Unix time)."""
    if isinstance(value, datetime | date):
        return value
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date-time such as 2026-12-07T10:00:00Z")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO 8601 date-time: {value!r}") from None
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date such as 2027-05-31")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO 8601 date: {value!r}") from None
    return value


IsoDateTime = Annotated[datetime, BeforeValidator(_iso)]
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"Items to skip (at most {MAX_OFFSET:,}).")]


def page_limit(default: int, most: int) -> Any:
    """A ``limit`` query parameter: ``default`` items, at most ``most``."""
    return Query(default, ge=1, le=most, description=f"Items per page (1 to {most}).")
