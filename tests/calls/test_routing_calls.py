"""Callers reach agents: real agent phones (pjsua2) register, real callers are queued, offered and bridged."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.support.agents import AgentPhone, agent_state, create_agent, register_phone, wait_state
from tests.support.server import ServerHandle, phone_call, start_server

PASSWORD = "agent-secret-1"
KNOWLEDGE_KO = Path(__file__).parents[1] / "fixtures" / "knowledge_ko"


@pytest.fixture(scope="module")
def rserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """A server with routing: short no-answer and wrap-up times so tests run quickly."""
    handle = start_server(tmp_path_factory.mktemp("routing"), {
        "routing": {"no_answer_s": 3, "max_misses": 2, "wrap_up_s": 1, "announce_every_s": 1.5,
                    "greeting_text": "안녕하세요. 무엇을 도와드릴까요?", "greeting_voice": "ko",
                    "announce_cache_dir": str(tmp_path_factory.mktemp("announce"))},
        "media": {"record_calls": True},
        "hints": {"knowledge_dir": str(KNOWLEDGE_KO)},
    })
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def agents(rserver: ServerHandle) -> dict[str, dict[str, Any]]:
    with rserver.client() as c:
        return {u: create_agent(c, f"Agent {u}", u, PASSWORD, languages=[], skills=[])
                for u in ("anna", "boris", "chen", "dana")}


@pytest.fixture
def phones(rserver: ServerHandle) -> Iterator[list[AgentPhone]]:
    started: list[AgentPhone] = []
    yield started
    for p in started:
        p.stop()


def timeline(server: ServerHandle, call_id: str) -> list[dict[str, Any]]:
    with server.client() as c:
        return list(c.get(f"/api/v1/calls/{call_id}").json()["timeline"])


def kinds(server: ServerHandle, call_id: str) -> list[str]:
    return [e["type"] for e in timeline(server, call_id)]


def call_for(server: ServerHandle, sip_call_id: str) -> dict[str, Any]:
    with server.client() as c:
        calls = c.get("/api/v1/calls", params={"limit": 500}).json()["calls"]
    found = [x for x in calls if x["sip_call_id"] == sip_call_id]
    assert len(found) == 1, found
    return found[0]


def test_caller_reaches_agent_both_legs_transcribed(rserver, agents, phones, speech_dir, tmp_path):
    rec = tmp_path / "agent.wav"
    phones.append(register_phone(rserver, "anna", PASSWORD, "--auto-answer", "--play",
                                 str(speech_dir / "ko_hello_8k.wav"), "--record", str(rec)))
    with rserver.client() as c:
        wait_state(c, agents["anna"]["id"], "available")
    outcome = phone_call(rserver.sip_uri, speech_dir / "ko_two_8k.wav", "--hangup-after", "9")
    assert outcome["status"] == 200, outcome
    call = call_for(rserver, outcome["call_id"])
    ended = rserver.wait_call_ended(call["id"])[0]
    assert ended["agent_id"] == agents["anna"]["id"]
    assert ended["queue"] == "general" and ended["wait_s"] is not None
    assert ended["end_reason"] == "caller_hangup"
    k = kinds(rserver, call["id"])
    assert k.index("queued") < k.index("offered") < k.index("agent_connected")
    with rserver.client() as c:
        segs = c.get(f"/api/v1/calls/{call['id']}/transcript").json()["segments"]
    legs = {s["leg"] for s in segs}
    assert legs == {"caller", "agent"}, segs
    hints = [e for e in timeline(rserver, call["id"]) if e["type"] == "hint"]
    assert [h["hint_id"] for h in hints] == ["kb:greeting-test"], hints  # fired once, by the caller's words
    assert hints[0]["leg"] == "caller" and "연파" in hints[0]["why"]
    with rserver.client() as c:  # handed to the customer's timeline at hang-up (a provisional customer)
        customers = c.get("/api/v1/customers", params={"phone": ended["caller_number"]}).json()
    assert customers
    # the agent heard the caller through the bridge
    pcm, _ = sf.read(str(rec), dtype="int16")
    assert np.sqrt(np.mean(pcm.astype(np.float64) ** 2)) > 300
    with rserver.client() as c:
        wait_state(c, agents["anna"]["id"], "available")  # after wrap-up


def call_async(server: ServerHandle, wav: Path, *extra: str) -> Any:
    pool = ThreadPoolExecutor(1)
    return pool.submit(phone_call, server.sip_uri, wav, *extra)


def test_no_answer_goes_to_next_agent_then_away_after_misses(rserver, agents, phones, speech_dir):
    phones.append(register_phone(rserver, "boris", PASSWORD))  # rings, never answers; longest idle
    time.sleep(0.3)
    phones.append(register_phone(rserver, "chen", PASSWORD, "--auto-answer"))
    with rserver.client() as c:
        wait_state(c, agents["boris"]["id"], "available")
        wait_state(c, agents["chen"]["id"], "available")
    outcome = phone_call(rserver.sip_uri, speech_dir / "ko_hello_8k.wav", "--hangup-after", "6")
    call = call_for(rserver, outcome["call_id"])
    ended = rserver.wait_call_ended(call["id"])[0]
    assert ended["agent_id"] == agents["chen"]["id"]
    events = [(e["type"], e.get("agent_id")) for e in timeline(rserver, call["id"])]
    assert events.index(("offered", agents["boris"]["id"])) < events.index(("no_answer", agents["boris"]["id"]))
    assert events.index(("no_answer", agents["boris"]["id"])) < events.index(("agent_connected", agents["chen"]["id"]))
    with rserver.client() as c:
        assert c.get(f"/api/v1/agents/{agents['boris']['id']}").json()["state"] == "available"  # 1 miss of 2
        wait_state(c, agents["chen"]["id"], "available")
        r = c.put(f"/api/v1/agents/{agents['chen']['id']}/status", json={"status": "away"})
        assert r.status_code == 200, r.text
    # boris is the only one left: second miss in a row sets him away, the caller abandons meanwhile
    outcome = phone_call(rserver.sip_uri, speech_dir / "ko_hello_8k.wav", "--hangup-after", "5")
    call = call_for(rserver, outcome["call_id"])
    ended = rserver.wait_call_ended(call["id"])[0]
    assert ended["end_reason"] == "abandoned" and ended["agent_id"] is None
    assert 4 <= ended["wait_s"] <= 8
    with rserver.client() as c:
        wait_state(c, agents["boris"]["id"], "away")
        assert c.put(f"/api/v1/agents/{agents['chen']['id']}/status", json={"status": "available"}).status_code == 200
    assert "abandoned" in kinds(rserver, call["id"])


def test_agent_hangup_ends_caller_leg(rserver, agents, phones, speech_dir):
    phones.append(register_phone(rserver, "dana", PASSWORD, "--auto-answer", "--hangup-after", "2"))
    with rserver.client() as c:
        for u in ("anna", "boris", "chen"):
            if c.get(f"/api/v1/agents/{agents[u]['id']}").json()["state"] == "available":
                c.put(f"/api/v1/agents/{agents[u]['id']}/status", json={"status": "away"})
        wait_state(c, agents["dana"]["id"], "available")
    t0 = time.monotonic()
    outcome = phone_call(rserver.sip_uri, speech_dir / "ko_hello_8k.wav", "--hangup-after", "20")
    assert time.monotonic() - t0 < 15  # the caller was hung up on, not by its own timer
    call = call_for(rserver, outcome["call_id"])
    ended = rserver.wait_call_ended(call["id"])[0]
    assert ended["end_reason"] == "agent_hangup"
    assert ended["agent_id"] == agents["dana"]["id"]


def test_transfer_by_api_and_by_refer(rserver, agents, phones, speech_dir):
    with rserver.client() as c:
        for u in agents:
            c.put(f"/api/v1/agents/{agents[u]['id']}/status", json={"status": "away"})
    # anna transfers by REFER to chen after 2 s; chen is transferred by the API to dana
    phones.append(register_phone(rserver, "anna", PASSWORD, "--auto-answer", "--transfer-to",
                                 f"sip:chen@127.0.0.1:{rserver.sip_port}", "--transfer-after", "2"))
    phones.append(register_phone(rserver, "chen", PASSWORD, "--auto-answer"))
    phones.append(register_phone(rserver, "dana", PASSWORD, "--auto-answer"))
    with rserver.client() as c:
        for u in ("anna", "chen", "dana"):
            assert c.put(f"/api/v1/agents/{agents[u]['id']}/status",
                         json={"status": "available" if u == "anna" else "away"}).status_code == 200
    fut = call_async(rserver, speech_dir / "ko_two_8k.wav", "--hangup-after", "14")
    with rserver.client() as c:
        wait_state(c, agents["anna"]["id"], "on_call")
        c.put(f"/api/v1/agents/{agents['chen']['id']}/status", json={"status": "available"})
        wait_state(c, agents["chen"]["id"], "on_call", timeout=15)
        call_id = next(cid for cid, in [(x["id"],) for x in c.get("/api/v1/calls").json()["calls"]
                                         if x["state"] != "ended"])
        c.put(f"/api/v1/agents/{agents['dana']['id']}/status", json={"status": "available"})
        r = c.post(f"/api/v1/calls/{call_id}/transfer", json={"agent_id": agents["dana"]["id"]})
        assert r.status_code == 200, r.text
        wait_state(c, agents["dana"]["id"], "on_call", timeout=15)
        assert c.post(f"/api/v1/calls/{call_id}/transfer", json={"queue": "nope"}).status_code == 404
        assert c.post("/api/v1/calls/nope/transfer", json={"queue": "general"}).status_code == 404
    outcome = fut.result(60)
    assert outcome["status"] == 200
    ended = rserver.wait_call_ended(call_id)[0]
    assert ended["agent_id"] == agents["dana"]["id"]
    events = [(e["type"], e.get("by", ""), e.get("agent_id")) for e in timeline(rserver, call_id)]
    transfers = [e for e in events if e[0] == "transferred"]
    assert transfers[0][1] == "refer" and transfers[0][2] == agents["chen"]["id"]
    assert transfers[1][1].startswith("api:") and transfers[1][2] == agents["dana"]["id"]
    connected = [e[2] for e in events if e[0] == "agent_connected"]
    assert connected == [agents["anna"]["id"], agents["chen"]["id"], agents["dana"]["id"]]


def test_routing_order_three_agents_five_callers(rserver, agents, phones, speech_dir):
    """FIFO callers, longest-idle agent first; callers 4 and 5 go to whoever is free first."""
    order = ("anna", "boris", "chen")
    for u in order:
        phones.append(register_phone(rserver, u, PASSWORD, "--auto-answer"))
    with rserver.client() as c:
        for u in agents:
            c.put(f"/api/v1/agents/{agents[u]['id']}/status", json={"status": "away"})
        for u in order:  # idle order: anna longest
            assert c.put(f"/api/v1/agents/{agents[u]['id']}/status", json={"status": "available"}).status_code == 200
            time.sleep(0.2)
    pool = ThreadPoolExecutor(5)
    futures = []
    holds = ("20", "21", "22", "40", "40")  # callers 1-3 leave in arrival order; 4 and 5 wait for them
    for i, hold in enumerate(holds):
        number = f"+38044555000{i}"
        futures.append(pool.submit(phone_call, rserver.sip_uri, speech_dir / "ko_hello_8k.wav",
                                   "--hangup-after", hold, "--caller", number))
        wait_queued(rserver, number)  # arrival order is the order of this loop
    with rserver.client() as c:
        queues = c.get("/api/v1/queues").json()["queues"]
    general = next(q for q in queues if q["name"] == "general")
    assert general["waiting"] == 2 and general["available_agents"] == 0  # callers 4 and 5 wait; nobody idles
    assert [x["position"] for x in general["callers"]] == [1, 2]
    outcomes = [f.result(90) for f in futures]
    calls = [call_for(rserver, o["call_id"]) for o in outcomes]
    ended = [rserver.wait_call_ended(c["id"])[0] for c in calls]
    by_id = {a["id"]: u for u, a in agents.items()}
    assert [by_id.get(e["agent_id"]) for e in ended] == ["anna", "boris", "chen", "anna", "boris"]
    waits = [e["wait_s"] for e in ended]
    assert max(waits[:3]) < 1.0 < min(waits[3:])


def wait_queued(server: ServerHandle, number: str, timeout: float = 30) -> None:
    """Wait until the call from ``number`` is queued (or already with an agent)."""
    deadline = time.monotonic() + timeout
    with server.client() as c:
        while time.monotonic() < deadline:
            calls = c.get("/api/v1/calls", params={"number": number}).json()["calls"]
            if calls and calls[0]["queued_at"]:
                return
            time.sleep(0.1)
    raise AssertionError(f"call from {number} was not queued")


SCENARIOS = Path(__file__).parent / "scenarios"
REGISTER = Path(__file__).parents[1] / "voice" / "scenarios" / "register_ok.xml"


def test_sipp_uas_as_agent_phone(rserver, agents, phones, speech_dir, tmp_path):
    """sipp registers (digest) from port P, then a sipp UAS on P takes the bridged call."""
    import shutil
    import subprocess

    from tests.support.net import free_port

    sipp = shutil.which("sipp")
    assert sipp is not None, "sipp is not installed (make test installs sip-tester)"
    with rserver.client() as c:
        for u in agents:
            if c.get(f"/api/v1/agents/{agents[u]['id']}").json()["state"] not in ("offline", "away"):
                c.put(f"/api/v1/agents/{agents[u]['id']}/status", json={"status": "away"})
        r = c.post("/api/v1/agents", json={"name": "Sipp", "username": "sippagent", "password": PASSWORD})
        assert r.status_code == 201, r.text
        sipp_agent = r.json()
    port = free_port()
    common = ["-t", "u1", "-i", "127.0.0.1", "-p", str(port), "-m", "1", "-timeout", "30", "-timeout_error",
              "-nostdin", "-trace_err"]
    reg = subprocess.run([sipp, "-sf", str(REGISTER), *common, "-s", "sippagent", "-au", "sippagent", "-ap",
                          PASSWORD, "-key", "expires", "300", f"127.0.0.1:{rserver.sip_port}"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=40)
    assert reg.returncode == 0, reg.stdout[-2000:] + reg.stderr[-2000:]
    with rserver.client() as c:
        wait_state(c, sipp_agent["id"], "available")
    uas = subprocess.Popen([sipp, "-sf", str(SCENARIOS / "agent_uas.xml"), *common, "-mp", str(free_port())],
                           cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        outcome = phone_call(rserver.sip_uri, speech_dir / "ko_hello_8k.wav", "--hangup-after", "4")
        assert uas.wait(30) == 0, (uas.stdout.read() if uas.stdout else "")[-3000:]
    finally:
        if uas.poll() is None:
            uas.kill()
    call = call_for(rserver, outcome["call_id"])
    ended = rserver.wait_call_ended(call["id"])[0]
    assert ended["agent_id"] == sipp_agent["id"] and ended["end_reason"] == "caller_hangup"
    with rserver.client() as c:
        assert c.delete(f"/api/v1/agents/{sipp_agent['id']}").status_code == 204


def test_wrong_password_phone_cannot_register(rserver, agents):
    from tests.support.server import run_cli

    bad = run_cli("phone", "register", f"anna@127.0.0.1:{rserver.sip_port}", "--password", "wrong-password",
                  "--register-timeout", "10", check=False, timeout=60)
    assert bad.returncode == 3, bad.stderr
    assert "403" in bad.stderr
    unknown = run_cli("phone", "register", f"nobody@127.0.0.1:{rserver.sip_port}", "--password", PASSWORD,
                      "--register-timeout", "10", check=False, timeout=60)
    assert unknown.returncode == 3 and "403" in unknown.stderr


def metric_samples(server: ServerHandle) -> dict[str, float]:
    with server.client() as c:
        text = c.get("/metrics").text
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
            if line and not line.startswith("#")}


def test_abandon_is_counted_in_metrics(rserver, agents, speech_dir):
    with rserver.client() as c:
        for u in agents:
            if c.get(f"/api/v1/agents/{agents[u]['id']}").json()["state"] == "available":
                c.put(f"/api/v1/agents/{agents[u]['id']}/status", json={"status": "away"})
    before = metric_samples(rserver)
    outcome = phone_call(rserver.sip_uri, speech_dir / "ko_hello_8k.wav", "--hangup-after", "9")
    ended = rserver.wait_call_ended(call_for(rserver, outcome["call_id"])["id"])[0]
    assert ended["end_reason"] == "abandoned" and ended["wait_s"] >= 8
    after = metric_samples(rserver)
    key = 'hotline_abandoned_calls_total{queue="general"}'
    assert after[key] == before.get(key, 0) + 1
    wait_key = 'hotline_queue_wait_seconds_count{outcome="abandoned"}'
    assert after[wait_key] == before.get(wait_key, 0) + 1
    assert 0 < after["hotline_abandon_rate"] <= 1 and 0 <= after["hotline_service_level"] < 1
    with rserver.client() as c:  # what the caller said while queued is the call's reason, before any agent
        said = [x["text"] for x in c.get(f"/api/v1/calls/{ended['id']}/transcript").json()["segments"]]
    assert said and ended["reason"] == " ".join(said)
    assert "greeting: routing.greeting_text spoken with voice ko" in rserver.log()
    announced = [e for e in timeline(rserver, ended["id"]) if e["type"] == "announced"]
    assert announced and announced[0]["position"] == 1 and announced[0]["expected_wait_min"] >= 1
    for name in ("hotline_time_to_agent_seconds_count",):
        assert any(k.startswith(name) for k in after), name


def test_flagged_customer_is_served_first(rserver, agents, phones, speech_dir):
    vip = "+380445550099"
    with rserver.client() as c:
        r = c.post("/api/v1/customers", json={"name": "Very Important", "phones": [vip], "flags": ["vip"]})
        assert r.status_code == 201, r.text
    phones.append(register_phone(rserver, "anna", PASSWORD, "--auto-answer", "--hangup-after", "3"))
    with rserver.client() as c:
        for u in agents:
            c.put(f"/api/v1/agents/{agents[u]['id']}/status", json={"status": "available" if u == "anna" else "away"})
        wait_state(c, agents["anna"]["id"], "available")
    pool = ThreadPoolExecutor(3)
    futures = []
    for number, hold in (("+380445551001", "20"), ("+380445551002", "20"), (vip, "20")):
        futures.append(pool.submit(phone_call, rserver.sip_uri, speech_dir / "ko_hello_8k.wav",
                                   "--hangup-after", hold, "--caller", number))
        wait_queued(rserver, number)
    with rserver.client() as c:
        general = next(q for q in c.get("/api/v1/queues").json()["queues"] if q["name"] == "general")
    assert [x["priority"] for x in general["callers"]] == [1, 0]  # the VIP is first although they came last
    outcomes = [f.result(90) for f in futures]
    ended = [rserver.wait_call_ended(call_for(rserver, o["call_id"])["id"])[0] for o in outcomes]
    plain_second, vip_call = ended[1], ended[2]
    assert vip_call["agent_connected_at"] < plain_second["agent_connected_at"]


def wait_event(server: ServerHandle, call_id: str, kind: str, timeout: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in timeline(server, call_id) if e["type"] == kind]
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no {kind} event on {call_id}: {kinds(server, call_id)}")


def live_call_id(server: ServerHandle) -> str:
    with server.client() as c:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            live = [x["id"] for x in c.get("/api/v1/calls").json()["calls"] if x["state"] != "ended"]
            if live:
                return str(live[0])
            time.sleep(0.1)
    raise AssertionError("no live call")


def test_warm_transfer_consult_cancel_then_complete(rserver, agents, phones, speech_dir):
    for u in ("anna", "boris"):
        phones.append(register_phone(rserver, u, PASSWORD, "--auto-answer"))
    with rserver.client() as c:
        for u in agents:
            c.put(f"/api/v1/agents/{agents[u]['id']}/status", json={"status": "available" if u == "anna" else "away"})
    fut = call_async(rserver, speech_dir / "ko_hello_8k.wav", "--hangup-after", "25")
    with rserver.client() as c:
        wait_state(c, agents["anna"]["id"], "on_call")
        call_id = live_call_id(rserver)
        assert c.post(f"/api/v1/calls/{call_id}/consult", json={"agent_id": agents["boris"]["id"]}).status_code == 409
        c.put(f"/api/v1/agents/{agents['boris']['id']}/status", json={"status": "available"})
        r = c.post(f"/api/v1/calls/{call_id}/consult", json={"agent_id": agents["boris"]["id"]})
        assert r.status_code == 202, r.text
        wait_event(rserver, call_id, "consult_connected")
        assert agent_state(c, agents["boris"]["id"]) == "on_call" == agent_state(c, agents["anna"]["id"])
        assert c.post(f"/api/v1/calls/{call_id}/consult/cancel").json()["state"] == "cancelled"
        wait_state(c, agents["boris"]["id"], "available")  # after wrap-up
        assert agent_state(c, agents["anna"]["id"]) == "on_call"  # the caller is back with anna
        r = c.post(f"/api/v1/calls/{call_id}/consult", json={"agent_id": agents["boris"]["id"]})
        assert r.status_code == 202, r.text
        wait_event(rserver, call_id, "consult_connected", timeout=30)
        done = c.post(f"/api/v1/calls/{call_id}/consult/complete")
        assert done.status_code == 200 and done.json()["agent_id"] == agents["boris"]["id"], done.text
        assert c.post(f"/api/v1/calls/{call_id}/consult/complete").status_code == 409
        wait_state(c, agents["anna"]["id"], "available")  # her leg ended, wrap-up over
    assert phones[0].wait("ended")["reason"] == "remote_hangup"
    assert fut.result(60)["status"] == 200
    ended = rserver.wait_call_ended(call_id)[0]
    assert ended["agent_id"] == agents["boris"]["id"]
    transfers = [e for e in timeline(rserver, call_id) if e["type"] == "transferred"]
    assert transfers and transfers[-1]["how"] == "consult" and transfers[-1]["from_agent"] == agents["anna"]["id"]
