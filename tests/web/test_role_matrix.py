"""Every route against every role: who may read and act on which call and customer.

Agent A (Anna, signed in to the console) holds call A, whose customer is C_A; agent B holds call B with
customer C_B. Each row names an operation and the roles allowed; ``agent`` means Anna on *her own* call or
customer. For operations on a call or a customer, Anna is also sent at B's (``scoped``): that must be 403.
An allowed request may still answer 404, 409, 422 or 503 (no live call, biometrics off...); a refused one
answers 403. The table must name every operation of the OpenAPI schema, so a new route needs its row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.config import Settings
from calls.bus import EventBus
from calls.context import AppContext
from console.sessions import COOKIE, CSRF_HEADER
from core.metrics import Metrics
from media.ports import PortAllocator
from profiles.records import InteractionDraft
from store.store import Store
from tests.support.inproc import serve_in_thread
from web.app import create_app

PASSWORD = "matrix-secret-1"
KEY_ROLES = ("admin", "supervisor", "security", "integration")
READERS = "admin supervisor security integration agent"


@dataclass(frozen=True)
class Op:
    """One operation: method, path template ({call} {customer} {interaction} {case} {agent}), body, roles."""

    method: str
    path: str
    allowed: str
    body: Any = None
    scoped: bool = True  # on a call or customer: Anna at B's must be refused
    form: bool = False
    fill: tuple[tuple[str, str], ...] = ()  # placeholder values of this row only


OPS = [
    Op("GET", "/api/v1/calls", READERS, scoped=False),
    Op("GET", "/api/v1/calls/{call}", READERS),
    Op("GET", "/api/v1/calls/{call}/transcript", READERS),
    Op("PUT", "/api/v1/calls/{call}/customer", "admin supervisor security agent", {"customer_id": "{customer}"}),
    Op("POST", "/api/v1/calls/{call}/transfer", "admin supervisor agent", {"queue": "general"}),
    Op("POST", "/api/v1/calls/{call}/consult", "admin supervisor agent", {"agent_id": "{agent}"}),
    Op("POST", "/api/v1/calls/{call}/consult/{action}", "admin supervisor agent"),
    Op("POST", "/api/v1/calls/{call}/wrapup", "admin supervisor agent", {"outcome": "resolved"}),
    Op("POST", "/api/v1/calls/{call}/hints/{hint_id}/feedback", "admin supervisor agent", {"useful": True}),
    Op("GET", "/api/v1/calls/{call}/hints/feedback", READERS),
    Op("GET", "/api/v1/customers", "admin supervisor security integration", scoped=False),
    Op("POST", "/api/v1/customers", "admin integration", {"name": "New"}, scoped=False),
    Op("GET", "/api/v1/customers/{customer}", READERS),
    Op("PATCH", "/api/v1/customers/{customer}", "admin integration", {"segment": "retail"}, scoped=False),
    Op("POST", "/api/v1/customers/{customer}/merge", "admin integration", {"into": "nobody"}, scoped=False),
    Op("GET", "/api/v1/customers/{customer}/timeline", READERS),
    Op("POST", "/api/v1/customers/{customer}/interactions", "admin supervisor integration agent",
       {"channel": "chat"}),
    Op("PATCH", "/api/v1/interactions/{interaction}", "admin supervisor integration agent", {"summary": "ok"}),
    Op("GET", "/api/v1/customers/{customer}/cases", READERS),
    Op("POST", "/api/v1/customers/{customer}/cases", "admin supervisor integration agent", {"title": "Card"}),
    Op("PATCH", "/api/v1/cases/{case}", "admin supervisor integration", {"title": "Card 2"}, scoped=False),
    Op("GET", "/api/v1/customers/{customer}/voiceprint", "admin supervisor security agent"),
    Op("POST", "/api/v1/customers/{customer}/voiceprint", "security", {"consent": "{}"}, scoped=False, form=True),
    Op("DELETE", "/api/v1/customers/{customer}/voiceprint", "security", scoped=False),
    Op("POST", "/api/v1/voiceprints/verify", "admin security", {"customer_id": "{customer}"}, scoped=False,
       form=True),
    Op("GET", "/api/v1/audit", "admin security", scoped=False),
    Op("GET", "/api/v1/agents", "admin supervisor security agent", scoped=False),
    Op("GET", "/api/v1/agents/{agent_id}", "admin supervisor security agent", scoped=False),
    Op("POST", "/api/v1/agents", "admin", {"name": "Olga", "username": "olga", "password": PASSWORD},
       scoped=False),
    Op("PATCH", "/api/v1/agents/{agent_id}", "admin", {"name": "Anna P."}, scoped=False),
    Op("DELETE", "/api/v1/agents/{agent_id}", "admin", scoped=False, fill=(("agent_id", "nobody"),)),
    Op("PUT", "/api/v1/agents/{agent_id}/status", "admin supervisor agent", {"status": "away"}),
    Op("GET", "/api/v1/queues", "admin supervisor security agent", scoped=False),
    Op("GET", "/api/v1/webhooks/deliveries", "admin", scoped=False),
    Op("POST", "/api/v1/webhooks/deliveries/{delivery_id}/redeliver", "admin", scoped=False),
    Op("GET", "/metrics", READERS, scoped=False),
]
PUBLIC = {("GET", "/health"), ("POST", "/console/login"), ("GET", "/console/session"), ("POST", "/console/logout")}


@dataclass
class World:
    base: str
    keys: dict[str, str]
    ids: dict[str, dict[str, str]]  # "own" / "other" -> placeholder values
    csrf: str
    cookie: str
    store: Store

    def client(self, role: str) -> httpx.Client:
        if role == "agent":
            return httpx.Client(base_url=self.base, timeout=30, cookies={COOKIE: self.cookie},
                                headers={CSRF_HEADER: self.csrf, "Origin": self.base})
        return httpx.Client(base_url=self.base, timeout=30, headers={"Authorization": f"Bearer {self.keys[role]}"})


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'm.db'}")
    store.migrate()
    keys = {role: store.keys.create(role) for role in KEY_ROLES}
    anna = store.agents.create("Anna", "anna", PASSWORD, "hotline")
    boris = store.agents.create("Boris", "boris", PASSWORD, "hotline")
    ctx = AppContext(Settings(), store, EventBus(), Metrics(), PortAllocator(40000, 40010))
    ids: dict[str, dict[str, str]] = {}
    for side, agent, phone in (("own", anna, "+380441230001"), ("other", boris, "+380441230002")):
        ctx.board.sync(agent.info())
        customer = store.customers.create(f"Customer of {agent.name}", [phone])
        call_id = f"call-{agent.username}"
        store.calls.create(call_id, f"sip-{call_id}", phone, None, "100", "uk")
        store.calls.update(call_id, agent_id=agent.id)
        store.calls.set_customer(call_id, customer)
        presence = ctx.board.find(agent.id)
        assert presence is not None
        presence.call_id = call_id  # the agent is on this call (the board's own field, set as routing would)
        interaction = store.timeline.add_interaction(InteractionDraft(customer_id=customer, channel="chat")).id
        case = store.timeline.create_case(customer, "Open case").id
        ids[side] = {"call": call_id, "customer": customer, "interaction": interaction, "case": case,
                     "agent_id": agent.id, "agent": boris.id if side == "own" else anna.id,
                     "action": "cancel", "hint_id": "kb:card", "delivery_id": "1"}
    with serve_in_thread(create_app(ctx)) as base:
        login = httpx.post(f"{base}/console/login", json={"username": "anna", "password": PASSWORD},
                           headers={"Origin": base})
        assert login.status_code == 200, login.text
        yield World(base, keys, ids, login.json()["csrf_token"], login.cookies[COOKIE], store)
    store.close()


def _fill(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, str):
        for name, value in values.items():
            template = template.replace("{" + name + "}", value)
        return template
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    return template


def _send(world: World, role: str, op: Op, side: str) -> httpx.Response:
    values = {**world.ids[side], **dict(op.fill)}
    with world.client(role) as c:
        body = _fill(op.body, values)
        if op.form:
            return c.request(op.method, _fill(op.path, values), data=body,
                             files={"file": ("x.wav", b"RIFF", "audio/wav")})
        return c.request(op.method, _fill(op.path, values), json=body)


@pytest.mark.parametrize("op", OPS, ids=lambda op: f"{op.method} {op.path}")
def test_every_role_on_every_route(world: World, op: Op) -> None:
    allowed = set(op.allowed.split())
    for role in (*KEY_ROLES, "agent"):
        r = _send(world, role, op, "own")
        if role in allowed:
            assert r.status_code not in (401, 403), f"{role} refused: {r.status_code} {r.text}"
        else:
            assert r.status_code == 403, f"{role} let through: {r.status_code} {r.text}"
    if op.scoped and "agent" in allowed:
        r = _send(world, "agent", op, "other")
        assert r.status_code == 403, f"Anna acted on Boris's call or customer: {r.status_code} {r.text}"


def test_the_table_names_every_operation(world: World) -> None:
    schema = httpx.get(f"{world.base}/openapi.json").json()
    def shape(path: str) -> str:  # parameter names differ ({call} here, {call_id} there): compare the shape
        return re.sub(r"\{[^}]+\}", "{}", path)

    documented = {(m.upper(), shape(p)) for p, ops in schema["paths"].items() for m in ops}
    public = {(m, shape(p)) for m, p in PUBLIC}
    assert documented - public == {(op.method, shape(op.path)) for op in OPS}


def test_an_agent_lists_only_their_own_calls_and_a_key_bound_to_no_agent_none(world: World) -> None:
    with world.client("agent") as c:
        assert [x["id"] for x in c.get("/api/v1/calls").json()["calls"]] == ["call-anna"]
    with world.client("supervisor") as c:
        assert {x["id"] for x in c.get("/api/v1/calls").json()["calls"]} == {"call-anna", "call-boris"}
    unbound = world.store.keys.create("agent")
    with httpx.Client(base_url=world.base, headers={"Authorization": f"Bearer {unbound}"}) as c:
        assert c.get("/api/v1/calls").json()["calls"] == []
        assert c.get("/api/v1/calls/call-anna").status_code == 403


def test_an_interaction_write_cannot_set_verification(world: World) -> None:
    forged = {"channel": "voice", "verification": {"decision": "verified", "method": "voiceprint"}}
    with world.client("integration") as c:
        r = c.post(f"/api/v1/customers/{world.ids['own']['customer']}/interactions", json=forged)
        assert r.status_code == 422 and "verification" in r.text
        r = c.patch(f"/api/v1/interactions/{world.ids['own']['interaction']}",
                    json={"verification": {"decision": "verified"}})
        assert r.status_code == 422 and "verification" in r.text
