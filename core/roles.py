"""Roles and the principal: who is acting, as far as every package needs to know."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "supervisor", "agent", "security", "integration")


class UnknownRoleError(ValueError):
    """A role name that does not exist."""

    def __init__(self, role: str) -> None:
        super().__init__(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        self.role = role


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: an API key, or an agent's console session (``key_id`` 0).

    ``agent_id`` is the agent an ``agent`` principal stands for (a console session's agent, or the agent a key
    is bound to); an ``agent`` principal without one owns no call.
    """

    key_id: int
    role: str
    name: str | None
    agent_id: str | None = None
