"""Recognition unavailable: calls are still answered and the call record says why."""

from __future__ import annotations

import pytest

from tests.support.server import NO_AGENTS, ServerHandle, phone_call, start_server


@pytest.fixture(scope="module")
def no_model_server(tmp_path_factory) -> ServerHandle:
    handle = start_server(tmp_path_factory.mktemp("nomodel"),
                          {"asr": {"model": "/nonexistent/vosk-model"}, **NO_AGENTS})
    yield handle
    handle.stop()


def test_start_up_warns_and_health_reports_it(no_model_server):
    assert "speech recognition unavailable" in no_model_server.log()
    with no_model_server.client() as c:
        assert c.get("/health").json()["recognition"] == "unavailable"


def test_call_is_answered_and_record_says_recognition_unavailable(no_model_server, speech_dir):
    outcome = phone_call(no_model_server.sip_uri, speech_dir / "ko_hello_8k.wav")
    assert outcome["status"] == 200
    ended = no_model_server.wait_call_ended()[0]
    assert ended["end_reason"] == "caller_hangup"
    assert ended["recognition"] == "unavailable"
    assert "/nonexistent/vosk-model" in ended["recognition_note"]
    with no_model_server.client() as c:
        assert c.get(f"/api/v1/calls/{ended['id']}/transcript").json()["segments"] == []
