"""Errors of the customer profile store. Each carries its data as attributes."""

from __future__ import annotations

from collections.abc import Iterable


class NotFoundError(LookupError):
    """No ``kind`` (customer, interaction, case, call) with this id."""

    def __init__(self, kind: str, id: str) -> None:
        super().__init__(f"no {kind} {id!r}")
        self.kind = kind
        self.id = id


class InvalidFieldError(ValueError):
    """A field value the store refuses (``allowed`` lists the accepted values when there is a fixed set)."""

    def __init__(self, field: str, value: object, reason: str, allowed: Iterable[str] = ()) -> None:
        super().__init__(f"{field} = {value!r}: {reason}")
        self.field = field
        self.value = value
        self.reason = reason
        self.allowed = tuple(allowed)


class ConflictError(ValueError):
    """The change contradicts data already stored."""


class ExternalIdTakenError(ConflictError):
    """Another customer already has this CRM id."""

    def __init__(self, external_id: str, customer_id: str) -> None:
        super().__init__(f"external id {external_id!r} already belongs to customer {customer_id}")
        self.external_id = external_id
        self.customer_id = customer_id


class CallInteractionExistsError(ConflictError):
    """A voice call already has its interaction (one per call)."""

    def __init__(self, call_id: str, interaction_id: str) -> None:
        super().__init__(f"call {call_id} already has interaction {interaction_id}")
        self.call_id = call_id
        self.interaction_id = interaction_id


class MergeError(ConflictError):
    """Two customers cannot be merged (``reason`` says why)."""

    def __init__(self, source_id: str, target_id: str, reason: str) -> None:
        super().__init__(f"cannot merge customer {source_id} into {target_id}: {reason}")
        self.source_id = source_id
        self.target_id = target_id
        self.reason = reason
