"""Capacity: the most simultaneous sipp calls (looping Korean speech as RTP) the server keeps in real time."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import sipp, speech
from benchmarks.calls import CallWatch, follow_events
from benchmarks.harness import BenchResult, LoadProbe, Sampler, metrics, server, shipped_config, summary
from tests.support.server import ServerHandle

TARGET_OFF = 200
STEPS_OFF = (25, 50, 100, 150, 200, 250, 300, 400, 500)
STEPS_ON = (1, 2, 4, 6, 8)
QUICK_OFF = (25, 100)
QUICK_ON = (1, 2)
FINAL_LAG_MAX_S = 2.0  # a final may trail the end of its words by at most this
DRAIN_MAX_S = 2.0  # and the call must be fully ended (last final out) this long after its BYE

CRITERIA = {
    "sipp": "sipp exits 0 with FailedCall(C) == 0 and SuccessfulCall(C) == N",
    "dropped_frames": "hotline_media_dropped_frames_total does not grow during the step",
    "kernel_udp_drops": "no kernel receive drops (/proc/net/udp) on the server's RTP and SIP sockets",
    "simultaneous": "GET /health reported active_calls == N at least once (all N calls were up together)",
    "finals (recognition on)": (
        f"every call has >= 1 final; every final's lag = event ts - (media.first_frame_at + final.end) "
        f"<= {FINAL_LAG_MAX_S} s, except each call's first final (recognizer warm-up, reported separately as "
        f"first_final_lag_s); and the 'ended' state event (published after the last final) comes "
        f"<= {DRAIN_MAX_S} s after media.first_frame_at + stream duration (when sipp sends BYE)"),
}


def _finals_check(handle: ServerHandle, stream_s: float) -> dict[str, Any]:
    """Replay every call's events (the bus keeps ended calls) and apply the recognition criteria."""
    with handle.client() as c:
        calls = c.get("/api/v1/calls", params={"limit": 500}).json()["calls"]
    per_call: list[dict[str, Any]] = []
    lags: list[float] = []
    firsts: list[float] = []
    drains: list[float] = []
    for call in calls:
        watch = CallWatch(call["id"])
        follow_events(handle, call["id"], watch, timeout_s=10)
        first = watch.first_frame_at
        finals = [e for _, e in watch.of("final")]
        ended = [e for _, e in watch.of("state") if e.get("state") == "ended"]
        call_lags = [float(e["ts"]) - (first + float(e["end"])) for e in finals] if first else []
        drain = float(ended[0]["ts"]) - (first + stream_s) if ended and first else None
        lags += call_lags[1:]
        firsts += call_lags[:1]
        drains += [drain] if drain is not None else []
        max_lag = max(call_lags[1:], default=0.0)
        call_ok = bool(finals) and max_lag <= FINAL_LAG_MAX_S and drain is not None and drain <= DRAIN_MAX_S
        per_call.append({"ok": call_ok, "finals": len(finals), "max_lag_s": max_lag, "drain_s": drain,
                         "lags_s": [round(x, 3) for x in call_lags]})
    ok = bool(per_call) and all(p["ok"] for p in per_call)
    return {"ok": ok, "calls": len(per_call), "finals": sum(p["finals"] for p in per_call),
            "final_lag_s": summary(lags), "first_final_lag_s": summary(firsts),
            "max_final_lag_s": max(lags, default=None),
            "max_drain_s": max(drains, default=None), "per_call": per_call,
            "calls_without_final": sum(1 for p in per_call if p["finals"] == 0)}


def step(n: int, asr: bool, ulaw: Path, stream_s: float, tmp: Path) -> dict[str, Any]:
    """One load step on a fresh server."""
    cfg = shipped_config(sip={"max_calls": max(500, 2 * n)}, asr={"enabled": asr})
    with server(cfg, rtp_ports=max(40, 4 * n + 20)) as h:
        media = h.extra["config"]["media"]
        lo, hi = media["rtp_port_min"], media["rtp_port_max"]
        before = metrics(h)
        probe = LoadProbe(h, lambda p: lo <= p <= hi or p == h.sip_port)
        scen = sipp.scenario(tmp / f"cap-{n}.xml", int(stream_s * 1000), ulaw)
        rate = 1.0 if asr else max(5.0, min(50.0, n / 5))
        cpu0 = _cpu(h)
        with Sampler(probe.probe, 0.5, limit_s=stream_s + n / rate + 120):
            run = sipp.run(f"127.0.0.1:{h.sip_port}", scen, n, rate, n, tmp / f"sipp-{n}-{int(asr)}",
                           timeout_s=stream_s + n / rate + 60, rtp_ports=4 * n + 100)
            h.wait_call_ended(count=n, timeout=60) if run.successful == n else time.sleep(2)
        server_cpu = _cpu(h) - cpu0
        probe.close()
        after = metrics(h)
        key = "hotline_media_dropped_frames_total"
        dropped = after.get(key, 0) - before.get(key, 0)
        loads = probe.report()
        finals = _finals_check(h, stream_s) if asr else None
    checks = {"sipp": run.rc == 0 and run.failed == 0 and run.successful == n, "dropped_frames": dropped == 0,
              "kernel_udp_drops": loads["udp_drops"] == 0, "simultaneous": loads["peak_active_calls"] >= n}
    if finals is not None:
        checks["finals"] = finals["ok"]
    return {"n": n, "asr": asr, "passed": all(checks.values()), "checks": checks, "rate_cps": rate,
            "dropped_frames": dropped, "probe": loads, "finals": finals, "sipp": run.to_json(),
            "server_cpu_s": round(server_cpu, 2), "sipp_cpu_share": round(run.cpu_s / run.wall_s, 3),
            "bad_packets": after.get("hotline_media_bad_packets_total", 0)
            - before.get("hotline_media_bad_packets_total", 0),
            "ended": {k: v for k, v in after.items() if k.startswith("hotline_calls_ended_total")}}


def _cpu(h: ServerHandle) -> float:
    from benchmarks.harness import cpu_seconds

    return cpu_seconds(h.proc.pid)


def ramp(steps: tuple[int, ...], asr: bool, ulaw: Path, stream_s: float, tmp: Path) -> tuple[int, list[dict[str, Any]]]:
    """Run steps in order until one fails; returns the largest passing N and every step."""
    best, out = 0, []
    for n in steps:
        result = step(n, asr, ulaw, stream_s, tmp)
        out.append(result)
        if not result["passed"]:
            break
        best = n
    return best, out


def run(quick: bool = False) -> BenchResult:
    """Ramp recognition-off and recognition-on load."""
    res = BenchResult("capacity")
    stream_s = 6.0 if quick else 20.0
    with tempfile.TemporaryDirectory(prefix="bench-capacity-") as t:
        tmp = Path(t)
        sp = speech.make(tmp / "speech.wav")
        ulaw = speech.ulaw_file(sp.path, tmp / "speech.ulaw")
        off, off_steps = ramp(QUICK_OFF if quick else STEPS_OFF, False, ulaw, stream_s, tmp)
        on, on_steps = ramp(QUICK_ON if quick else STEPS_ON, True, ulaw, stream_s, tmp)
    res.add("max calls, recognition off", off, "calls", TARGET_OFF if not quick else None, ">=" if not quick else "")
    res.add("max calls, recognition on", on, "calls")
    for s in off_steps + on_steps:
        tag = f"{'on' if s['asr'] else 'off'} N={s['n']}"
        res.add(f"  {tag}: /health p95", s["probe"]["health_ms"]["p95"], "ms")
        res.add(f"  {tag}: server CPU", s["probe"]["server_cpu_cores"]["mean"], "cores")
    res.details.update(stream_s=stream_s, criteria=CRITERIA, steps=off_steps + on_steps, speech=sp.to_json(),
                       steps_planned={"off": QUICK_OFF if quick else STEPS_OFF, "on": QUICK_ON if quick else STEPS_ON})
    res.notes.append("each step uses a fresh server and stops the ramp at the first failing step; calls start at "
                     "N/5 per second (5..50) with recognition off and 1 per second with recognition on, so every "
                     "call's recognizer warm-up does not land at the same instant")
    res.notes.append("with recognition off and record_calls false the server skips decoding the caller's audio, so "
                     "hotline_media_dropped_frames_total cannot see lost packets (only jitter-late ones); the kernel "
                     "UDP drop check covers that gap")
    return res
