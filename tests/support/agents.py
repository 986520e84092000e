"""Agent phones for tests: ``hotline phone register`` processes whose JSON events are read as they come."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.server import HOTLINE, ROOT, ServerHandle


@dataclass
class AgentPhone:
    """A running registered phone and the events it printed."""

    username: str
    proc: subprocess.Popen[str]
    events: list[dict[str, Any]] = field(default_factory=list)
    _q: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            self.events.append(ev)
            self._q.put(ev)

    def wait(self, event: str, timeout: float = 30) -> dict[str, Any]:
        """The next event named ``event``."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{self.username}: no {event!r} within {timeout} s; got {self.events}")
            try:
                ev = self._q.get(timeout=left)
            except queue.Empty:
                continue
            if ev.get("event") == event:
                return ev

    def stop(self) -> int:
        """SIGTERM (the phone unregisters), then wait."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def register_phone(server: ServerHandle, username: str, password: str, *extra: str) -> AgentPhone:
    """Start a registered agent phone and wait until the server has its binding."""
    log = (server.workdir / f"phone-{username}.log").open("ab")
    proc = subprocess.Popen(
        [*HOTLINE, "phone", "register", f"{username}@127.0.0.1:{server.sip_port}", "--password", password, *extra],
        stdout=subprocess.PIPE, stderr=log, text=True, cwd=ROOT)
    phone = AgentPhone(username, proc)
    threading.Thread(target=phone._pump, daemon=True).start()
    phone.wait("registered")
    return phone


def create_agent(client: httpx.Client, name: str, username: str, password: str, **extra: Any) -> dict[str, Any]:
    """POST /agents."""
    r = client.post("/api/v1/agents", json={"name": name, "username": username, "password": password, **extra})
    assert r.status_code == 201, r.text
    return dict(r.json())


def agent_state(client: httpx.Client, agent_id: str) -> str:
    """The agent's live presence state."""
    r = client.get(f"/api/v1/agents/{agent_id}")
    assert r.status_code == 200, r.text
    return str(r.json()["state"])


def wait_state(client: httpx.Client, agent_id: str, state: str, timeout: float = 20) -> None:
    """Wait until the agent is in ``state``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = agent_state(client, agent_id)
        if last == state:
            return
        time.sleep(0.1)
    raise AssertionError(f"agent {agent_id} is {last}, not {state}")


def stored_agent_row(db_url: str, *, agent_id: str | None = None, username: str | None = None) -> Any:
    """The agent's database row (hashes included), by id or SIP username, read with a fresh store."""
    from sqlalchemy import select

    from store.schema import AgentRow
    from store.store import Store

    store = Store(db_url)
    try:
        with store.sessions() as s:
            query = select(AgentRow).where(AgentRow.id == agent_id if agent_id is not None
                                           else AgentRow.sip_username == username)
            row = s.scalars(query).one()
            s.expunge(row)
            return row
    finally:
        store.close()
