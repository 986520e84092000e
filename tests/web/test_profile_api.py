"""The profile REST API of a real running Hotline: customers, merge, timeline, cases, hint feedback, deliveries."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from store.store import Store
from tests.support.keys import make_key
from tests.support.server import ServerHandle, start_server

ROLES = ("agent", "supervisor", "security", "integration")


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    handle = start_server(tmp_path_factory.mktemp("profile"), {"asr": {"enabled": False}})
    handle.extra["keys"] = {role: make_key(handle, role)
                            for role in ROLES}
    yield handle
    handle.stop()


def as_role(srv: ServerHandle, role: str = "admin") -> httpx.Client:
    return srv.client(srv.key if role == "admin" else srv.extra["keys"][role])


def new_customer(srv: ServerHandle, **fields) -> dict:
    with as_role(srv, "integration") as c:
        r = c.post("/api/v1/customers", json={"name": "Someone", **fields})
    assert r.status_code == 201, r.text
    return r.json()


# -- customers -------------------------------------------------------------------------------------------------


def test_minimal_create_still_works_and_answers_the_profile(srv):
    with as_role(srv) as c:
        r = c.post("/api/v1/customers", json={"name": "Olena", "phones": ["044 123 4500"]})
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["phones"] == ["+380441234500"] and body["name"] == "Olena" and len(body["id"]) == 32
        assert (body["flags"], body["provisional"], body["merged_into"], body["external_id"]) == ([], False, None, None)
        assert c.get(f"/api/v1/customers/{body['id']}").json() == body
        assert c.post("/api/v1/customers", json={"name": "Twin", "phones": ["+380441234500"]}).status_code == 409
        assert c.post("/api/v1/customers", json={"name": "X", "phones": ["not a number"]}).status_code == 422
        assert c.post("/api/v1/customers", json={"phones": []}).status_code == 422


def test_full_profile_create_find_and_patch(srv):
    body = new_customer(srv, name="Ivan Petrenko", phones=["+380501112233"], email="ivan@bank.example",
                        language="uk", segment="premium", flags=["vip", "card_blocked"], external_id="crm-100",
                        cards=[{"last4": "4242", "kind": "debit", "status": "blocked", "expires": "2027-05-31",
                                "block_reason": "lost"}],
                        documents=[{"kind": "passport", "expires": "2030-01-01"}])
    cid = body["id"]
    assert body["cards"] == [{"id": None, "last4": "4242", "kind": "debit", "status": "blocked",
                              "expires": "2027-05-31", "block_reason": "lost"}]
    assert body["documents"] == [{"id": None, "kind": "passport", "expires": "2030-01-01", "status": None}]
    with as_role(srv, "supervisor") as c:
        assert c.get("/api/v1/customers", params={"phone": "050 111 22 33"}).json()["customers"][0]["id"] == cid
        assert c.get("/api/v1/customers", params={"external_id": "crm-100"}).json()["total"] == 1
        assert c.get("/api/v1/customers", params={"external_id": "crm-none"}).json() == {"total": 0, "customers": []}
        found = c.get("/api/v1/customers", params={"q": "petrenko"}).json()
        assert [x["id"] for x in found["customers"]] == [cid]
        assert c.get("/api/v1/customers", params={"phone": "abc"}).status_code == 422
        assert c.patch(f"/api/v1/customers/{cid}", json={"flags": []}).status_code == 403  # agents only read
    with as_role(srv, "integration") as c:
        r = c.patch(f"/api/v1/customers/{cid}", json={"flags": ["vip"], "email": None, "phones": ["0501112234"]})
        assert r.status_code == 200, r.text
        assert (r.json()["flags"], r.json()["email"], r.json()["phones"]) == (["vip"], None, ["+380501112234"])
        assert c.patch(f"/api/v1/customers/{cid}", json={"name": None}).status_code == 422
        assert c.patch(f"/api/v1/customers/{cid}", json={"flags": ["Not A Flag"]}).status_code == 422
        assert c.patch(f"/api/v1/customers/{cid}", json={"cards": [{"number": "4111111111111111"}]}).status_code == 422
        bad_card = {"last4": "4242", "status": "frozen", "expires": "2027-05-31"}
        assert c.patch(f"/api/v1/customers/{cid}", json={"cards": [bad_card]}).status_code == 422
        assert c.patch(f"/api/v1/customers/{cid}", json={"colour": "red"}).status_code == 422
        other = new_customer(srv, external_id="crm-101")
        r = c.patch(f"/api/v1/customers/{other['id']}", json={"external_id": "crm-100"})
        assert r.status_code == 409 and "crm-100" in r.json()["detail"]
        r = c.get("/api/v1/customers/nope")
        assert r.status_code == 404 and r.json()["detail"] == "no customer 'nope'"
        assert c.patch("/api/v1/customers/nope", json={"name": "x"}).status_code == 404


def test_roles_on_customers(srv):
    for role in ("agent", "security", "supervisor"):
        with as_role(srv, role) as c:
            assert c.post("/api/v1/customers", json={"name": "X"}).status_code == 403
            # supervisors and security search; an agent reads only the customer of their current call
            assert c.get("/api/v1/customers").status_code == (403 if role == "agent" else 200)
    with httpx.Client(base_url=srv.http) as anonymous:
        assert anonymous.get("/api/v1/customers").status_code == 401


# -- timeline and cases ----------------------------------------------------------------------------------------


def test_timeline_on_every_channel(srv):
    cid = new_customer(srv)["id"]
    with as_role(srv, "supervisor") as c:
        made = []
        for i, channel in enumerate(("chat", "email", "branch")):
            r = c.post(f"/api/v1/customers/{cid}/interactions",
                       json={"channel": channel, "started_at": f"2026-03-0{i + 1}T10:00:00+02:00",
                             "reason": "limits", "tags": ["cards"], "agent_id": "a1"})
            assert r.status_code == 201, r.text
            made.append(r.json())
        assert made[0]["started_at"] == "2026-03-01T08:00:00+00:00"  # stored in UTC
        page = c.get(f"/api/v1/customers/{cid}/timeline", params={"limit": 2}).json()
        assert page["total"] == 3 and [x["channel"] for x in page["interactions"]] == ["branch", "email"]
        assert c.get(f"/api/v1/customers/{cid}/timeline", params={"channel": "chat"}).json()["total"] == 1
        r = c.patch(f"/api/v1/interactions/{made[0]['id']}",
                    json={"outcome": "resolved", "csi": 5, "summary": "raised limit", "handle_s": 95})
        assert r.status_code == 200 and (r.json()["version"], r.json()["csi"]) == (2, 5)
        assert c.patch(f"/api/v1/interactions/{made[0]['id']}", json={"csi": 6}).status_code == 422
        assert c.patch(f"/api/v1/interactions/{made[0]['id']}", json={"channel": "voice"}).status_code == 422
        assert c.patch("/api/v1/interactions/nope", json={"csi": 1}).status_code == 404
        assert c.post(f"/api/v1/customers/{cid}/interactions", json={"channel": "fax"}).status_code == 422
        assert c.post("/api/v1/customers/nope/interactions", json={"channel": "chat"}).status_code == 404
        assert c.get("/api/v1/customers/nope/timeline").status_code == 404
        r = c.post(f"/api/v1/customers/{cid}/interactions", json={"channel": "voice", "call_id": "c-77"})
        assert r.status_code == 201
        dup = c.post(f"/api/v1/customers/{cid}/interactions", json={"channel": "voice", "call_id": "c-77"})
        assert dup.status_code == 409 and r.json()["id"] in dup.json()["detail"]
    with as_role(srv, "security") as c:
        assert c.get(f"/api/v1/customers/{cid}/timeline").status_code == 200
        assert c.post(f"/api/v1/customers/{cid}/interactions", json={"channel": "chat"}).status_code == 403


def test_cases(srv):
    cid = new_customer(srv)["id"]
    with as_role(srv, "supervisor") as c:
        first = c.post(f"/api/v1/customers/{cid}/cases", json={"title": "Card dispute"})
        assert first.status_code == 201 and first.json()["status"] == "open"
        c.post(f"/api/v1/customers/{cid}/cases", json={"title": "Address change"})
        closed = c.patch(f"/api/v1/cases/{first.json()['id']}", json={"status": "closed"})
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
        assert [x["title"] for x in c.get(f"/api/v1/customers/{cid}/cases", params={"status": "open"})
                .json()["cases"]] == ["Address change"]
        assert len(c.get(f"/api/v1/customers/{cid}/cases").json()["cases"]) == 2
        assert c.patch(f"/api/v1/cases/{first.json()['id']}", json={"status": "pending"}).status_code == 422
        assert c.patch(f"/api/v1/cases/{first.json()['id']}", json={"title": None}).status_code == 422
        assert c.patch("/api/v1/cases/nope", json={"status": "closed"}).status_code == 404
        assert c.post("/api/v1/customers/nope/cases", json={"title": "x"}).status_code == 404


# -- provisional callers, merge, voice interactions, hint feedback ----------------------------------------------


def test_voice_interaction_of_an_unknown_caller_then_merge(srv):
    store = Store(srv.db_url)  # the call service's side: the same database the server uses
    try:
        store.calls.create("call-merge-1", "sip-m1", "+380449990077", None, "+380440000001", "uk")
        store.calls.update("call-merge-1", agent_id="agent-3", wait_s=4.0)
        voice = store.timeline.record_voice_interaction("call-merge-1")
    finally:
        store.close()
    real = new_customer(srv, name="Real Person", external_id="crm-real")
    with as_role(srv, "supervisor") as c:
        prov = c.get("/api/v1/customers", params={"phone": "+380449990077"}).json()["customers"][0]
        assert prov["provisional"] and prov["name"] == "Unknown caller"
        timeline = c.get(f"/api/v1/customers/{prov['id']}/timeline").json()["interactions"]
        assert [(x["id"], x["channel"], x["call_id"], x["transcript_ref"], x["agent_id"], x["wait_s"])
                for x in timeline] == [(voice.id, "voice", "call-merge-1", "/api/v1/calls/call-merge-1/transcript",
                                        "agent-3", 4.0)]
        assert c.post(f"/api/v1/customers/{prov['id']}/merge", json={"into": real["id"]}).status_code == 403
    with as_role(srv, "integration") as c:
        r = c.post(f"/api/v1/customers/{prov['id']}/merge", json={"into": real["id"]})
        assert r.status_code == 200, r.text
        assert r.json() == {"source_id": prov["id"], "target_id": real["id"], "phones": ["+380449990077"],
                            "interactions": 1, "cases": 0, "calls": 0, "voiceprint": "none"}
        assert c.get(f"/api/v1/customers/{prov['id']}").json()["merged_into"] == real["id"]
        assert c.get("/api/v1/customers", params={"phone": "0449990077"}).json()["customers"][0]["id"] == real["id"]
        assert [x["id"] for x in c.get(f"/api/v1/customers/{real['id']}/timeline").json()["interactions"]] == [
            voice.id]
        again = c.post(f"/api/v1/customers/{prov['id']}/merge", json={"into": real["id"]})
        assert again.status_code == 409 and "already merged" in again.json()["detail"]
        assert c.post(f"/api/v1/customers/{real['id']}/merge", json={"into": "nope"}).status_code == 404
        assert c.post(f"/api/v1/customers/{real['id']}/merge", json={}).status_code == 422


def test_hint_feedback(srv):
    store = Store(srv.db_url)
    try:
        store.calls.create("call-hints-1", "sip-h1", None, None, None, "uk")
    finally:
        store.close()
    with as_role(srv, "supervisor") as c:
        r = c.post("/api/v1/calls/call-hints-1/hints/kb:card-block/feedback", json={"useful": True})
        assert r.status_code == 201, r.text
        assert (r.json()["hint_id"], r.json()["useful"], r.json()["call_id"]) == ("kb:card-block", True, "call-hints-1")
        assert r.json()["agent_id"]  # defaults to the key
        c.post("/api/v1/calls/call-hints-1/hints/rule:expiring/feedback", json={"useful": False, "agent_id": "a9"})
        got = c.get("/api/v1/calls/call-hints-1/hints/feedback").json()["feedback"]
        assert [(x["hint_id"], x["useful"], x["agent_id"]) for x in got[:1]] == [("rule:expiring", False, "a9")]
        assert len(got) == 2
        assert c.post("/api/v1/calls/call-hints-1/hints/h/feedback", json={"useful": "maybe"}).status_code == 422
        assert c.post("/api/v1/calls/call-hints-1/hints/h/feedback", json={}).status_code == 422
        r = c.post("/api/v1/calls/nope/hints/h/feedback", json={"useful": True})
        assert r.status_code == 404 and r.json()["detail"] == "no call 'nope'"
        assert c.get("/api/v1/calls/nope/hints/feedback").status_code == 404
    with as_role(srv, "integration") as c:
        assert c.post("/api/v1/calls/call-hints-1/hints/h/feedback", json={"useful": True}).status_code == 403


def test_deliveries_are_for_admins(srv):
    with as_role(srv) as c:
        body = c.get("/api/v1/webhooks/deliveries", params={"status": "failed"}).json()
        assert body == {"total": 0, "deliveries": []}  # no targets configured on this server
        assert c.get("/api/v1/webhooks/deliveries", params={"status": "lost"}).status_code == 422
        assert c.post("/api/v1/webhooks/deliveries/12345/redeliver").status_code == 404
    for role in ROLES:
        with as_role(srv, role) as c:
            assert c.get("/api/v1/webhooks/deliveries").status_code == 403


def test_timeline_export_is_redacted_unless_raw_is_allowed(srv):
    cid = new_customer(srv)["id"]
    said = "card 4111 1111 1111 1111 lost, mail me at olena@example.com"
    with as_role(srv, "supervisor") as c:
        r = c.post(f"/api/v1/customers/{cid}/interactions", json={"channel": "chat", "reason": said, "notes": said})
        assert r.status_code == 201, r.text
        page = c.get(f"/api/v1/customers/{cid}/timeline").json()
        item = page["interactions"][0]
        assert page["redacted"] is True
        assert "4111" not in item["reason"] and "[CARD]" in item["reason"] and "[EMAIL]" in item["notes"]
        assert c.get(f"/api/v1/customers/{cid}/timeline", params={"raw": "true"}).status_code == 403
    with as_role(srv, "admin") as c:
        page = c.get(f"/api/v1/customers/{cid}/timeline", params={"raw": "true"}).json()
    assert page["redacted"] is False and page["interactions"][0]["reason"] == said
