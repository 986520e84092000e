"""Pipeline overhead: server CPU per real call vs an offline Vosk decode of the same audio, same run."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from asr.offline import decode_offline, load_model
from benchmarks import speech
from benchmarks.harness import (
    BenchResult,
    cpu_by_thread_group,
    cpu_seconds,
    metrics,
    rss_mb,
    server,
    shipped_config,
    thread_cpu,
    thread_names,
)
from media.vad import VadGate
from tests.support.audio import codec_round_trip, ko_model_path
from tests.support.server import phone_call

TARGET_RATIO = 1.2


def run(quick: bool = False) -> BenchResult:
    """N sequential calls each followed by an offline decode of the same audio, then an idle baseline."""
    res = BenchResult("overhead")
    n_calls = 1 if quick else 4
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp:
        sp = speech.make(Path(tmp) / "speech.wav")
        cfg = shipped_config()
        model = load_model(ko_model_path())
        pcm = codec_round_trip(sp.path)
        gated_runs = []
        with server(cfg) as h:
            pid = h.proc.pid
            time.sleep(2.0)  # let start-up work (migrations, model load) settle
            threads0 = thread_cpu(pid)
            c0, t0 = cpu_seconds(pid), time.monotonic()
            statuses = []
            for _ in range(n_calls):
                statuses.append(phone_call(h.sip_uri, sp.path, "--codec", "pcmu").get("status"))
                h.wait_call_ended(count=len(statuses), timeout=30)
                # interleaved, so that the offline reference sees the same machine load as the calls
                gated_runs.append(decode_offline(model, pcm, VadGate(2, 300, 300)))
            busy_cpu, wall = cpu_seconds(pid) - c0, time.monotonic() - t0
            names = thread_names(pid)
            groups = cpu_by_thread_group(threads0, thread_cpu(pid), names, pid) if names else {}
            m = metrics(h)
            idle_wall = wall if not quick else min(wall, 10.0)
            c1 = cpu_seconds(pid)
            time.sleep(idle_wall)
            idle_cpu = (cpu_seconds(pid) - c1) * wall / idle_wall
            rss = rss_mb(pid)
        full = decode_offline(model, pcm, None)
    gated_cpu = statistics.median(r.cpu_s for r in gated_runs)
    per_call = (busy_cpu - idle_cpu) / n_calls
    res.add("server CPU per call", per_call, "s")
    res.add("offline CPU per call (VAD-gated)", gated_cpu, "s")
    res.add("offline CPU per call (no VAD)", full.cpu_s, "s")
    res.add("ratio server / offline gated", per_call / gated_cpu if gated_cpu else None, "x", TARGET_RATIO, "<=")
    res.add("ratio server / offline no-VAD", per_call / full.cpu_s if full.cpu_s else None, "x")
    decoder = groups.get("vosk decoder")
    if decoder is not None:
        res.add("  of which Vosk decoder threads", decoder / n_calls, "s")
        res.add("  of which the rest (loop, SIP, store ...)", (busy_cpu - idle_cpu - decoder) / n_calls, "s")
        res.add("decoder threads / offline gated", decoder / n_calls / gated_cpu if gated_cpu else None, "x")
    res.add("idle server CPU", idle_cpu / wall * 100, "% of a core")
    res.add("calls answered", sum(1 for s in statuses if s == 200), f"of {n_calls}", n_calls, ">=")
    audio_per_call = m.get("hotline_asr_audio_seconds_total", 0.0) / n_calls
    res.details.update(
        cpu_by_thread_s=groups, n_calls=n_calls, wall_s=round(wall, 2),
        busy_cpu_s=round(busy_cpu, 3), idle_cpu_s_scaled=round(idle_cpu, 3),
        idle_measured_s=round(idle_wall, 2), server_rss_mb=round(rss, 1), speech=sp.to_json(), server_config=cfg,
        offline_gated_cpu_s=[round(r.cpu_s, 3) for r in gated_runs], offline_gated_audio_s=gated_runs[0].audio_s,
        offline_full_audio_s=full.audio_s, server_asr_audio_s_per_call=round(audio_per_call, 2),
        server_asr_rtf=m.get("hotline_asr_real_time_factor"),
        offline_texts=gated_runs[0].texts)
    res.notes.append("offline reference: decode_offline on the codec round trip of the same file with "
                     "VadGate(2, 300, 300), run in this process right after each call (median over the calls); "
                     "the server's CPU during those decodes is idle and is covered by the idle baseline")
    res.notes.append("server CPU = utime+stime of the `hotline serve` process (all threads) over the calls, minus "
                     "its idle CPU over the same wall time; it includes the greeting, SIP, SQLite, partials, "
                     "the API and the per-call recognizer creation, none subtracted")
    if quick:
        res.notes.append("quick mode: the idle baseline was measured for at most 10 s and scaled to the call wall time")
    return res
