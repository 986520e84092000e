"""Routing benchmarks (issue #3): how fast a caller reaches an agent, and whether callers ever wait for nothing.

``python -m benchmarks.routing [--quick]`` (or ``python -m benchmarks.run --only routing``); results also go to
``benchmarks/results/routing.json``. Both real-call parts run a fresh ``hotline serve`` with recognition off
(``asr.enabled: false``: pure signalling and routing) and ``media.rtp_timeout_s: 0`` (the sipp callers send no
RTP), otherwise the shipped config (greeting, music on hold, store writes).

Agent phones are sipp UAS processes: each agent is created through ``POST /api/v1/agents``, registers with digest
(``tests/voice/scenarios/register_ok.xml``) from a port P, then a sipp UAS listens on P for the rest of the run
(``benchmarks/scenarios/agent_*.xml``: 200 OK at once, no 180, so the agent adds ~0 ms). Callers are one sipp UAC
whose injection file gives every call its own caller number and start delay (``caller_*.xml``). Every sipp
process writes ``-trace_msg`` logs; their microsecond timestamps give an outside view of each call.

A. Caller answered -> agent connected, agents auto-answer, wrap-up 0, 10 agents, 60 calls at 2 per second with
   1 s talk (never more than ~3 busy agents, so no caller queues): this is Hotline's own overhead.

   * server: ``time_to_agent_s`` of the ``agent_connected`` timeline event (from the moment the caller's
     routing starts after the ACK to the agent's 200 OK processed and the bridge up; p95 target 150 ms),
     cross-checked with the ``hotline_time_to_agent_seconds`` histogram of ``/metrics``;
   * outside (sipp logs): caller's ACK sent -> agent's INVITE received, and -> agent's ACK received (the
     end-to-end time as the wire sees it, including what happens before routing starts);
   * baseline, same run: the INVITE -> 200 round trip of the same caller scenario straight to the same agent
     scenario on loopback, without Hotline. Connecting a caller to an agent needs exactly one such
     INVITE/200 exchange with the agent phone, so this is the floor; ``time_to_agent - baseline`` is what
     Hotline adds. (Hotline's own INVITE -> 200 towards callers is reported too, for information.)

B. 50 callers, 10 agents, callers arrive at uniformly random times over 60 s (a Poisson process conditioned on
   50 arrivals; fixed seed), agents answer at once, talk 9 s and hang up with their own BYE; wrap-up 2 s
   (load ~0.92). Measured from the server's data: per-caller ``wait_s`` (p50/p95/max, service level = share
   connected within 20 s) and "idle while waiting": stretches in which a caller was queued while an agent was
   ``available``, longer than a 200 ms tolerance. Two independent views: ``GET /api/v1/queues`` polled every
   ~50 ms (``waiting > 0 and available_agents > 0`` in the server's own snapshot), and a reconstruction from
   the call records (queued_at, offered / agent_connected / agent_hangup events, wrap_up_s), which would also
   catch an agent held out of ``available`` too long. Then a discrete-event simulation drives the real
   ``callcenter.router.Router`` / ``AgentBoard`` / ``CallQueue`` on a virtual clock (no SIP): the same arrivals
   (ring time = A's median time to agent), and 100 more seeds.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import re
import selectors
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks.harness import (
    RESULTS,
    ROOT,
    BenchResult,
    Sampler,
    histogram,
    machine_info,
    metrics,
    server,
    shipped_config,
    summary,
)
from callcenter.board import AgentBoard, AgentInfo
from callcenter.presence import AgentPresence
from callcenter.queueing import Waiting
from callcenter.router import Router
from callcenter.settings import QueueSettings, RoutingSettings
from tests.support.net import free_port
from tests.support.server import ServerHandle

OUT = RESULTS / "routing.json"
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
REGISTER = ROOT / "tests" / "voice" / "scenarios" / "register_ok.xml"
PASSWORD = "bench-agent-secret-1"
TARGET_P95_MS = 150.0
TOLERANCE_S = 0.2  # dispatching takes a loop turn or two; shorter "idle while waiting" stretches are not counted
POLL_S = 0.05
SIM_SEEDS = 100


@dataclass(frozen=True)
class SetupLoad:
    """Benchmark A: sequential-ish calls that never queue."""

    calls: int
    rate: float  # calls per second
    talk_ms: int
    agents: int


@dataclass(frozen=True)
class QueueLoad:
    """Benchmark B: more callers than agents."""

    callers: int
    agents: int
    window_s: float  # arrivals spread over this long
    talk_s: float
    wrap_up_s: float
    seed: int = 3

    def arrivals(self, seed: int | None = None) -> list[float]:
        """Arrival times: ``callers`` uniform draws over the window, sorted (Poisson conditioned on the count)."""
        rng = random.Random(self.seed if seed is None else seed)
        return sorted(rng.uniform(0, self.window_s) for _ in range(self.callers))

    @property
    def offered_load(self) -> float:
        """Arrival rate x agent time per call / agents (ring time left out)."""
        return (self.callers / self.window_s) * (self.talk_s + self.wrap_up_s) / self.agents


FULL_A = SetupLoad(calls=60, rate=2.0, talk_ms=1000, agents=10)
QUICK_A = SetupLoad(calls=20, rate=4.0, talk_ms=500, agents=6)
FULL_B = QueueLoad(callers=50, agents=10, window_s=60.0, talk_s=9.0, wrap_up_s=2.0)
QUICK_B = QueueLoad(callers=20, agents=5, window_s=20.0, talk_s=4.0, wrap_up_s=1.0)


# -- sipp message logs ----------------------------------------------------------------------------------------
_STAMP = re.compile(r"^-{20,}\s+(\d{4}-\d\d-\d\d)\s+(\d\d:\d\d:\d\d\.\d+)")
_NUMBER = re.compile(r"\+\d{7,15}")


@dataclass(frozen=True)
class SipMessage:
    """One message from a sipp ``-trace_msg`` log."""

    at: float  # epoch seconds (sipp prints local time with microseconds)
    sent: bool
    first_line: str
    headers: dict[str, str]

    @property
    def kind(self) -> str:
        """The method of a request, the status code of a response."""
        parts = self.first_line.split()
        if not parts:
            return ""
        return parts[1] if parts[0].startswith("SIP/") and len(parts) > 1 else parts[0]

    @property
    def cseq_method(self) -> str:
        """The method named in CSeq."""
        parts = self.headers.get("cseq", "").split()
        return parts[1] if len(parts) > 1 else ""

    @property
    def call_id(self) -> str:
        """The Call-ID."""
        return self.headers.get("call-id", "")

    def number(self) -> str | None:
        """The first +E.164 number in From (the caller's user part, or the display name Hotline puts there)."""
        m = _NUMBER.search(self.headers.get("from", ""))
        return m.group(0) if m else None


def read_messages(path: Path) -> list[SipMessage]:
    """Every message of a sipp message log, in file order."""
    blocks: list[tuple[float, list[str]]] = []
    for line in path.read_text(errors="replace").splitlines():
        m = _STAMP.match(line)
        if m:
            at = datetime.strptime(f"{m.group(1)} {m.group(2)}", "%Y-%m-%d %H:%M:%S.%f").timestamp()
            blocks.append((at, []))
        elif blocks:
            blocks[-1][1].append(line.strip())
    out = []
    for at, lines in blocks:
        while lines and not lines[0]:
            lines.pop(0)
        if not lines:
            continue
        sent = " sent" in lines[0]
        rest = lines[1:]
        while rest and not rest[0]:
            rest.pop(0)
        if not rest:
            continue
        headers: dict[str, str] = {}
        for ln in rest[1:]:
            if not ln:
                break
            name, _, value = ln.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        out.append(SipMessage(at, sent, rest[0], headers))
    return out


def _messages(workdir: Path) -> list[SipMessage]:
    out: list[SipMessage] = []
    for path in sorted(workdir.glob("*_messages.log")):
        out.extend(read_messages(path))
    return out


def _first(msgs: Sequence[SipMessage], call_id: str, kind: str, sent: bool, cseq: str | None = None) -> float | None:
    for m in msgs:
        if m.call_id == call_id and m.kind == kind and m.sent == sent and (cseq is None or m.cseq_method == cseq):
            return m.at
    return None


# -- sipp processes -------------------------------------------------------------------------------------------
def _sipp() -> str:
    path = shutil.which("sipp")
    if path is None:
        raise RuntimeError("sipp is not installed (make bench installs it)")
    return path


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGUSR1 makes sipp finish gracefully (and flush its logs); kill it if it does not."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGUSR1)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@dataclass
class AgentPhone:
    """A created, registered agent whose phone is a sipp UAS."""

    username: str
    agent_id: str
    port: int
    workdir: Path
    proc: subprocess.Popen[bytes] | None = None


@contextmanager
def agent_phones(h: ServerHandle, count: int, scenario: str, talk_ms: int, workdir: Path
                 ) -> Iterator[list[AgentPhone]]:
    """``count`` agents through the REST API, each registered by sipp and answered by a sipp UAS on that port."""
    sipp = _sipp()
    target = f"127.0.0.1:{h.sip_port}"
    phones: list[AgentPhone] = []
    with h.client() as c:
        for i in range(count):
            user = f"agent{i:02d}"
            r = c.post("/api/v1/agents", json={"name": f"Agent {i:02d}", "username": user, "password": PASSWORD})
            if r.status_code != 201:
                raise RuntimeError(f"POST /api/v1/agents: {r.status_code} {r.text}")
            phones.append(AgentPhone(user, r.json()["id"], free_port(), workdir / user))
    try:
        for p in phones:
            p.workdir.mkdir(parents=True, exist_ok=True)
            common = ["-t", "u1", "-i", "127.0.0.1", "-p", str(p.port), "-nostdin", "-trace_err"]
            reg = subprocess.run([sipp, "-sf", str(REGISTER), *common, "-m", "1", "-timeout", "20", "-timeout_error",
                                  "-s", p.username, "-au", p.username, "-ap", PASSWORD, "-key", "expires", "600",
                                  target], cwd=p.workdir, capture_output=True, timeout=40)
            if reg.returncode != 0:
                raise RuntimeError(f"sipp REGISTER of {p.username} failed ({reg.returncode}): "
                                   f"{reg.stderr.decode(errors='replace')[-1500:]}")
            p.proc = subprocess.Popen([sipp, "-sf", str(SCENARIOS / scenario), *common, "-mp", str(free_port()),
                                       "-d", str(talk_ms), "-trace_msg", "-max_socket", "1024", target],
                                      cwd=p.workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_available(h, [p.agent_id for p in phones])
        yield phones
    finally:
        for p in phones:
            if p.proc is not None:
                _stop(p.proc)


def _wait_available(h: ServerHandle, ids: list[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    states: dict[str, str] = {}
    with h.client() as c:
        while time.monotonic() < deadline:
            states = {a["id"]: a["state"] for a in c.get("/api/v1/agents").json()["agents"]}
            if all(states.get(i) == "available" for i in ids):
                return
            time.sleep(0.1)
    raise RuntimeError(f"agents not available after {timeout} s: {states}")


@dataclass
class CallerRun:
    """One sipp UAC run of many callers."""

    rc: int
    wall_s: float
    numbers: list[str]
    messages: list[SipMessage] = field(default_factory=list)
    errors: str = ""

    def to_json(self) -> dict[str, Any]:
        """What is worth keeping."""
        return {"rc": self.rc, "wall_s": round(self.wall_s, 2), "calls": len(self.numbers),
                "errors": self.errors[-2000:]}


def run_callers(target: str, scenario: str, delays_s: Sequence[float], talk_ms: int, workdir: Path,
                timeout_s: float, first_number: int = 0) -> CallerRun:
    """One sipp UAC: call ``i`` gets number +38044555NNNN and starts ``delays_s[i]`` after sipp does."""
    workdir.mkdir(parents=True, exist_ok=True)
    numbers = [f"+38044555{first_number + i:04d}" for i in range(len(delays_s))]
    inj = workdir / "callers.csv"
    inj.write_text("SEQUENTIAL\n" + "".join(f"{n};{int(d * 1000)};\n" for n, d in zip(numbers, delays_s,
                                                                                         strict=True)))
    n = str(len(numbers))
    cmd = [_sipp(), "-sf", str(SCENARIOS / scenario), "-inf", str(inj), "-i", "127.0.0.1", "-mi", "127.0.0.1",
           "-p", str(free_port()), "-mp", str(free_port()), "-m", n, "-l", n, "-r", "1000", "-d", str(talk_ms),
           "-timeout", f"{int(timeout_s)}s", "-timeout_error", "-nostdin", "-trace_msg", "-trace_err",
           "-error_file", str(workdir / "errors.log"), "-max_socket", "4096", target]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, timeout=timeout_s + 30)
    out = CallerRun(proc.returncode, time.monotonic() - t0, numbers, errors=proc.stderr.decode(errors="replace"))
    log = workdir / "errors.log"
    if log.exists():
        out.errors = (out.errors + log.read_text(errors="replace"))[-20000:]
    out.messages = _messages(workdir)
    return out


# -- server data -----------------------------------------------------------------------------------------------
def server_calls(h: ServerHandle) -> list[dict[str, Any]]:
    """Every call with its timeline, oldest first."""
    with h.client() as c:
        calls = c.get("/api/v1/calls", params={"limit": 500}).json()["calls"]
        out = [c.get(f"/api/v1/calls/{x['id']}").json() for x in calls]
    return sorted(out, key=lambda x: x["started_at"])


def _wait_ended(h: ServerHandle, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    with h.client() as c:
        while time.monotonic() < deadline:
            calls = c.get("/api/v1/calls", params={"limit": 500}).json()["calls"]
            if len(calls) >= count and all(x["state"] == "ended" for x in calls):
                return
            time.sleep(0.25)


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    dt = datetime.fromisoformat(iso)
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).timestamp()


def _events(call: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in call.get("timeline", []) if e["type"] == kind]


def _ms(values: Sequence[float | None]) -> list[float]:
    return [v * 1000 for v in values if v is not None]


def _round(d: dict[str, Any], digits: int = 2) -> dict[str, Any]:
    return {k: round(v, digits) if isinstance(v, float) else v for k, v in d.items()}


def _config(wrap_up_s: float) -> dict[str, Any]:
    return shipped_config(asr={"enabled": False}, media={"rtp_timeout_s": 0}, sip={"max_calls": 500},
                          routing={"wrap_up_s": wrap_up_s, "no_answer_s": 10})


# -- A: caller answered -> agent connected -----------------------------------------------------------------------
def baseline(load: SetupLoad, tmp: Path) -> dict[str, Any]:
    """The caller scenario straight to the agent scenario, no Hotline: INVITE -> 200 at the caller."""
    sipp = _sipp()
    uas_dir, port = tmp / "baseline-uas", free_port()
    uas_dir.mkdir(parents=True, exist_ok=True)
    uas = subprocess.Popen([sipp, "-sf", str(SCENARIOS / "agent_answers.xml"), "-t", "u1", "-i", "127.0.0.1", "-p",
                            str(port), "-mp", str(free_port()), "-nostdin", "-trace_msg", "-trace_err"],
                           cwd=uas_dir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.3)
        delays = [i / load.rate for i in range(load.calls)]
        run = run_callers(f"127.0.0.1:{port}", "caller_hangs_up.xml", delays, 0, tmp / "baseline-uac",
                          timeout_s=delays[-1] + 30)
    finally:
        _stop(uas)
    msgs = run.messages
    rtt = []
    for cid in {m.call_id for m in msgs if m.kind == "INVITE" and m.sent}:
        sent, ok = _first(msgs, cid, "INVITE", True), _first(msgs, cid, "200", False, "INVITE")
        if sent is not None and ok is not None:
            rtt.append((ok - sent) * 1000)
    return {"invite_200_ms": _round(summary(rtt), 3), "sipp": run.to_json()}


def bench_a(load: SetupLoad, tmp: Path) -> dict[str, Any]:
    """A on a fresh server; per-call server and wire timings."""
    with server(_config(wrap_up_s=0.0), rtp_ports=200) as h:
        with agent_phones(h, load.agents, "agent_answers.xml", 0, tmp / "agents-a") as phones:
            delays = [i / load.rate for i in range(load.calls)]
            run = run_callers(f"127.0.0.1:{h.sip_port}", "caller_hangs_up.xml", delays, load.talk_ms,
                              tmp / "callers-a", timeout_s=delays[-1] + 60)
            _wait_ended(h, load.calls, 30)
            calls = server_calls(h)
            m = metrics(h)
        agent_msgs: list[SipMessage] = []
        for p in phones:
            agent_msgs.extend(_messages(p.workdir))
    rows = _a_rows(calls, run, agent_msgs)
    tta = [r["time_to_agent_ms"] for r in rows if r["time_to_agent_ms"] is not None]
    hist = histogram(m, "hotline_time_to_agent_seconds")

    def col(name: str) -> dict[str, Any]:
        return _round(summary([r[name] for r in rows if r[name] is not None]), 3)

    return {
        "calls_placed": load.calls, "calls_on_server": len(calls),
        "connected_to_agent": sum(1 for r in rows if r["time_to_agent_ms"] is not None),
        "end_reasons": _count(c.get("end_reason") for c in calls),
        "time_to_agent_ms": _round(summary(tta), 3),
        "metrics_histogram": {"count": hist["count"], "mean_ms": _scaled(hist["mean"]), "p50_ms": _scaled(hist["p50"]),
                              "p95_ms": _scaled(hist["p95"]), "buckets_s": hist["buckets"],
                              "share_le_150ms": (hist["buckets"].get("0.15", 0.0) / hist["count"]
                                                 if hist["count"] else None)},
        "wire": {k: col(k) for k in WIRE_COLUMNS},
        "offers_not_answered": sum(len(_events(c, "no_answer")) + len(_events(c, "offer_failed")) for c in calls),
        "sipp": run.to_json(), "rows": rows,
    }


# Per call, besides the server's time_to_agent: caller's ACK sent -> agent's INVITE / ACK received (wire),
# the agent's own answer time, Hotline's 200 -> ACK towards the agent, Hotline's INVITE -> 200 towards the
# caller, and the part before routing starts: ACK sent -> the call's answered_at (state "connected", stamped
# by the server) -> queued_at (after the caller-number customer lookup); before_routing = wire ACK -> agent
# ACK minus time_to_agent.
WIRE_COLUMNS = ("ack_to_agent_invite_ms", "ack_to_agent_ack_ms", "agent_answer_ms", "agent_200_to_ack_ms",
                "hotline_invite_200_ms", "before_routing_ms", "ack_to_connected_ms", "connected_to_queued_ms")


def _scaled(v: float | None) -> float | None:
    return None if v is None else round(v * 1000, 3)


def _count(items: Iterator[Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for x in items:
        out[str(x)] = out.get(str(x), 0) + 1
    return out


def _a_rows(calls: list[dict[str, Any]], run: CallerRun, agent_msgs: list[SipMessage]) -> list[dict[str, Any]]:
    """Per call: the server's time to agent and the wire times around it (joined by caller number)."""
    caller = run.messages
    by_number: dict[str, str] = {}
    for m in caller:
        if m.kind == "INVITE" and m.sent and (num := m.number()):
            by_number.setdefault(num, m.call_id)
    agent_invites: dict[str, SipMessage] = {}
    for m in agent_msgs:
        if m.kind == "INVITE" and not m.sent and (num := m.number()):
            agent_invites.setdefault(num, m)
    rows = []
    for c in calls:
        num = c.get("caller_number")
        connected = _events(c, "agent_connected")
        tta = float(connected[0]["time_to_agent_s"]) * 1000 if connected else None
        row: dict[str, Any] = {"call_id": c["id"], "caller": num, "time_to_agent_ms": tta,
                               **dict.fromkeys(WIRE_COLUMNS)}
        answered, queued = _epoch(c.get("answered_at")), _epoch(c.get("queued_at"))
        if answered is not None and queued is not None:
            row["connected_to_queued_ms"] = (queued - answered) * 1000
        cid = by_number.get(num or "")
        if cid is not None:
            inv, ok = _first(caller, cid, "INVITE", True), _first(caller, cid, "200", False, "INVITE")
            ack = _first(caller, cid, "ACK", True)
            if inv is not None and ok is not None:
                row["hotline_invite_200_ms"] = (ok - inv) * 1000
            if ack is not None and answered is not None:
                row["ack_to_connected_ms"] = (answered - ack) * 1000
            leg = agent_invites.get(num or "")
            if ack is not None and leg is not None:
                a200 = _first(agent_msgs, leg.call_id, "200", True, "INVITE")
                aack = _first(agent_msgs, leg.call_id, "ACK", False)
                row["ack_to_agent_invite_ms"] = (leg.at - ack) * 1000
                if a200 is not None:
                    row["agent_answer_ms"] = (a200 - leg.at) * 1000
                if aack is not None:
                    row["ack_to_agent_ack_ms"] = (aack - ack) * 1000
                    if a200 is not None:
                        row["agent_200_to_ack_ms"] = (aack - a200) * 1000
                    if tta is not None:
                        row["before_routing_ms"] = (aack - ack) * 1000 - tta
        rows.append(_round(row, 3))
    return rows


# -- B: queueing with real calls ----------------------------------------------------------------------------------
class QueuePoller:
    """``GET /api/v1/queues`` in a loop: (epoch, waiting, available agents) of the default queue."""

    def __init__(self, h: ServerHandle, queue: str = "general") -> None:
        self.samples: list[tuple[float, int, int]] = []
        self.errors = 0
        self._queue = queue
        self._client = httpx.Client(base_url=h.http, headers={"Authorization": f"Bearer {h.key}"}, timeout=5)

    def probe(self) -> None:
        """One sample (the time is taken when the answer arrives)."""
        try:
            r = self._client.get("/api/v1/queues")
            q = next(x for x in r.json()["queues"] if x["name"] == self._queue)
        except (httpx.HTTPError, ValueError, KeyError, StopIteration):
            self.errors += 1
            return
        self.samples.append((time.time(), int(q["waiting"]), int(q["available_agents"])))

    def close(self) -> None:
        """Release the client."""
        self._client.close()


def polled_stretches(samples: Sequence[tuple[float, int, int]]) -> list[tuple[float, float, int]]:
    """Runs of consecutive samples with waiting > 0 and available > 0: (first, last, samples)."""
    out: list[tuple[float, float, int]] = []
    run: list[float] = []
    for at, waiting, free in [*samples, (float("inf"), 0, 0)]:
        if waiting > 0 and free > 0:
            run.append(at)
        elif run:
            out.append((run[0], run[-1], len(run)))
            run = []
    return out


def reconstructed_stretches(calls: list[dict[str, Any]], agent_ids: list[str], wrap_up_s: float
                            ) -> tuple[list[tuple[float, float]], dict[str, Any]]:
    """Stretches with a caller queued and an agent expected ``available``, rebuilt from the call records.

    A caller waits from ``queued_at`` until their first offer; an agent is busy from an offer until their
    hang-up plus ``wrap_up_s``. Offer and hang-up times are the store's write times of those timeline events
    (``at``), which lag the event by the store writer's queue; that lag is reported alongside.
    """
    waiting: list[tuple[float, float]] = []
    busy: dict[str, list[tuple[float, float]]] = {a: [] for a in agent_ids}
    lag = []
    for c in calls:
        queued = _epoch(c.get("queued_at"))
        offers = _events(c, "offered")
        connected = _events(c, "agent_connected")
        for e in connected:
            written = _epoch(e.get("at"))
            if written is not None and e.get("connected_at") is not None:
                lag.append(written - float(e["connected_at"]))
        if queued is None or not offers:
            continue
        first_offer = _epoch(offers[0]["at"])
        assert first_offer is not None
        if connected and connected[0].get("connected_at") is not None:
            first_offer = min(first_offer, float(connected[0]["connected_at"]))
        waiting.append((queued, first_offer))
        end = _epoch(c.get("ended_at"))
        for e in connected:
            start = min(_epoch(o["at"]) or 0.0 for o in offers if o.get("agent_id") == e["agent_id"])
            start = min(start, float(e.get("connected_at") or start))
            hang = next((_epoch(x["at"]) for x in _events(c, "agent_hangup") if x.get("agent_id") == e["agent_id"]),
                        end)
            if hang is not None and e["agent_id"] in busy:
                busy[e["agent_id"]].append((start, hang + wrap_up_s))
    if not waiting:
        return [], {"writer_lag_ms": None}
    points = sorted({t for iv in waiting for t in iv} | {t for ivs in busy.values() for iv in ivs for t in iv})
    stretches: list[tuple[float, float]] = []
    for t0, t1 in itertools.pairwise(points):
        mid = (t0 + t1) / 2
        queued_now = any(a <= mid < b for a, b in waiting)
        idle_now = any(not any(a <= mid < b for a, b in ivs) for ivs in busy.values())
        if queued_now and idle_now:
            if stretches and abs(stretches[-1][1] - t0) < 1e-9:
                stretches[-1] = (stretches[-1][0], t1)
            else:
                stretches.append((t0, t1))
    return stretches, {"writer_lag_ms": _round(summary(_ms(lag)), 3)}


def bench_b(load: QueueLoad, tmp: Path) -> dict[str, Any]:
    """B with real calls on a fresh server."""
    arrivals = load.arrivals()
    talk_ms = int(load.talk_s * 1000)
    with server(_config(wrap_up_s=load.wrap_up_s), rtp_ports=400) as h, \
            agent_phones(h, load.agents, "agent_talks.xml", talk_ms, tmp / "agents-b") as phones:
        poller = QueuePoller(h)
        with Sampler(poller.probe, POLL_S, limit_s=load.window_s + 240):
            t0 = time.time()
            run = run_callers(f"127.0.0.1:{h.sip_port}", "caller_waits.xml", arrivals, 0, tmp / "callers-b",
                              timeout_s=load.window_s + 120)
            _wait_ended(h, load.callers, 30)
        poller.close()
        calls = server_calls(h)
        m = metrics(h)
    served = [c for c in calls if c.get("agent_id")]
    waits = [float(c["wait_s"]) for c in served if c.get("wait_s") is not None]
    stretches = polled_stretches(poller.samples)
    polled_over = [s for s in stretches if s[1] - s[0] > TOLERANCE_S]
    rebuilt, info = reconstructed_stretches(calls, [p.agent_id for p in phones], load.wrap_up_s)
    rebuilt_over = [s for s in rebuilt if s[1] - s[0] > TOLERANCE_S]
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(poller.samples)]
    return {
        "load": {**load.__dict__, "offered_load": round(load.offered_load, 3)},
        "callers_placed": load.callers, "calls_on_server": len(calls), "served": len(served),
        "end_reasons": _count(c.get("end_reason") for c in calls),
        "offers_not_answered": sum(len(_events(c, "no_answer")) + len(_events(c, "offer_failed")) for c in calls),
        "wait_s": _round(summary(waits), 3),
        "service_level": _service_level(waits, len(calls)),
        "metrics": {"hotline_service_level": m.get("hotline_service_level"),
                    "queue_wait_answered": histogram(_one_label(m, "outcome=answered"), "hotline_queue_wait_seconds")},
        "polled": {"samples": len(poller.samples), "errors": poller.errors,
                   "sample_gap_ms": _round(summary(_ms(gaps)), 1),
                   "samples_waiting": sum(1 for s in poller.samples if s[1] > 0),
                   "samples_waiting_and_available": sum(1 for s in poller.samples if s[1] > 0 and s[2] > 0),
                   "stretches": [{"from_s": round(a - t0, 3), "to_s": round(b - t0, 3), "samples": n}
                                 for a, b, n in stretches],
                   "stretches_over_tolerance": len(polled_over),
                   "longest_stretch_ms": round(max(((b - a) * 1000 for a, b, _ in stretches), default=0.0), 1)},
        "reconstructed": {**info, "stretches_over_tolerance": len(rebuilt_over),
                          "longest_stretch_ms": round(max(((b - a) * 1000 for a, b in rebuilt), default=0.0), 1),
                          "total_ms": round(sum((b - a) * 1000 for a, b in rebuilt), 1),
                          "stretches": [{"from_s": round(a - t0, 3), "to_s": round(b - t0, 3)} for a, b in rebuilt]},
        "waits_by_caller": [{"caller": c.get("caller_number"), "wait_s": c.get("wait_s"),
                             "agent_id": c.get("agent_id"), "end_reason": c.get("end_reason")} for c in calls],
        "arrivals_s": [round(a, 3) for a in arrivals],
        "sipp": run.to_json(),
    }


def _one_label(m: dict[str, Any], label: str) -> dict[str, Any]:
    """The samples carrying ``label`` with that label removed (so :func:`histogram` can read them)."""
    out: dict[str, Any] = {}
    for k, v in m.items():
        if label in k:
            out[k.replace("," + label, "").replace("{" + label + "}", "").replace("{" + label + ",", "{")] = v
    return out


def _service_level(waits: list[float], total: int, within_s: float = 20.0) -> float | None:
    """Share of all callers connected within ``within_s`` (callers never connected count as misses)."""
    return round(sum(1 for w in waits if w <= within_s) / total, 4) if total else None


# -- B: discrete-event simulation of the real router ------------------------------------------------------------
class _Clock:
    now = 0.0


class _VirtualSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """Never blocks: a wait for the next timer moves the virtual clock instead (and is reported first)."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self.clock = clock
        self.on_idle: Callable[[float], None] = lambda _dt: None

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready:
            return list(ready)
        if timeout is None:
            raise RuntimeError("simulation stalled: nothing scheduled")
        if timeout > 0:
            self.on_idle(timeout)
            self.clock.now += timeout
        return []


class _VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self, clock: _Clock) -> None:
        self.vclock = clock
        self.vselector = _VirtualSelector(clock)
        super().__init__(self.vselector)

    def time(self) -> float:
        return self.vclock.now


class _SimCaller:
    """A :class:`callcenter.router.Routable`: the agent answers ``ring_s`` after the offer, hangs up after talking."""

    def __init__(self, sim: _Sim, call_id: str) -> None:
        self.sim = sim
        self.id = call_id
        self.entry: Waiting | None = None

    def offer(self, agent: AgentPresence) -> None:
        """Ring: answered after the ring time."""
        asyncio.get_running_loop().call_later(self.sim.ring_s, self._answered, agent)

    def overflowed(self, old: QueueSettings, new: QueueSettings) -> None:
        """Not used (no overflow queue)."""

    def _answered(self, agent: AgentPresence) -> None:
        assert self.entry is not None
        self.sim.router.answered(agent)
        self.sim.waits.append(self.sim.clock.now - self.entry.enqueued_at)
        asyncio.get_running_loop().call_later(self.sim.load.talk_s, self._hangup, agent)

    def _hangup(self, agent: AgentPresence) -> None:
        self.sim.router.released(agent)
        self.sim.router.leave(self.id)
        self.sim.finished += 1
        if self.sim.finished == self.sim.load.callers:
            self.sim.done.set()


class _Sim:
    def __init__(self, load: QueueLoad, ring_s: float, clock: _Clock) -> None:
        self.load, self.ring_s, self.clock = load, ring_s, clock
        self.board = AgentBoard(clock=lambda: clock.now)
        self.settings = RoutingSettings(wrap_up_s=load.wrap_up_s, moh_file=None)
        self.router = Router(self.settings, self.board)
        self.waits: list[float] = []
        self.finished = 0
        self.done = asyncio.Event()
        self.stretches: list[tuple[float, float]] = []
        self.stalled = False  # some callers were never served

    def idle(self, dt: float) -> None:
        """The state now lasts ``dt``: record it when a caller waits while an agent who could take them is free."""
        if not any(self.board.free(e.queue.language, tuple(e.queue.skills)) for e in self.router.queue.ordered()):
            return
        now = self.clock.now
        if self.stretches and abs(self.stretches[-1][1] - now) < 1e-9:
            self.stretches[-1] = (self.stretches[-1][0], now + dt)
        else:
            self.stretches.append((now, now + dt))

    async def run(self, arrivals: Sequence[float]) -> None:
        loop = asyncio.get_running_loop()
        self.router.start()
        for i in range(self.load.agents):
            self.board.sync(AgentInfo(f"a{i:02d}", f"Agent {i:02d}", f"agent{i:02d}"))
            self.board.registered(f"agent{i:02d}", True)
        queue = self.settings.queue_for(None)

        def arrive(i: int) -> None:
            caller = _SimCaller(self, f"c{i:03d}")
            caller.entry = self.router.enqueue(caller, queue)

        for i, t in enumerate(arrivals):
            loop.call_at(t, arrive, i)
        # every caller served one after another is the longest a working router can take (virtual seconds)
        limit = max(arrivals, default=0.0) + self.load.callers * (self.ring_s + self.load.talk_s + self.load.wrap_up_s)
        try:
            await asyncio.wait_for(self.done.wait(), limit + 60)
        except TimeoutError:
            self.stalled = True
        self.router.stop()
        await asyncio.sleep(0)


def simulate(load: QueueLoad, arrivals: Sequence[float], ring_s: float) -> dict[str, Any]:
    """One simulated run of the real router on a virtual clock."""
    clock = _Clock()
    loop = _VirtualLoop(clock)
    sim = _Sim(load, ring_s, clock)
    loop.vselector.on_idle = sim.idle
    try:
        loop.run_until_complete(sim.run(arrivals))
    finally:
        loop.close()
    return {"wait_s": _round(summary(sim.waits), 3), "service_level": _service_level(sim.waits, load.callers),
            "served": len(sim.waits), "stalled": sim.stalled,
            "stretches_over_tolerance": sum(1 for a, b in sim.stretches if b - a > TOLERANCE_S),
            "idle_while_waiting_s": round(sum(b - a for a, b in sim.stretches), 6), "virtual_s": round(clock.now, 3),
            "waits": [round(w, 3) for w in sim.waits]}


def bench_sim(load: QueueLoad, ring_s: float, seeds: int) -> dict[str, Any]:
    """The real run's arrivals, then ``seeds`` other seeds."""
    t0 = time.perf_counter()
    same = simulate(load, load.arrivals(), ring_s)
    runs = [simulate(load, load.arrivals(seed), ring_s) for seed in range(1000, 1000 + seeds)]
    p95s = [r["wait_s"]["p95"] for r in runs if r["wait_s"]["p95"] is not None]
    return {"ring_s": round(ring_s, 4), "same_arrivals": same, "seeds": seeds,
            "over_seeds": {"wait_p95_s": _round(summary(p95s), 3),
                           "service_level_mean": round(statistics.fmean(r["service_level"] for r in runs), 4),
                           "service_level_min": min(r["service_level"] for r in runs),
                           "max_wait_s": max(r["wait_s"]["max"] for r in runs),
                           "runs_with_idle_while_waiting": sum(1 for r in runs if r["idle_while_waiting_s"] > 0),
                           "runs_not_all_served": sum(1 for r in runs if r["stalled"]),
                           "idle_while_waiting_s_total": round(sum(r["idle_while_waiting_s"] for r in runs), 6)},
            "wall_s": round(time.perf_counter() - t0, 2)}


# -- entry points ----------------------------------------------------------------------------------------------
def run(quick: bool = False) -> BenchResult:
    """A, the baseline, B with real calls and the simulation; also writes ``benchmarks/results/routing.json``."""
    res = BenchResult("routing")
    la, lb = (QUICK_A, QUICK_B) if quick else (FULL_A, FULL_B)
    t0, load0, busy0, info = time.monotonic(), os.getloadavg(), _cpu_busy(), machine_info()
    parts: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-routing-") as t:
            tmp = Path(t)
            parts["a"] = bench_a(la, tmp)
            parts["baseline"] = baseline(la, tmp)
            parts["b"] = bench_b(lb, tmp)
    except Exception as exc:
        res.error = f"{type(exc).__name__}: {exc}"
        res.details["traceback"] = traceback.format_exc()
    median = parts["a"]["time_to_agent_ms"]["p50"] if "a" in parts else None
    parts["sim"] = bench_sim(lb, (median or 50.0) / 1000, 20 if quick else SIM_SEEDS)
    if "baseline" in parts:
        _figures_a(res, parts["a"], parts["baseline"])
    if "b" in parts:
        _figures_b(res, parts["b"])
    _figures_sim(res, parts["sim"])
    busy1 = _cpu_busy()
    res.details.update(parts, tolerance_s=TOLERANCE_S, poll_s=POLL_S, loads={"a": la.__dict__, "b": lb.__dict__},
                       load_during_run={"loadavg_before": load0, "loadavg_after": os.getloadavg(),
                                        "system_cpu_busy_pct": round(100 * (busy1[0] - busy0[0])
                                                                     / max(1, busy1[1] - busy0[1]), 1)})
    res.notes += NOTES
    doc = {"machine": info, "quick": quick, "protocol": __doc__, **res.to_json(),
           "elapsed_s": round(time.monotonic() - t0, 1)}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return res


NOTES = [
    "server: asr.enabled false (signalling and routing only), media.rtp_timeout_s 0 (sipp callers send no RTP);"
    " greeting and music on hold as shipped; A: wrap_up_s 0; B: wrap_up_s as in the load",
    "time_to_agent (server) starts when the caller's routing starts, after the ACK has been handled and the "
    "caller-number customer lookup (a store call) is done; wire ACK->agent ACK includes that part",
    "baseline: the same sipp caller scenario straight to the same sipp agent scenario (INVITE->200, no "
    "Hotline): the one SIP exchange with the agent phone that any bridge needs",
    "B idle-while-waiting: polled = server's own /api/v1/queues snapshot every ~50 ms; records = call records "
    "(offer/hang-up times are store write times, see writer_lag_ms); sim = real Router on a virtual clock, "
    "ring time = A's median time to agent",
]


def _cpu_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs."""
    with open("/proc/stat") as fh:
        vals = [int(x) for x in fh.readline().split()[1:]]
    return sum(vals) - vals[3] - vals[4], sum(vals)


def _figures_a(res: BenchResult, a: dict[str, Any], base: dict[str, Any]) -> None:
    tta, wire, hist = a["time_to_agent_ms"], a["wire"], a["metrics_histogram"]
    res.add("A calls connected to an agent", a["connected_to_agent"], "calls", a["calls_placed"], ">=")
    res.add("A time to agent p50 (server timeline)", tta["p50"], "ms")
    res.add("A time to agent p95 (server timeline)", tta["p95"], "ms", TARGET_P95_MS, "<=")
    res.add("A   /metrics histogram: calls", hist["count"], "calls")
    res.add("A   /metrics histogram: mean", hist["mean_ms"], "ms")
    res.add("A   server timeline: mean", tta["mean"], "ms")
    res.add("A   /metrics histogram: share <= 150 ms", hist["share_le_150ms"], "share")
    res.add("A caller ACK -> agent INVITE p50 (wire)", wire["ack_to_agent_invite_ms"]["p50"], "ms")
    res.add("A caller ACK -> agent INVITE p95 (wire)", wire["ack_to_agent_invite_ms"]["p95"], "ms")
    res.add("A caller ACK -> agent ACK p50 (wire)", wire["ack_to_agent_ack_ms"]["p50"], "ms")
    res.add("A caller ACK -> agent ACK p95 (wire)", wire["ack_to_agent_ack_ms"]["p95"], "ms")
    res.add("A   ACK -> call connected p95 (wire->server)", wire["ack_to_connected_ms"]["p95"], "ms")
    res.add("A   connected -> queued p95 (number lookup)", wire["connected_to_queued_ms"]["p95"], "ms")
    res.add("A   agent answer p50 (INVITE in -> 200 out)", wire["agent_answer_ms"]["p50"], "ms")
    res.add("A   Hotline INVITE->200 to caller p50", wire["hotline_invite_200_ms"]["p50"], "ms")
    bl = base["invite_200_ms"]
    res.add("A baseline sipp->sipp INVITE->200 p50", bl["p50"], "ms")
    res.add("A baseline sipp->sipp INVITE->200 p95", bl["p95"], "ms")
    over = tta["p95"] - bl["p95"] if tta["p95"] is not None and bl["p95"] is not None else None
    res.add("A overhead p95: time to agent - baseline", over, "ms")


def _figures_b(res: BenchResult, b: dict[str, Any]) -> None:
    w, pol, rec = b["wait_s"], b["polled"], b["reconstructed"]
    res.add("B callers connected to an agent (real)", b["served"], "calls", b["callers_placed"], ">=")
    res.add("B wait p50 (real)", w["p50"], "s")
    res.add("B wait p95 (real)", w["p95"], "s")
    res.add("B wait max (real)", w["max"], "s")
    res.add("B service level, within 20 s (real)", b["service_level"], "share")
    res.add("B   /metrics hotline_service_level", b["metrics"]["hotline_service_level"], "share")
    res.add(f"B idle-while-waiting >{TOLERANCE_S * 1000:.0f} ms (polled)", pol["stretches_over_tolerance"],
            "stretches", 0, "<=")
    res.add("B   waiting+available samples (polled)", pol["samples_waiting_and_available"], "samples")
    res.add("B   samples with a caller waiting (polled)", pol["samples_waiting"], "samples")
    res.add(f"B idle-while-waiting >{TOLERANCE_S * 1000:.0f} ms (records)", rec["stretches_over_tolerance"],
            "stretches", 0, "<=")
    res.add("B   longest stretch (records)", rec["longest_stretch_ms"], "ms")


def _figures_sim(res: BenchResult, sim: dict[str, Any]) -> None:
    same, over = sim["same_arrivals"], sim["over_seeds"]
    res.add("B sim: wait p50 (same arrivals)", same["wait_s"]["p50"], "s")
    res.add("B sim: wait p95 (same arrivals)", same["wait_s"]["p95"], "s")
    res.add("B sim: wait max (same arrivals)", same["wait_s"]["max"], "s")
    res.add("B sim: service level (same arrivals)", same["service_level"], "share")
    res.add(f"B sim: idle-while-waiting, {sim['seeds'] + 1} runs", over["idle_while_waiting_s_total"]
            + same["idle_while_waiting_s"], "s", 0, "<=")
    res.add(f"B sim: runs with callers never served, {sim['seeds'] + 1}",
            over["runs_not_all_served"] + int(same["stalled"]), "runs", 0, "<=")
    res.add(f"B sim: service level mean, {sim['seeds']} seeds", over["service_level_mean"], "share")
    res.add(f"B sim: wait p95 median, {sim['seeds']} seeds", over["wait_p95_s"]["p50"], "s")


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.routing [--quick]``: run, print the table, exit 0 when every target is met."""
    from benchmarks.run import table

    ap = argparse.ArgumentParser(prog="python -m benchmarks.routing", description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes")
    args = ap.parse_args(argv)
    t0 = time.monotonic()
    res = run(args.quick)
    res.elapsed_s = time.monotonic() - t0
    print(table([res]))
    print(f"results: {OUT}")
    return 0 if res.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
