"""Request bodies of the profile API (customers, interactions, cases, hint feedback), validated by pydantic."""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from web.params import IsoDate, IsoDateTime

Channel = Literal["voice", "chat", "email", "branch"]
CaseStatus = Literal["open", "closed"]
CardStatus = Literal["active", "blocked", "expired", "closed"]

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
FLAG = r"^[a-z0-9][a-z0-9_.:-]{0,63}$"
TEXT = 20_000
PHONE = r"^\+?[0-9][0-9 ().-]{2,31}$"

Flag = Annotated[str, Field(pattern=FLAG, description="Lower-case token, e.g. vip or fraud_watch.")]
Phone = Annotated[str, Field(pattern=PHONE, description="E.164 (+380441234567) or a national number "
                             "(044 123 4567) of the default region; it must be a possible number.")]
Tag = Annotated[str, Field(min_length=1, max_length=64)]


def _no_null(*names: str) -> Any:
    """A ``json_schema_extra`` that documents ``names`` as non-null (they may be left out of a PATCH)."""

    def edit(schema: dict[str, Any]) -> None:
        for name in names:
            prop = schema.get("properties", {}).get(name, {})
            options = [o for o in prop.get("anyOf", []) if o.get("type") != "null"]
            if len(options) == 1:
                prop.pop("anyOf")
                prop.update(options[0])
                prop.pop("default", None)
    return edit


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def changes(self) -> dict[str, Any]:
        """The fields the client sent, JSON-ready (a PATCH changes only these)."""
        return self.model_dump(mode="json", exclude_unset=True)


class _Patch(_Body):
    """A PATCH body: fields listed in ``_required`` may be left out but not set to null."""

    _required: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="after")
    def _no_null_for_required(self) -> _Patch:
        for name in self._required:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class Card(_Body):
    """A payment card as the profile keeps it (``last4`` only, never the full number); the fields are the ones
    the hint engine reads (:class:`hints.context.Card`)."""

    id: str | None = Field(None, max_length=64)
    last4: str = Field(..., pattern=r"^\d{4}$")
    kind: str | None = Field(None, max_length=32, description="debit, credit, ...")
    status: CardStatus
    expires: IsoDate
    block_reason: str | None = Field(None, max_length=255)


class Document(_Body):
    """An identity document on file: kind and expiry (None: does not expire), never its number."""

    id: str | None = Field(None, max_length=64)
    kind: str = Field(..., min_length=1, max_length=32, description="passport, id_card, ...")
    expires: IsoDate | None = None
    status: str | None = Field(None, max_length=32)


class NewCustomer(_Body):
    """A customer to create (``name`` and ``phones`` are all the minimal form needs)."""

    name: str = Field(..., min_length=1, max_length=255)
    phones: list[Phone] = Field(default_factory=list, max_length=20)
    email: str | None = Field(None, max_length=255, pattern=EMAIL)
    language: str | None = Field(None, max_length=16, pattern=LANGUAGE)
    segment: str | None = Field(None, max_length=64)
    flags: list[Flag] = Field(default_factory=list, max_length=50)
    external_id: str | None = Field(None, min_length=1, max_length=128)
    provisional: StrictBool = False
    cards: list[Card] = Field(default_factory=list, max_length=50)
    documents: list[Document] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _flags(self) -> NewCustomer:
        _check_flags(self.flags)
        return self


class CustomerPatch(_Patch):
    """Profile fields to change; ``phones`` replaces the numbers."""

    _required: ClassVar[tuple[str, ...]] = ("name", "phones", "flags", "provisional", "cards", "documents")
    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_null(*_required))

    name: str | None = Field(None, min_length=1, max_length=255)
    phones: list[Phone] | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=255, pattern=EMAIL)
    language: str | None = Field(None, max_length=16, pattern=LANGUAGE)
    segment: str | None = Field(None, max_length=64)
    flags: list[Flag] | None = Field(None, max_length=50)
    external_id: str | None = Field(None, min_length=1, max_length=128)
    provisional: StrictBool | None = None
    cards: list[Card] | None = Field(None, max_length=50)
    documents: list[Document] | None = Field(None, max_length=50)

    @model_validator(mode="after")
    def _flags(self) -> CustomerPatch:
        _check_flags(self.flags or [])
        return self


def _check_flags(flags: list[str]) -> None:
    bad = [f for f in flags if not re.match(FLAG, f)]
    if bad:
        raise ValueError(f"flags are lower-case tokens like vip or fraud_watch, not {bad}")


class MergeBody(_Body):
    """Which customer to merge into."""

    into: str = Field(..., min_length=1, max_length=32)


class _InteractionFields(_Body):
    agent_id: str | None = Field(None, max_length=32)
    reason: str | None = Field(None, max_length=TEXT)
    tags: list[Tag] | None = Field(None, max_length=50)
    summary: str | None = Field(None, max_length=TEXT)
    transcript_ref: str | None = Field(None, max_length=512, description="Call id's transcript path or a URL path.")
    outcome: str | None = Field(None, max_length=64)
    csi: int | None = Field(None, ge=1, le=5, description="Customer satisfaction, 1..5.")
    wait_s: float | None = Field(None, ge=0)
    handle_s: float | None = Field(None, ge=0)
    notes: str | None = Field(None, max_length=TEXT)


class NewInteraction(_InteractionFields):
    """A contact on any channel, appended to the customer's timeline."""

    channel: Channel
    started_at: IsoDateTime | None = Field(None, description="ISO 8601; default now.")
    call_id: str | None = Field(None, max_length=32, description="The voice call (one interaction per call).")


class InteractionPatch(_InteractionFields, _Patch):
    """Interaction fields to change (wrap-up, re-filing under another customer). Never ``verification``: only
    Hotline's own call path records how a caller was verified."""

    _required: ClassVar[tuple[str, ...]] = ("tags",)
    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_null("tags"))

    customer_id: str | None = Field(None, max_length=32)


class NewCase(_Body):
    """A case to open."""

    title: str = Field(..., min_length=1, max_length=255)
    status: CaseStatus = "open"


class CasePatch(_Patch):
    """Case fields to change."""

    _required: ClassVar[tuple[str, ...]] = ("title", "status")
    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_null("title", "status"))

    title: str | None = Field(None, min_length=1, max_length=255)
    status: CaseStatus | None = None


class HintFeedback(_Body):
    """Whether a hint helped."""

    useful: StrictBool
    agent_id: str | None = Field(None, max_length=255, description="Default: the API key's name.")
