"""The end-to-end call path: a real softphone calls a real server; the stored transcript is checked."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from asr.offline import decode_offline, load_model
from media.vad import VadGate
from tests.support.audio import codec_round_trip, ko_model_path
from tests.support.server import ServerHandle, phone_call


@pytest.fixture(scope="module")
def ko_model():
    return load_model(ko_model_path())


def reference(ko_model, wav: Path, codec: str = "PCMU") -> list[str]:
    """Vosk's offline decode of the same audio after the same codec round trip, same VAD gating."""
    return decode_offline(ko_model, codec_round_trip(wav, codec), VadGate(2, 300, 300)).texts


def transcript(server: ServerHandle, call_id: str) -> list[str]:
    with server.client() as c:
        body = c.get(f"/api/v1/calls/{call_id}/transcript").json()
    assert body["call_id"] == call_id
    return [s["text"] for s in body["segments"] if s["leg"] == "caller"]


def only_call_for(server: ServerHandle, sip_call_id: str) -> dict:
    with server.client() as c:
        calls = c.get("/api/v1/calls", params={"limit": 500}).json()["calls"]
    match = [x for x in calls if x["sip_call_id"] == sip_call_id]
    assert len(match) == 1, f"expected one call for {sip_call_id}, got {match}"
    return match[0]


def recording(server: ServerHandle, call_id: str) -> np.ndarray:
    """What the server heard on the caller leg (media.record_calls is on in the test server)."""
    pcm, rate = sf.read(str(server.workdir / "rec" / f"{call_id}-caller.wav"), dtype="int16")
    assert rate == 16000
    return pcm


def test_pcmu_call_transcript_equals_offline_decode(server, speech_dir, ko_model):
    wav = speech_dir / "ko_two_8k.wav"
    outcome = phone_call(server.sip_uri, wav, "--codec", "pcmu")
    assert outcome["status"] == 200, outcome
    assert outcome["codec"] == "PCMU"
    call = only_call_for(server, outcome["call_id"])
    ended = server.wait_call_ended(call["id"])[0]
    assert (ended["end_reason"], ended["recognition"], ended["codec"]) == ("caller_hangup", "ok", "PCMU")
    # Bit-exact media: the phone's G.711 coder is the reference coder, so any lost,
    # repeated or reordered packet would show here.
    sent = codec_round_trip(wav, "PCMU")
    heard = recording(server, call["id"])
    assert heard.size >= sent.size
    assert np.array_equal(heard[: sent.size], sent)
    expected = reference(ko_model, wav, "PCMU")
    assert len(expected) == 2, f"reference should have one final per phrase: {expected}"
    assert transcript(server, call["id"]) == expected


def test_g722_call_is_wideband_intact_and_transcribed(server, speech_dir, ko_model):
    wav = speech_dir / "ko_two_16k.wav"
    outcome = phone_call(server.sip_uri, wav, "--codec", "g722")
    assert (outcome["status"], outcome["codec"]) == (200, "G722")
    call = only_call_for(server, outcome["call_id"])
    assert server.wait_call_ended(call["id"])[0]["codec"] == "G722"
    # pjsua2's G.722 halves the level (its PCM shift); after matching gain the received
    # audio must be our own G.722 round trip of the file, sample-aligned.
    sent = codec_round_trip(wav, "G722").astype(float)
    heard = recording(server, call["id"]).astype(float)[: sent.size]
    sent = sent[: heard.size]
    gain = float(np.dot(sent, heard) / np.dot(heard, heard))
    snr = 10 * np.log10(np.sum(sent**2) / np.sum((sent - gain * heard) ** 2))
    assert snr > 20, f"received G.722 audio differs from what was sent: {snr:.1f} dB"
    expected = decode_offline(ko_model, recording(server, call["id"]), VadGate(2, 300, 300)).texts
    assert expected and transcript(server, call["id"]) == expected


def test_segments_carry_words_times_and_confidence(server, speech_dir):
    outcome = phone_call(server.sip_uri, speech_dir / "ko_two_8k.wav")
    call = only_call_for(server, outcome["call_id"])
    server.wait_call_ended(call["id"])
    with server.client() as c:
        segs = c.get(f"/api/v1/calls/{call['id']}/transcript").json()["segments"]
    assert len(segs) == 2
    first, second = segs
    # The file is 1 s silence, phrase, 1 s silence, phrase: times are call-relative.
    assert 0.8 <= first["start"] < first["end"] <= second["start"] < second["end"]
    for seg in segs:
        assert set(seg) == {"leg", "start", "end", "text", "confidence", "words"}
        assert 0.0 < seg["confidence"] <= 1.0
        assert " ".join(w["word"] for w in seg["words"]) == seg["text"]
        assert all(seg["start"] <= w["start"] <= w["end"] <= seg["end"] + 1e-6 for w in seg["words"])


def test_ten_simultaneous_calls_each_transcribed(server, speech_dir, ko_model):
    wav = speech_dir / "ko_hello_8k.wav"
    expected = reference(ko_model, wav)
    assert expected, "reference decode is empty"
    with ThreadPoolExecutor(10) as pool:
        outcomes = list(pool.map(lambda _: phone_call(server.sip_uri, wav, timeout=180), range(10)))
    assert [o["status"] for o in outcomes] == [200] * 10
    for o in outcomes:
        call = only_call_for(server, o["call_id"])
        server.wait_call_ended(call["id"], timeout=180)
        assert transcript(server, call["id"]) == expected, f"call {call['id']}"


def test_dtmf_reaches_the_call_timeline(server, speech_dir):
    outcome = phone_call(server.sip_uri, speech_dir / "ko_hello_8k.wav", "--dtmf", "12#")
    assert outcome["dtmf_sent"] == "12#"
    call = only_call_for(server, outcome["call_id"])
    server.wait_call_ended(call["id"])
    with server.client() as c:
        shown = c.get(f"/api/v1/calls/{call['id']}").json()["timeline"]
        timeline = c.get(f"/api/v1/calls/{call['id']}", params={"raw": "true"}).json()["timeline"]
    assert [e["digit"] for e in timeline if e["type"] == "dtmf"] == ["1", "2", "#"]
    assert [e["digit"] for e in shown if e["type"] == "dtmf"] == ["*", "*", "*"]  # a PIN is not shown by default
