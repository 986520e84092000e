"""The customer profile the hint engine reads: plain typed dataclasses the rest of the system fills."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from hints.errors import ContextError

VerificationDecision = Literal["verified", "not_verified", "inconclusive", "suspected_replay"]
CardStatus = Literal["active", "blocked", "expired", "closed"]
VERIFICATION_DECISIONS: frozenset[str] = frozenset({"verified", "not_verified", "inconclusive", "suspected_replay"})


def _aware(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ContextError(name, value, "datetimes must be timezone-aware")


@dataclass(frozen=True)
class Card:
    """A payment card of the customer (``last4`` only: never the full number)."""

    last4: str
    status: CardStatus
    expires: date
    block_reason: str | None = None


@dataclass(frozen=True)
class Document:
    """An identity document on file (``expires`` None: does not expire)."""

    kind: str
    expires: date | None


@dataclass(frozen=True)
class OpenCase:
    """A support case that is still open."""

    case_id: str
    topic: str
    opened: datetime
    summary: str = ""

    def __post_init__(self) -> None:
        _aware(f"open case {self.case_id}.opened", self.opened)


@dataclass(frozen=True)
class Interaction:
    """An earlier contact (call, chat, branch visit) with its topic tags."""

    at: datetime
    topics: tuple[str, ...]
    channel: str = "call"
    summary: str = ""

    def __post_init__(self) -> None:
        _aware("interaction.at", self.at)


@dataclass(frozen=True)
class HintContext:
    """Everything the engine knows about the caller.

    ``flags`` are customer flags such as "vip"; ``verification`` is the identity decision so far
    (None: not verified by any means yet).
    """

    customer_id: str
    flags: frozenset[str] = frozenset()
    cards: tuple[Card, ...] = ()
    documents: tuple[Document, ...] = ()
    open_cases: tuple[OpenCase, ...] = ()
    interactions: tuple[Interaction, ...] = ()
    verification: VerificationDecision | None = None

    def __post_init__(self) -> None:
        if self.verification is not None and self.verification not in VERIFICATION_DECISIONS:
            raise ContextError("verification", self.verification,
                               f"expected one of {sorted(VERIFICATION_DECISIONS)} or None")
