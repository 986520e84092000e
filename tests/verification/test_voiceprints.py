"""Voiceprints through the API and through real calls, with real FSDD voices (committed fixtures)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from store.schema import VoiceprintRow, make_engine
from tests.support.keys import make_key
from tests.support.server import ServerHandle, phone_call, run_cli, start_server

FSDD = Path(__file__).resolve().parents[1] / "fixtures" / "fsdd" / "recordings"
KEY_HEX = "5f" * 32
CONSENT = {"given_by": "customer", "given_at": "2026-11-20T10:00:00Z", "method": "recorded verbal consent",
           "wording_version": "vp-consent-v3"}
GEORGE_PHONE, JACKSON_PHONE = "+380441110001", "+380441110002"


def clips(speaker: str, indices: range) -> list[Path]:
    paths = (FSDD / f"{d}_{speaker}_{i}.wav" for i in indices for d in range(10))
    return [p for p in paths if p.exists()]


def cohort_without(speakers: set[str], out: Path) -> Path:
    """The shipped cohort minus the test's customers: in production callers are never cohort speakers."""
    from biometrics.settings import DEFAULT_COHORT

    data = dict(np.load(DEFAULT_COHORT, allow_pickle=False))
    keep = ~np.isin(data["speakers"], sorted(speakers))
    data["embeddings"], data["speakers"] = data["embeddings"][keep], data["speakers"][keep]
    np.savez(out, **data)
    return out


def joined(paths: list[Path], out: Path, gap_s: float = 0.3) -> Path:
    parts = []
    for p in paths:
        pcm, rate = sf.read(str(p), dtype="int16")
        assert rate == 8000
        parts += [pcm, np.zeros(int(gap_s * rate), np.int16)]
    sf.write(str(out), np.concatenate([np.zeros(4000, np.int16), *parts]), 8000, subtype="PCM_16")
    return out


@pytest.fixture(scope="module")
def bio(tmp_path_factory) -> ServerHandle:
    work = tmp_path_factory.mktemp("bio")
    (work / "vp.key").write_text(KEY_HEX)
    cohort = cohort_without({"george", "jackson"}, work / "cohort.npz")
    handle = start_server(work, {"biometrics": {"enabled": True, "key_file": str(work / "vp.key"),
                                                "cohort_file": str(cohort)},
                                 "asr": {"enabled": False}})
    handle.extra["keys"] = {role: make_key(handle, role)
                            for role in ("security", "agent", "supervisor", "integration")}
    yield handle
    handle.stop()


def client(server: ServerHandle, role: str = "admin"):
    return server.client(server.key if role == "admin" else server.extra["keys"][role])


def upload(paths: list[Path]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (p.name, p.read_bytes(), "audio/wav")) for p in paths]


@pytest.fixture(scope="module")
def customers(bio) -> dict[str, str]:
    with client(bio) as c:
        george = c.post("/api/v1/customers", json={"name": "George", "phones": [GEORGE_PHONE]}).json()["id"]
        jackson = c.post("/api/v1/customers", json={"name": "Jackson", "phones": [JACKSON_PHONE]}).json()["id"]
    with client(bio, "security") as c:
        for cid, speaker in ((george, "george"), (jackson, "jackson")):
            r = c.post(f"/api/v1/customers/{cid}/voiceprint", data={"consent": json.dumps(CONSENT)},
                       files=upload(clips(speaker, range(0, 3))))
            assert r.status_code == 201, r.text
            assert r.json()["enrolled"] and r.json()["net_speech_s"] >= 8.0
    return {"george": george, "jackson": jackson}


def test_enrolment_needs_consent(bio, customers):
    with client(bio, "security") as c:
        r = c.post(f"/api/v1/customers/{customers['george']}/voiceprint", files=upload(clips("george", range(0, 3))))
        assert r.status_code == 409 and "consent" in r.json()["detail"]
        r = c.post(f"/api/v1/customers/{customers['george']}/voiceprint", data={"consent": json.dumps({"method": "x"})},
                   files=upload(clips("george", range(0, 3))))
        assert r.status_code == 422 and "given_by" in r.json()["detail"]


def test_quality_gate_too_little_speech_and_bad_audio(bio, customers):
    with client(bio, "security") as c:
        r = c.post(f"/api/v1/customers/{customers['jackson']}/voiceprint", data={"consent": json.dumps(CONSENT)},
                   files=upload(clips("jackson", range(0, 1))[:4]))
        assert r.status_code == 422
        assert any(reason.startswith("insufficient_speech") for reason in r.json()["detail"]["reasons"])
        r = c.post(f"/api/v1/customers/{customers['jackson']}/voiceprint", data={"consent": json.dumps(CONSENT)},
                   files=[("files", ("notes.wav", b"this is not audio", "audio/wav"))])
        assert r.status_code == 422 and "notes.wav" in r.json()["detail"]


def test_status_and_roles(bio, customers):
    cid = customers["george"]
    with client(bio, "agent") as c:  # an agent reads only the customer of their current call
        assert c.get(f"/api/v1/customers/{cid}/voiceprint").status_code == 403
    with client(bio, "supervisor") as c:
        status = c.get(f"/api/v1/customers/{cid}/voiceprint").json()
        assert status["enrolled"] and status["model_id"] == "resemblyzer-ge2e"
        assert status["consent"]["wording_version"] == "vp-consent-v3"
        assert "template" not in status and "vector" not in json.dumps(status)
    with client(bio, "agent") as c:
        assert c.post(f"/api/v1/customers/{cid}/voiceprint", data={"consent": json.dumps(CONSENT)},
                      files=upload(clips("george", range(0, 3)))).status_code == 403
        assert c.delete(f"/api/v1/customers/{cid}/voiceprint").status_code == 403
    with client(bio, "integration") as c:
        assert c.get(f"/api/v1/customers/{cid}/voiceprint").status_code == 403
        assert c.post("/api/v1/voiceprints/verify", data={"customer_id": cid},
                      files={"file": ("x.wav", b"", "audio/wav")}).status_code == 403


def test_back_office_verify_accepts_the_speaker_and_rejects_another(bio, customers, tmp_path):
    same = joined(clips("george", range(3, 4)), tmp_path / "george.wav")
    other = joined(clips("jackson", range(3, 4)), tmp_path / "jackson.wav")
    with client(bio, "security") as c:
        ok = c.post("/api/v1/voiceprints/verify", data={"customer_id": customers["george"]},
                    files={"file": (same.name, same.read_bytes(), "audio/wav")}).json()
        bad = c.post("/api/v1/voiceprints/verify", data={"customer_id": customers["george"]},
                     files={"file": (other.name, other.read_bytes(), "audio/wav")}).json()
    assert set(ok) == {"score", "decision", "threshold", "net_speech_s", "risk", "reasons"}
    assert bad["risk"] == "high" and ok["risk"] in ("low", "medium") and any("replay" in r for r in ok["reasons"])
    assert ok["decision"] == "verified", ok
    assert bad["decision"] == "not_verified", bad
    assert ok["score"] > ok["threshold"] > bad["score"]
    with client(bio, "admin") as c:  # the decision, not the raw score or threshold: those are security's
        admin = c.post("/api/v1/voiceprints/verify", data={"customer_id": customers["george"]},
                       files={"file": (same.name, same.read_bytes(), "audio/wav")}).json()
    assert admin == {k: ok[k] for k in ("decision", "risk", "reasons", "net_speech_s")}


def test_templates_are_encrypted_at_rest(bio, customers):
    engine = make_engine(bio.db_url)
    from sqlalchemy.orm import Session

    with Session(engine) as s:
        row = s.get(VoiceprintRow, customers["george"])
        assert row is not None
        blob = bytes(row.template)
    engine.dispose()
    from biometrics.crypto import TemplateCipher
    from biometrics.errors import TemplateKeyError
    from biometrics.voiceprint import ModelTag

    tag = ModelTag(row.model_id, row.model_version)
    vector = TemplateCipher(bytes.fromhex(KEY_HEX)).open(blob, customers["george"], tag).vector
    assert vector.astype("<f4").tobytes() not in blob  # stored bytes are not the plaintext embedding
    assert vector[:4].astype("<f4").tobytes() not in blob
    with pytest.raises(TemplateKeyError, match="another key"):
        TemplateCipher(bytes.fromhex("a0" * 32)).open(blob, customers["george"], tag)


def verification_of(server: ServerHandle, sip_call_id: str) -> dict:
    with client(server) as c:
        call = next(x for x in c.get("/api/v1/calls", params={"limit": 500}).json()["calls"]
                    if x["sip_call_id"] == sip_call_id)
    server.wait_call_ended(call["id"])
    deadline = time.monotonic() + 30
    with client(server) as c:
        while time.monotonic() < deadline:
            body = c.get(f"/api/v1/calls/{call['id']}").json()
            if body["verification"] and body["verification"].get("final"):
                return body
            time.sleep(0.2)
    raise AssertionError(f"no final verification: {body}")


@pytest.mark.parametrize(("speaker", "expected"), [("george", "verified"), ("jackson", "not_verified")])
def test_passive_verification_in_a_real_call(bio, customers, tmp_path, speaker, expected):
    audio = joined(clips(speaker, range(3, 4)), tmp_path / f"{speaker}.wav")  # not used for enrolment
    outcome = phone_call(bio.sip_uri, audio, "--caller", "0441110001")  # George's number, national format
    assert outcome["status"] == 200
    call = verification_of(bio, outcome["call_id"])
    assert call["customer_id"] == customers["george"]
    v = call["verification"]
    assert v["decision"] == expected, v
    assert v["net_speech_s"] >= 3.0 and v["threshold"] is not None


def test_caller_without_voiceprint_is_not_enrolled(bio, tmp_path):
    audio = joined(clips("lucas", range(0, 1)), tmp_path / "lucas.wav")
    outcome = phone_call(bio.sip_uri, audio, "--caller", "0449999999")
    with client(bio) as c:
        call = next(x for x in c.get("/api/v1/calls", params={"limit": 500}).json()["calls"]
                    if x["sip_call_id"] == outcome["call_id"])
    bio.wait_call_ended(call["id"])
    with client(bio) as c:
        body = c.get(f"/api/v1/calls/{call['id']}").json()
    assert body["customer_id"] is None
    assert body["verification"]["decision"] == "not_enrolled"


def test_delete_and_audit(bio, customers):
    cid = customers["jackson"]
    with client(bio, "security") as c:
        assert c.delete(f"/api/v1/customers/{cid}/voiceprint").status_code == 204
        assert c.get(f"/api/v1/customers/{cid}/voiceprint").json() == {"enrolled": False}
        assert c.delete(f"/api/v1/customers/{cid}/voiceprint").status_code == 404
        entries = c.get("/api/v1/audit", params={"customer_id": cid}).json()["entries"]
    actions = [(e["action"], e["result"]) for e in entries]
    assert ("delete", "deleted") in actions and ("enroll", "enrolled") in actions
    assert all(e["actor"] and e["role"] and e["at"] for e in entries)
    with client(bio, "security") as c:
        george = c.get("/api/v1/audit", params={"customer_id": customers["george"]}).json()["entries"]
    assert {"verify", "passive_verify", "enroll"} <= {e["action"] for e in george}
    dumped = json.dumps(entries + george)
    assert "vector" not in dumped and "embedding" not in dumped


def test_cli_batch_enroll_verify_delete(bio, customers, tmp_path):
    with client(bio) as c:
        lucas = c.post("/api/v1/customers", json={"name": "Lucas", "phones": []}).json()["id"]
    manifest = tmp_path / "enrol.csv"
    manifest.write_text("".join(f"{lucas},{p}\n" for p in clips("lucas", range(0, 3))))
    consent = tmp_path / "consent.json"
    consent.write_text(json.dumps(CONSENT))
    sec = ["--api", bio.http, "--key", bio.extra["keys"]["security"]]
    out = run_cli("voiceprint", "enroll", "--manifest", str(manifest), "--consent", str(consent), *sec).stdout
    row = json.loads(out.strip().splitlines()[-1])
    assert row["customer_id"] == lucas and row["status"] == 201 and row["result"]["enrolled"]
    # take 3 in reverse digit order: the earlier calls played it in order, and replaying a call is caught
    probe = joined(clips("george", range(3, 4))[::-1], tmp_path / "probe.wav")
    out = run_cli("voiceprint", "verify", customers["george"], str(probe), *sec).stdout
    assert json.loads(out.strip().splitlines()[-1])["result"]["decision"] == "verified"
    out = run_cli("voiceprint", "delete", lucas, *sec).stdout
    assert json.loads(out.strip().splitlines()[-1])["status"] == 204
    agent = run_cli("voiceprint", "delete", customers["george"], "--api", bio.http, "--key",
                    bio.extra["keys"]["agent"], check=False)
    assert agent.returncode == 1 and '"status": 403' in agent.stdout


def test_agent_claims_the_customer_during_a_live_call(bio, customers, tmp_path):
    """An unknown number calls; the agent selects George mid-call; what was already said counts."""
    import threading

    audio = joined(clips("george", range(3, 4)), tmp_path / "george_live.wav", gap_s=0.5)
    result: dict = {}
    caller = threading.Thread(target=lambda: result.update(phone_call(bio.sip_uri, audio, "--caller", "0447770001")))
    caller.start()
    deadline = time.monotonic() + 30
    call = None
    with client(bio) as c:
        while call is None and time.monotonic() < deadline:
            live = c.get("/api/v1/calls", params={"number": "+380447770001"}).json()["calls"]
            call = next((x for x in live if x["state"] == "connected"), None)
            time.sleep(0.05)
        assert call is not None, "the call never showed up as connected"
    with client(bio, "agent") as c:  # an agent who is not on this call may not claim on it
        assert c.put(f"/api/v1/calls/{call['id']}/customer",
                     json={"customer_id": customers["george"]}).status_code == 403
    with client(bio, "supervisor") as c:
        r = c.put(f"/api/v1/calls/{call['id']}/customer", json={"customer_id": customers["george"]})
    assert r.status_code == 200, r.text
    assert r.json()["live"] is True
    caller.join(60)
    assert result.get("status") == 200
    body = verification_of(bio, result["call_id"])
    assert body["customer_id"] == customers["george"]
    assert body["verification"]["decision"] == "verified", body["verification"]
    with client(bio, "supervisor") as c:
        assert c.put(f"/api/v1/calls/{call['id']}/customer", json={"customer_id": "nobody"}).status_code == 404
    with client(bio, "integration") as c:
        assert c.put(f"/api/v1/calls/{call['id']}/customer",
                     json={"customer_id": customers["george"]}).status_code == 403


def test_replaying_an_enrolment_file_through_the_api_and_into_a_live_call_is_a_suspected_replay(bio, tmp_path):
    """Three recordings enrolled; two of them replayed: by file to the verify API, and into a real call."""
    files = [joined(clips("lucas", range(i, i + 1)), tmp_path / f"lucas_take{i}.wav") for i in range(3)]
    with client(bio) as c:
        cid = c.post("/api/v1/customers", json={"name": "Lucas Replay", "phones": ["+380441110003"]}).json()["id"]
    with client(bio, "security") as c:
        r = c.post(f"/api/v1/customers/{cid}/voiceprint", data={"consent": json.dumps(CONSENT)}, files=upload(files))
        assert r.status_code == 201, r.text
        replayed = c.post("/api/v1/voiceprints/verify", data={"customer_id": cid},
                          files={"file": (files[1].name, files[1].read_bytes(), "audio/wav")}).json()
    assert replayed["decision"] == "suspected_replay" and replayed["risk"] == "high", replayed
    assert "replay suspected: matches enrolment recording 2 (file:lucas_take1.wav)" in replayed["reasons"][2]
    with client(bio, "admin") as c:  # the decision and its reasons; the score stays with security
        seen = c.post("/api/v1/voiceprints/verify", data={"customer_id": cid},
                      files={"file": (files[1].name, files[1].read_bytes(), "audio/wav")}).json()
    assert seen["decision"] == "suspected_replay" and "score" not in seen

    outcome = phone_call(bio.sip_uri, files[2], "--caller", "0441110003")  # Lucas's number calls, plays take 2
    assert outcome["status"] == 200
    call = verification_of(bio, outcome["call_id"])
    assert call["customer_id"] == cid
    assert call["verification"]["decision"] == "suspected_replay", call["verification"]
    assert any(r.startswith("replay suspected: matches enrolment recording 3") for r in call["verification"]["reasons"])
    hints = [e for e in call["timeline"] if e["type"] == "hint"]
    assert "rule:suspected_replay" in [h["hint_id"] for h in hints], hints
    with client(bio, "security") as c:
        entries = c.get("/api/v1/audit", params={"customer_id": cid}).json()["entries"]
    replays = [e for e in entries if e["action"] == "replay_check"]
    assert {e["call_id"] for e in replays if e["call_id"]} == {call["id"]}
    assert all(e["result"] == "suspected_replay" for e in replays) and len(replays) == 3  # two by the API, one call
