"""Final-transcript latency: end of each spoken phrase to the arrival of its "final" on the WebSocket."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import speech
from benchmarks.calls import CallWatch, NewCallWatcher, recording_offset_s
from benchmarks.harness import BenchResult, histogram, metrics, server, shipped_config, summary
from benchmarks.sniff import RtpSniffer
from tests.support.audio import codec_round_trip
from tests.support.server import ServerHandle, phone_call

TARGET_P95_MS = 500.0


def _match(finals: list[tuple[float, dict[str, Any]]], spans: list[tuple[float, float]],
           offset: float) -> dict[int, tuple[float, dict[str, Any]]]:
    """The last final belonging to each phrase (by overlap of call-relative word times with the phrase)."""
    out: dict[int, tuple[float, dict[str, Any]]] = {}
    for arrival, ev in finals:
        start, end = float(ev["start"]), float(ev["end"])
        best, best_score = None, float("-inf")
        for k, (s, e) in enumerate(spans):
            s, e = s + offset, e + offset
            overlap = min(end, e + 0.3) - max(start, s - 0.3)
            score = overlap if overlap > 0 else -abs(end - e)
            if score > best_score:
                best, best_score = k, score
        if best is not None:
            out[best] = (arrival, ev)  # finals arrive in order: the last one of a phrase wins
    return out


def _analyse(handle: ServerHandle, sp: speech.Speech, watch: CallWatch, first_packet: float | None) -> dict[str, Any]:
    assert watch.call_id is not None
    rec = handle.workdir / "rec" / f"{watch.call_id}-caller.wav"
    offset, corr = recording_offset_s(rec, sp.path) if rec.exists() else (0.0, 0.0)
    first = watch.first_frame_at
    finals = watch.of("final")
    rows = []
    if first is not None:
        for k, (arrival, ev) in sorted(_match(finals, sp.spans, offset).items()):
            spoken_end = first + offset + sp.spans[k][1]
            wire_end = first_packet + offset + sp.spans[k][1] if first_packet else None
            rows.append({"phrase": k, "latency_s": arrival - spoken_end, "server_s": float(ev["ts"]) - spoken_end,
                         "packet_clock_latency_s": arrival - wire_end if wire_end else None,
                         "ws_delivery_s": arrival - float(ev["ts"]),
                         "after_last_word_s": arrival - (first + float(ev["end"])), "text": ev["text"]})
    lag = (first - first_packet) * 1000 if first is not None and first_packet is not None else None
    return {"call_id": watch.call_id, "offset_s": round(offset, 4), "offset_corr": round(corr, 3),
            "first_frame_at_behind_first_packet_ms": lag,
            "finals": len(finals), "matched": len(rows), "rows": rows, "error": watch.error}


def _place_calls(cfg: dict[str, Any], sp: speech.Speech, n_calls: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Sequential phone calls on one fresh server; per-call analysis and the server's latency histogram."""
    calls: list[dict[str, Any]] = []
    with server(cfg) as h:
        media = h.extra["config"]["media"]
        with RtpSniffer(media["rtp_port_min"], media["rtp_port_max"]) as sniffer:
            _calls(h, sp, n_calls, sniffer, calls)
        hist = histogram(metrics(h), "hotline_asr_final_latency_seconds")
    return calls, hist


def _calls(h: ServerHandle, sp: speech.Speech, n_calls: int, sniffer: RtpSniffer, calls: list[dict[str, Any]]) -> None:
    """Place ``n_calls`` one after the other, appending each one's analysis to ``calls``."""
    for _ in range(n_calls):
        watcher = NewCallWatcher(h).start()
        placed = time.time()
        outcome = phone_call(h.sip_uri, sp.path, "--codec", "pcmu", "--tail", "1.5")
        watch = watcher.join(30)
        if watch.call_id:
            h.wait_call_ended(watch.call_id, timeout=30)
        first_packet = sniffer.first_after(placed)
        info: dict[str, Any] = _analyse(h, sp, watch, first_packet) if watch.call_id else {"error": watch.error}
        info.update(status=outcome.get("status"), found_after_s=watcher.found_after_s)
        calls.append(info)
        time.sleep(0.5)


def vad_floor_ms(sp: speech.Speech, cfg: dict[str, Any]) -> list[float]:
    """Offline: how long after each phrase's spoken end the server's VAD (same settings) ends the utterance."""
    from media.frame import FRAME_SAMPLES, AudioFrame
    from media.settings import MediaSettings
    from media.vad import UtteranceEnd, VadGate

    media = {**MediaSettings().model_dump(), **cfg.get("media", {})}
    gate = VadGate(media["vad_aggressiveness"], media["vad_padding_ms"], media["vad_silence_ms"])
    pcm = codec_round_trip(sp.path)
    ends = []
    for i in range(pcm.size // FRAME_SAMPLES):
        frame = AudioFrame("caller", round(i * 0.02, 2), pcm[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES])
        ends += [(i + 1) * 0.02 for out in gate.push(frame) if isinstance(out, UtteranceEnd)]
    out = []
    for _, end in sp.spans:
        after = [e for e in ends if e >= end]
        if after:
            out.append((after[0] - end) * 1000)
    return out


def _latencies(calls: list[dict[str, Any]], key: str = "latency_s") -> list[float]:
    return [r[key] * 1000 for c in calls for r in c.get("rows", [])]


def run(quick: bool = False) -> BenchResult:
    """Place sequential calls and time every final."""
    res = BenchResult("latency")
    n_calls = 2 if quick else 6
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        sp = speech.make(Path(tmp) / "speech.wav", speech.PHRASES[:3] if quick else speech.PHRASES)
        res.details["speech"] = sp.to_json()
        cfg = shipped_config(media={"record_calls": True})
        res.details["server_config"] = cfg
        calls, hist = _place_calls(cfg, sp, n_calls)
        floor = summary(vad_floor_ms(sp, cfg))["p50"]
        floor_default = summary(vad_floor_ms(sp, {}))["p50"]
    rows = [r for c in calls for r in c.get("rows", [])]
    lat = _latencies(calls)
    s = summary(lat)
    expected = n_calls * len(sp.spans)
    res.add("final latency p50", s["p50"], "ms")
    res.add("final latency p95", s["p95"], "ms", TARGET_P95_MS, "<=")
    res.add("final latency max", s["max"], "ms")
    res.add("p95 without each call's first phrase", summary(
        [r["latency_s"] * 1000 for c in calls for r in c.get("rows", []) if r["phrase"] > 0])["p95"], "ms")
    wire = [r["packet_clock_latency_s"] * 1000 for r in rows if r.get("packet_clock_latency_s") is not None]
    if wire:
        res.add("p95 on the packet clock (first RTP packet)", summary(wire)["p95"], "ms")
        res.add("first_frame_at behind first RTP packet max", max(
            c["first_frame_at_behind_first_packet_ms"] for c in calls
            if c.get("first_frame_at_behind_first_packet_ms") is not None), "ms")
    res.add("phrases with a final", len(rows), f"of {expected}", expected, ">=")
    res.add("VAD floor p50 (offline, same settings)", floor, "ms")
    res.add("server part p95 (publish ts)", summary([r["server_s"] * 1000 for r in rows])["p95"], "ms")
    res.add("WebSocket delivery p95", summary([r["ws_delivery_s"] * 1000 for r in rows])["p95"], "ms")
    res.add("after last recognized word p95", summary([r["after_last_word_s"] * 1000 for r in rows])["p95"], "ms")
    res.add("server histogram p50 (VAD end->final)", _ms(hist["p50"]), "ms")
    res.add("server histogram p95 (VAD end->final)", _ms(hist["p95"]), "ms")
    if floor_default != floor:  # configs/hotline.yaml and the code's defaults disagree on the VAD
        res.add("VAD floor p50 with the code's built-in defaults", floor_default, "ms")
    res.details.update(calls=calls, latency_ms=s, server_histogram=hist, n_calls=n_calls)
    res.notes.append("latency = final arrival (time.time() on the WebSocket client) - (media.first_frame_at + "
                     "recording offset + end of the phrase's last audible sample in the file); the VAD "
                     "needs vad_silence_ms of silence before it ends an utterance, so that is a floor")
    res.notes.append("media.first_frame_at is stamped when the event loop handles the first frame; the loop is "
                     "busy creating the recognizer at that moment (tens of ms), so the spoken-end clock is a "
                     "little late and the latency here slightly under-states the true one")
    res.notes.append("server histogram: bucket-interpolated, measured from the VAD's utterance end (not the "
                     "spoken end), so it excludes the VAD silence wait")
    return res


def _ms(v: float | None) -> float | None:
    return None if v is None else v * 1000
