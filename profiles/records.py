"""Typed records of the timeline (interactions, cases, hint feedback, merges) and the checks on their fields.

Store methods return these; SQLAlchemy rows never leave the store (which converts them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from profiles.errors import InvalidFieldError

CHANNELS = ("voice", "chat", "email", "branch")
CASE_STATUSES = ("open", "closed")
# Interaction fields a later change may set (channel, call and start time are fixed at creation).
INTERACTION_FIELDS = ("customer_id", "agent_id", "reason", "tags", "summary", "transcript_ref", "verification",
                      "outcome", "csi", "wait_s", "handle_s", "notes")
CASE_FIELDS = ("title", "status")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True, slots=True)
class InteractionDraft:
    """A new interaction; ``started_at`` defaults to now."""

    customer_id: str | None
    channel: str
    started_at: datetime | None = None
    agent_id: str | None = None
    call_id: str | None = None
    reason: str | None = None
    tags: list[str] = field(default_factory=list)
    summary: str | None = None
    transcript_ref: str | None = None
    verification: dict[str, Any] | None = None
    outcome: str | None = None
    csi: int | None = None
    wait_s: float | None = None
    handle_s: float | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class InteractionRecord:
    """One entry of a customer's timeline."""

    id: str
    customer_id: str | None
    channel: str
    started_at: datetime
    agent_id: str | None
    call_id: str | None
    reason: str | None
    tags: list[str]
    summary: str | None
    transcript_ref: str | None
    verification: dict[str, Any] | None
    outcome: str | None
    csi: int | None
    wait_s: float | None
    handle_s: float | None
    notes: str | None
    version: int
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = asdict(self)
        for key in ("started_at", "created_at", "updated_at"):
            data[key] = _iso(data[key])
        return data


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """A customer's case."""

    id: str
    customer_id: str
    title: str
    status: str
    version: int
    created_at: datetime
    updated_at: datetime

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = asdict(self)
        data["created_at"], data["updated_at"] = _iso(self.created_at), _iso(self.updated_at)
        return data


@dataclass(frozen=True, slots=True)
class HintFeedbackRecord:
    """An agent's verdict on a hint."""

    id: int
    call_id: str
    hint_id: str
    useful: bool
    agent_id: str | None
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = asdict(self)
        data["created_at"] = _iso(self.created_at)
        return data


@dataclass(frozen=True, slots=True)
class MergeResult:
    """What a merge moved from the source customer to the target.

    ``voiceprint`` is ``moved``, ``none`` (the source had none), ``target_has_one`` (the source's stays with
    the merged record) or ``not_moved: <why>`` (it could not be re-sealed for the target).
    """

    source_id: str
    target_id: str
    phones: list[str]
    interactions: int
    cases: int
    calls: int
    voiceprint: str

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def check_fields(changes: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    """Refuse keys that are not changeable fields."""
    for key in changes:
        if key not in allowed:
            raise InvalidFieldError(key, changes[key], "not a field that can be changed", allowed)


def check_interaction_values(values: Mapping[str, Any]) -> None:
    """Refuse an unknown channel, a CSI outside 1..5, negative durations or non-string tags."""
    channel = values.get("channel")
    if "channel" in values and channel not in CHANNELS:
        raise InvalidFieldError("channel", channel, "unknown channel", CHANNELS)
    csi = values.get("csi")
    if csi is not None and (isinstance(csi, bool) or not isinstance(csi, int) or not 1 <= csi <= 5):
        raise InvalidFieldError("csi", csi, "a rating is an integer from 1 to 5")
    for key in ("wait_s", "handle_s"):
        value = values.get(key)
        if value is not None and (not isinstance(value, int | float) or value < 0):
            raise InvalidFieldError(key, value, "a duration is a number of seconds, not negative")
    tags = values.get("tags")
    if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)):
        raise InvalidFieldError("tags", tags, "tags are a list of strings")


def check_case_status(status: object) -> None:
    """Refuse a status other than open or closed."""
    if status not in CASE_STATUSES:
        raise InvalidFieldError("status", status, "unknown case status", CASE_STATUSES)
