"""Roles and the principal: who is acting, as far as every package needs to know."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "agent", "security", "integration")


class UnknownRoleError(ValueError):
    """A role name that does not exist."""

    def __init__(self, role: str) -> None:
        super().__init__(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        self.role = role


@dataclass(frozen=True, slots=True)
class Principal:
    """Who an API key belongs to."""

    key_id: int
    role: str
    name: str | None
