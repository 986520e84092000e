"""API keys for tests: one per role; an agent key is bound to an agent (made for it unless given)."""

from __future__ import annotations

import secrets

from tests.support.server import ServerHandle, run_cli

AGENT_PASSWORD = "bound-agent-secret-1"


def make_agent(server: ServerHandle, username: str | None = None) -> str:
    """A new agent (through the admin API); its id."""
    username = username or f"keyagent-{secrets.token_hex(3)}"
    with server.client() as c:
        r = c.post("/api/v1/agents", json={"name": f"Agent {username}", "username": username,
                                           "password": AGENT_PASSWORD})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])


def make_key(server: ServerHandle, role: str, agent_id: str | None = None) -> str:
    """A key of ``role`` (``hotline keys create``); an agent key acts for ``agent_id`` (a new agent if None)."""
    args = ["keys", "create", "--role", role, "--db", server.db_url]
    if role == "agent":
        args += ["--agent", agent_id or make_agent(server)]
    return run_cli(*args).stdout.strip().splitlines()[-1]
