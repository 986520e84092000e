"""Hint latency on real calls: from a caller's ``final`` to its ``hint``, and from the end of speech to the agent.

Protocol (``python -m benchmarks.hint_latency [--quick]``; also ``python -m benchmarks.run --only hint_latency``):

* audio: the Korean espeak-ng "안녕하세요" of the test suite (``tests.support.audio.make_speech``, 1 s of silence
  before and after, 8 kHz); the server hears it as "연파 네요", which fires ``kb:greeting-test`` of the test
  knowledge base ``tests/fixtures/knowledge_ko``. The last voiced sample (first sample from the end above 1 % of
  full scale) fixes the 20 ms RTP packet that ends the utterance;
* calls: sipp (INVITE, PCMU, ``rtp_stream`` of the file as raw u-law played once, BYE), so each RTP packet's
  payload is known: the utterance's last packet is found on the wire by its payload;
* packet clock (root only): an AF_PACKET socket on ``lo`` with kernel receive timestamps (SO_TIMESTAMPNS)
  records every RTP packet to the server's ports; "utterance end" = kernel time of that last voiced packet;
* WebSocket clock: every call's ``/api/v1/calls/{id}/events`` is opened as soon as ``GET /api/v1/calls``
  (polled every 20 ms) lists it; each message is stamped with ``time.time()`` when ``recv`` returns. Same
  machine, same clock as the packet clock;
* part A (routing off, so calls are answered and transcribed without queueing): one warm-up call (loads the
  recognizer), then N calls (30; ``--quick``: 8) started 1.5 s apart (2 or 3 at a time). Figures: ``final`` ->
  ``hint`` arrival on the WebSocket (target p95 <= 100 ms); baselines in the same run: the WebSocket delivery of
  the ``final`` itself (arrival - its server publish ``ts``) and ``HintSession.on_final`` alone on the same
  texts; the server's ``hotline_hint_latency_seconds`` histogram (warm-up call subtracted); end to end: utterance
  end -> ``final`` and -> ``hint`` on the WebSocket;
* part B (routing on, one agent whose ``hotline phone register --auto-answer`` phone takes every call, the
  console at ``/console`` signed in as that agent in Debian's Chromium driven by Playwright): a
  MutationObserver in the page stamps ``performance.timeOrigin + performance.now()`` when a hint's element is
  inserted (and again at the next animation frame, i.e. when it is painted). The first call is a probe: when
  the console shows no hint for it, part B stops there and reports why, and the end to end figure stays at
  the WebSocket (part A).

Results: a table on stdout and ``benchmarks/results/hint_latency.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from benchmarks import sipp, speech
from benchmarks.calls import CallWatch, follow_events
from benchmarks.harness import (
    RESULTS,
    ROOT,
    BenchResult,
    histogram,
    machine_info,
    metrics,
    server,
    shipped_config,
    summary,
)
from benchmarks.sniff import ETH_P_ALL, rtp_on_loopback
from tests.support.server import ServerHandle

OUT = RESULTS / "hint_latency.json"
KNOWLEDGE_KO = ROOT / "tests" / "fixtures" / "knowledge_ko"
HINT_ID = "kb:greeting-test"
TARGET_P95_MS = 100.0
HIST = "hotline_hint_latency_seconds"
CHROMIUM = "/usr/bin/chromium"
AGENT, AGENT_PASSWORD = "bench.hints", "bench-hints-1"
PACKET = 160  # PCMU samples (and bytes) per 20 ms RTP packet
VOICED = 0.01  # |sample| above this share of full scale counts as voiced
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux value; Python does not export it
STREAM_GAP_S = 1.0  # a pause this long in one (source, destination, SSRC) flow starts a new stream

# Runs in the console page: every hint element inserted into the hints list is stamped at insertion (DOM) and at
# the next animation frame (painted), with the call the desk shows and the wall clock for a sanity check.
OBSERVER_JS = """() => {
  window.__hintTimes = [];
  const list = document.getElementById("hints");
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      for (const node of m.addedNodes) {
        if (node.nodeType !== 1 || !node.matches("li.hint")) continue;
        const row = { hint: node.dataset.hintId || "", call: document.getElementById("call").dataset.callId || "",
                      dom_ms: performance.timeOrigin + performance.now(), date_ms: Date.now(), frame_ms: null };
        window.__hintTimes.push(row);
        requestAnimationFrame(() => { row.frame_ms = performance.timeOrigin + performance.now(); });
      }
    }
  }).observe(list, { childList: true });
}"""


# -- audio ------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Utterance:
    """The caller's audio: WAV and raw u-law, where the voice ends, and the payload of the packet that ends it."""

    wav: Path
    ulaw: Path
    duration_s: float
    voiced_end_s: float
    end_packet: int  # index (from 0) of the RTP packet holding the last voiced sample
    end_payload: bytes

    def to_json(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"wav": str(self.wav), "duration_s": round(self.duration_s, 3),
                "voiced_end_s": round(self.voiced_end_s, 4), "end_packet": self.end_packet}


def make_utterance(directory: Path) -> Utterance:
    """The test suite's "안녕하세요" (what the fixture's article is triggered by), cut to whole packets."""
    from tests.support.audio import make_speech

    wav = make_speech(directory / "hello_8k.wav", phrases=(("안녕하세요", 150),))
    pcm, rate = sf.read(str(wav), dtype="int16")
    assert rate == speech.RATE, rate
    pcm = pcm[: pcm.size - pcm.size % PACKET]
    sf.write(str(wav), pcm, rate, subtype="PCM_16")
    voiced = np.flatnonzero(np.abs(pcm.astype(np.int32)) > VOICED * 32767)
    if not voiced.size:
        raise RuntimeError("espeak-ng produced silence")
    last = int(voiced[-1])
    ulaw = speech.ulaw_file(wav, directory / "hello_8k.ulaw")
    k = last // PACKET
    payload = ulaw.read_bytes()[k * PACKET : (k + 1) * PACKET]
    return Utterance(wav, ulaw, pcm.size / rate, (last + 1) / rate, k, payload)


def caller_scenario(path: Path, utt: Utterance, tail_ms: int = 400) -> Path:
    """sipp UAC: INVITE/200/ACK, the file played once as RTP, a short pause after it, BYE/200."""
    hold_ms = math.ceil(utt.duration_s * 1000) + tail_ms
    sipp.scenario(path, hold_ms, utt.ulaw)
    xml = path.read_text()
    once = xml.replace(f'rtp_stream="{utt.ulaw},-1,0"', f'rtp_stream="{utt.ulaw},1,0"')  # -1 loops, 1 plays once
    if once == xml:
        raise RuntimeError("benchmarks.sipp.scenario changed: could not make its rtp_stream play once")
    path.write_text(once)
    return path


# -- packet clock -----------------------------------------------------------------------------------------------
@dataclass
class Stream:
    """One caller's RTP stream as seen arriving on ``lo``: kernel arrival time, sequence number and payload."""

    sport: int
    dport: int
    ssrc: int
    packets: list[tuple[float, int, bytes]] = field(default_factory=list)

    @property
    def first_at(self) -> float:
        """Kernel arrival time of the first packet."""
        return self.packets[0][0]

    def find(self, payload: bytes) -> tuple[float, int] | None:
        """Arrival time and index in the stream of the first packet carrying ``payload``."""
        for i, (at, _, data) in enumerate(self.packets):
            if data == payload:
                return at, i
        return None


class PacketClock:
    """RTP packets to a UDP port range on ``lo``, stamped by the kernel (AF_PACKET + SO_TIMESTAMPNS; needs root).

    Without the privilege it records nothing (``available`` is False) and the end-to-end figures are left out.
    """

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high
        self.available = False
        self.error: str | None = None
        self._packets: list[tuple[float, int, int, int, int, bytes]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="packet-clock", daemon=True)
        self._sock: socket.socket | None = None

    def __enter__(self) -> PacketClock:
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(ETH_P_ALL))
            sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            sock.bind(("lo", 0))
            sock.settimeout(0.2)
        except (OSError, AttributeError) as exc:
            self.error = f"no packet clock: {exc}"
            return self
        self._sock, self.available = sock, True
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.available:
            self._thread.join(5)
        if self._sock is not None:
            self._sock.close()

    def _run(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                data, ancillary, _, addr = self._sock.recvmsg(2048, 64)
            except TimeoutError:
                continue
            except OSError:
                return
            found = rtp_on_loopback(data, addr[2] == socket.PACKET_OUTGOING, self.low, self.high)
            if found is None or found[2][1] & 0x7F != 0:  # PCMU only
                continue
            sport, dport, rtp = found
            at = next((sec + nsec / 1e9 for level, kind, raw in ancillary
                       if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS
                       for sec, nsec in [struct.unpack("qq", raw[:16])]), None)
            if at is None:
                continue
            seq, ssrc = struct.unpack("!H", rtp[2:4])[0], struct.unpack("!I", rtp[8:12])[0]
            with self._lock:
                self._packets.append((at, sport, dport, ssrc, seq, bytes(rtp[12:])))

    def streams(self) -> list[Stream]:
        """Packets grouped by (source port, destination port, SSRC), split where the flow paused."""
        with self._lock:
            packets = sorted(self._packets)
        open_: dict[tuple[int, int, int], Stream] = {}
        out: list[Stream] = []
        for at, sport, dport, ssrc, seq, payload in packets:
            key = (sport, dport, ssrc)
            cur = open_.get(key)
            if cur is None or at - cur.packets[-1][0] > STREAM_GAP_S:
                cur = open_[key] = Stream(sport, dport, ssrc)
                out.append(cur)
            cur.packets.append((at, seq, payload))
        return out


# -- calls and their WebSockets -----------------------------------------------------------------------------------
class CallFollower:
    """Polls ``GET /api/v1/calls`` every 20 ms and follows the WebSocket of every call not seen before."""

    def __init__(self, handle: ServerHandle, poll_s: float = 0.02) -> None:
        self.handle, self.poll_s = handle, poll_s
        with handle.client() as c:
            self._known = {x["id"] for x in c.get("/api/v1/calls", params={"limit": 500}).json()["calls"]}
        self.watches: dict[str, CallWatch] = {}
        self.found_at: dict[str, float] = {}
        self.errors: list[str] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._run, name="call-poller", daemon=True)

    def __enter__(self) -> CallFollower:
        self._poller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self, timeout: float = 15) -> None:
        """Stop polling and wait for the followed calls' sockets to close (they close when their call ends)."""
        self._stop.set()
        self._poller.join(5)
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.1, deadline - time.monotonic()))

    def _run(self) -> None:
        with self.handle.client() as c:
            while not self._stop.is_set():
                try:
                    calls = c.get("/api/v1/calls", params={"limit": 50}).json()["calls"]
                except Exception as exc:  # keep polling: a slow answer under load is not a reason to stop
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                    calls = []
                for call in calls:
                    if call["id"] not in self._known and call["id"] not in self.watches:
                        self._follow(call["id"])
                self._stop.wait(self.poll_s)

    def _follow(self, call_id: str) -> None:
        watch = self.watches[call_id] = CallWatch(call_id)
        self.found_at[call_id] = time.time()

        def target() -> None:
            try:
                follow_events(self.handle, call_id, watch, 120)
            except Exception as exc:
                watch.error = f"{type(exc).__name__}: {exc}"

        t = threading.Thread(target=target, name=f"ws-{call_id[:8]}", daemon=True)
        self._threads.append(t)
        t.start()


def hint_key(ev: dict[str, Any]) -> str:
    """The hint's own id (kept under ``hint_id`` should the event's ``id`` ever become the bus sequence again)."""
    return str(ev.get("hint_id", ev.get("id")))


def first_hint(watch: CallWatch) -> dict[str, Any] | None:
    """The call's first ``hint`` event with the caller ``final`` just before it in the stream, and their times."""
    final: tuple[float, dict[str, Any]] | None = None
    for at, ev in watch.events:
        if ev.get("type") == "final" and ev.get("leg") == "caller":
            final = (at, ev)
        elif ev.get("type") == "hint" and final is not None:
            f_at, f_ev = final
            return {"hint_id": hint_key(ev), "hint_kind": ev.get("hint_kind"), "final_text": f_ev.get("text"),
                    "final_arrival": f_at, "final_ts": float(f_ev["ts"]), "hint_arrival": at,
                    "hint_ts": float(ev["ts"]),
                    "hints": [hint_key(e) for _, e in watch.events if e.get("type") == "hint"]}
    return None


def analyse(watch: CallWatch, streams: list[Stream], utt: Utterance) -> dict[str, Any]:
    """One call: its hint timings on the WebSocket, and (with the packet clock) its utterance's last packet."""
    row: dict[str, Any] = {"call_id": watch.call_id, "ws_error": watch.error}
    got = first_hint(watch)
    row["finals"] = [e.get("text") for _, e in watch.of("final")]
    if got is None:
        row["hint"] = None
        return row
    row.update(got)
    row["final_to_hint_ms"] = (got["hint_arrival"] - got["final_arrival"]) * 1000
    row["server_final_to_hint_ms"] = (got["hint_ts"] - got["final_ts"]) * 1000  # publish ts, 1 ms resolution
    row["final_ws_delivery_ms"] = (got["final_arrival"] - got["final_ts"]) * 1000
    row["hint_ws_delivery_ms"] = (got["hint_arrival"] - got["hint_ts"]) * 1000
    first_frame = watch.first_frame_at
    stream = _stream_of(streams, first_frame, utt) if first_frame is not None else None
    found = stream.find(utt.end_payload) if stream is not None else None
    if stream is not None and found is not None and first_frame is not None:
        end_at, index = found
        row.update(end_packet_at=end_at, end_packet_index=index, end_packet_index_expected=utt.end_packet,
                   first_frame_behind_first_packet_ms=(first_frame - stream.first_at) * 1000,
                   end_to_final_ms=(got["final_arrival"] - end_at) * 1000,
                   end_to_hint_ms=(got["hint_arrival"] - end_at) * 1000)
    return row


def _stream_of(streams: list[Stream], first_frame_at: float, utt: Utterance) -> Stream | None:
    """The caller stream of a call: carries the utterance's last packet, and began closest to the call's first
    audio frame (server clock, stamped when the event loop handled that frame), no more than 0.5 s apart."""
    mine = [s for s in streams if s.find(utt.end_payload) is not None]
    best = min(mine, key=lambda s: abs(first_frame_at - s.first_at), default=None)
    return best if best is not None and abs(first_frame_at - best.first_at) <= 0.5 else None


def _ms(values: list[dict[str, Any]], key: str) -> list[float]:
    return [float(r[key]) for r in values if r.get(key) is not None]


def _hist_since(before: dict[str, Any], after: dict[str, Any], name: str) -> dict[str, Any]:
    """A histogram's change between two ``metrics()`` snapshots (so a warm-up call is left out)."""
    diff = {k: v - before.get(k, 0.0) for k, v in after.items() if k.startswith(name)}
    return histogram(diff, name)


# -- part A: final -> hint on the WebSocket -------------------------------------------------------------------------
def part_a(utt: Utterance, work: Path, n_calls: int, interval_s: float = 1.5) -> dict[str, Any]:
    """Routing off: warm-up call, then ``n_calls`` sipp calls ``interval_s`` apart, all followed on the WebSocket."""
    cfg = shipped_config(routing={"enabled": False}, hints={"knowledge_dir": str(KNOWLEDGE_KO)})
    scen = caller_scenario(work / "caller.xml", utt)
    out: dict[str, Any] = {"server_config": cfg, "n_calls": n_calls, "interval_s": interval_s}
    with server(cfg) as h:
        target = h.sip_uri.split("@", 1)[1]
        media = h.extra["config"]["media"]
        warm = sipp.run(target, scen, 1, 1, 1, work / "sipp-warmup", 30)
        out["warmup"] = warm.to_json()
        h.wait_call_ended(count=1, timeout=30)
        before = metrics(h)
        with PacketClock(media["rtp_port_min"], media["rtp_port_max"]) as clock, CallFollower(h) as follower:
            run = sipp.run(target, scen, n_calls, 1 / interval_s, n_calls, work / "sipp-a", 60 + n_calls * interval_s)
            _wait_ended(h, follower, n_calls)
            follower.stop()
            streams = clock.streams()
        after = metrics(h)
        out["sipp"] = run.to_json()
        out["packet_clock"] = {"available": clock.available, "error": clock.error, "streams": len(streams)}
        out["poll_errors"] = follower.errors[:5]
        out["server_histogram"] = _hist_since(before, after, HIST)
        out["server_histogram_incl_warmup"] = histogram(after, HIST)
        out["calls"] = [analyse(w, streams, utt) for w in follower.watches.values()]
    return out


def _wait_ended(h: ServerHandle, follower: CallFollower, n: int, timeout: float = 60) -> None:
    """Until ``n`` followed calls are over (their WebSockets then close by themselves)."""
    deadline = time.monotonic() + timeout
    with h.client() as c:
        while time.monotonic() < deadline:
            ids = set(follower.watches)
            calls = c.get("/api/v1/calls", params={"limit": 500}).json()["calls"]
            if len(ids) >= n and sum(1 for x in calls if x["id"] in ids and x["state"] == "ended") >= len(ids):
                return
            time.sleep(0.2)


def engine_only(texts: list[str]) -> list[float]:
    """Milliseconds of ``HintSession.on_final`` alone (fresh session per final, as each call has its own) on the
    finals the calls produced, with the same knowledge base and hint settings as the server."""
    from hints.engine import HintEngine
    from hints.settings import HintSettings

    hints_cfg = {**shipped_config().get("hints", {}), "knowledge_dir": str(KNOWLEDGE_KO)}
    engine = HintEngine.load(HintSettings(**hints_cfg))
    for text in texts[:3]:  # warm the lemma cache like the server's first call did
        engine.session().on_final(text, "caller", "ko")
    out = []
    for text in texts:
        session = engine.session()
        t0 = time.perf_counter_ns()
        session.on_final(text, "caller", "ko")
        out.append((time.perf_counter_ns() - t0) / 1e6)
    return out


# -- part B: the console in Chromium -------------------------------------------------------------------------------
def part_b(utt: Utterance, work: Path, n_calls: int) -> dict[str, Any]:
    """Routing on, one auto-answering agent phone, the console signed in as that agent; calls one at a time."""
    from tests.support.agents import create_agent, register_phone, wait_state

    out: dict[str, Any] = {"browser": {"usable": False, "reason": None}, "calls": []}
    if not Path(CHROMIUM).exists():
        out["browser"]["reason"] = f"{CHROMIUM} is not installed"
        return out
    cfg = shipped_config(routing={"wrap_up_s": 0, "no_answer_s": 5}, hints={"knowledge_dir": str(KNOWLEDGE_KO)})
    out["server_config"] = cfg
    scen = caller_scenario(work / "caller-b.xml", utt)
    with server(cfg) as h:
        target = h.sip_uri.split("@", 1)[1]
        media = h.extra["config"]["media"]
        with h.client() as c:
            agent = create_agent(c, "Hint Bench", AGENT, AGENT_PASSWORD, languages=[], skills=[])
        phone = register_phone(h, AGENT, AGENT_PASSWORD, "--auto-answer")
        try:
            with h.client() as c:
                wait_state(c, agent["id"], "available")
            with _console(h, out) as page, PacketClock(media["rtp_port_min"], media["rtp_port_max"]) as clock, \
                    CallFollower(h) as follower:
                if page is not None:
                    _browser_calls(h, page, scen, target, agent["id"], n_calls, work, follower, out)
                follower.stop()
                streams = clock.streams()
                rendered = page.evaluate("window.__hintTimes") if page is not None else []
                out["browser"]["clock_check"] = _clock_check(page) if page is not None else None
            out["packet_clock"] = {"available": clock.available, "error": clock.error}
            by_call: dict[str, dict[str, Any]] = {}
            for r in rendered:
                by_call.setdefault(r["call"], r)  # the first hint element shown for each call
            for n, watch in enumerate(follower.watches.values()):
                row = analyse(watch, streams, utt)
                row["probe"] = n == 0
                seen = by_call.get(watch.call_id or "")
                row["rendered"] = seen
                offered = [float(e["ts"]) for _, e in watch.events if e.get("type") == "offered"]
                row["offered_before_utterance_end"] = (bool(offered) and row.get("end_packet_at") is not None
                                                       and min(offered) < row["end_packet_at"])
                if seen and row.get("end_packet_at") is not None:
                    end = row["end_packet_at"]
                    row["end_to_dom_ms"] = seen["dom_ms"] - end * 1000
                    row["end_to_frame_ms"] = seen["frame_ms"] - end * 1000 if seen.get("frame_ms") else None
                    arrival = row.get("hint_arrival")
                    row["ws_to_dom_ms"] = seen["dom_ms"] - arrival * 1000 if arrival else None
                out["calls"].append(row)
        finally:
            phone.stop()
            out["feed_errors"] = [ln for ln in h.log().splitlines() if "agent feed" in ln][:3]
    return out


@contextlib.contextmanager
def _console(h: ServerHandle, out: dict[str, Any]) -> Iterator[Any]:
    """Chromium with the console signed in as the bench agent and the observer installed (None if that failed)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            try:
                page.goto(f"{h.http}/console/")
                page.fill("#username", AGENT)
                page.fill("#password", AGENT_PASSWORD)
                page.click("#login-form button[type=submit]")
                page.wait_for_selector('#link[data-state="live"]', timeout=15_000)
                page.evaluate(OBSERVER_JS)
            except PlaywrightError as exc:
                out["browser"]["reason"] = f"console sign-in failed: {str(exc).splitlines()[0]}"
                yield None
                return
            out["browser"]["page_errors"] = errors
            yield page
        finally:
            browser.close()


def _browser_calls(h: ServerHandle, page: Any, scen: Path, target: str, agent_id: str, n_calls: int, work: Path,
                   follower: CallFollower, out: dict[str, Any]) -> None:
    """A probe call, then (if the console showed its hint) ``n_calls`` more, one at a time."""
    from tests.support.agents import wait_state

    for n in range(n_calls + 1):
        known = set(follower.watches)
        run = sipp.run(target, scen, 1, 1, 1, work / f"sipp-b{n}", 30)
        if run.successful != 1:
            out["browser"]["reason"] = f"sipp call {n} failed: {run.to_json()}"
            return
        new = set(follower.watches) - known
        for call_id in new:
            h.wait_call_ended(call_id, timeout=30)
        failure = _probe_failure(page, follower, new) if n == 0 else None
        if failure is not None:
            feed = [ln for ln in h.log().splitlines() if "agent feed" in ln]
            out["browser"]["reason"] = failure + (f"; server log: {feed[0].split('] ', 1)[-1]}" if feed else "")
            return
        with h.client() as c:
            wait_state(c, agent_id, "available")
    out["browser"]["usable"] = True


def _probe_failure(page: Any, follower: CallFollower, call_ids: set[str], wait_s: float = 5.0) -> str | None:
    """None when the page showed a hint of the (ended) probe call within ``wait_s``; else why it did not."""
    if not any(first_hint(follower.watches[c]) for c in call_ids if c in follower.watches):
        return "the probe call had no hint on its call WebSocket, so there was nothing to look for in the console"
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if any(r["call"] in call_ids for r in page.evaluate("window.__hintTimes")):
            return None
        page.wait_for_timeout(100)
    return f"the console showed no hint for the probe call within {wait_s:g} s although its call WebSocket had one"


def _clock_check(page: Any) -> dict[str, float]:
    """The page's clock (timeOrigin + now, and Date.now) against ``time.time()`` read around it, in ms."""
    before = time.time() * 1000
    perf, date = page.evaluate("[performance.timeOrigin + performance.now(), Date.now()]")
    after = time.time() * 1000
    return {"perf_minus_python_mid_ms": round(perf - (before + after) / 2, 3),
            "round_trip_ms": round(after - before, 3), "perf_minus_date_ms": round(perf - date, 3)}


# -- result -----------------------------------------------------------------------------------------------------
def run(quick: bool = False) -> BenchResult:
    """Both parts; the result is also written to ``benchmarks/results/hint_latency.json``."""
    res = BenchResult("hint_latency")
    t0, load0 = time.monotonic(), os.getloadavg()
    n_a, n_b = (8, 3) if quick else (30, 8)
    with tempfile.TemporaryDirectory(prefix="bench-hint-latency-") as tmp:
        work = Path(tmp)
        utt = make_utterance(work)
        res.details["utterance"] = utt.to_json()
        a = part_a(utt, work, n_a)
        b = part_b(utt, work, n_b)
    calls = [c for c in a["calls"] if c.get("final_to_hint_ms") is not None]
    engine = engine_only([c["final_text"] for c in calls])
    _figures_a(res, a, calls, engine, n_a)
    _figures_b(res, b, n_b)
    res.details.update(end_to_end_measured_to=(
        "the hint's element in the console page (Chromium)" if b["browser"]["usable"] else
        f"the call WebSocket only (browser-equivalent): the console was not measured: {b['browser']['reason']}"),
        part_a=a, part_b=b, engine_only_ms=summary(engine))
    _notes(res, a, b)
    res.elapsed_s = time.monotonic() - t0
    res.details["loadavg"] = {"before": load0, "after": os.getloadavg()}
    _write(res, quick)
    return res


def _add3(res: BenchResult, name: str, values: list[float], target: float | None = None) -> None:
    s = summary(values)
    res.add(f"{name} p50", s["p50"], "ms")
    res.add(f"{name} p95", s["p95"], "ms", target, "<=" if target is not None else "")
    res.add(f"{name} max", s["max"], "ms")


def _figures_a(res: BenchResult, a: dict[str, Any], calls: list[dict[str, Any]], engine: list[float], n: int) -> None:
    res.add("A: calls whose hint reached the WebSocket", sum(1 for c in calls if c["hint_id"] == HINT_ID),
            f"of {n}", n, ">=")
    _add3(res, "A: final->hint on WS", _ms(calls, "final_to_hint_ms"), TARGET_P95_MS)
    res.add("A: server publish final->hint p95 (ts, 1 ms)", summary(_ms(calls, "server_final_to_hint_ms"))["p95"], "ms")
    res.add("A: baseline final WS delivery p50", summary(_ms(calls, "final_ws_delivery_ms"))["p50"], "ms")
    res.add("A: baseline final WS delivery p95", summary(_ms(calls, "final_ws_delivery_ms"))["p95"], "ms")
    res.add("A: hint WS delivery p95", summary(_ms(calls, "hint_ws_delivery_ms"))["p95"], "ms")
    res.add("A: baseline engine-only on_final p50", summary(engine)["p50"], "ms")
    res.add("A: baseline engine-only on_final p95", summary(engine)["p95"], "ms")
    hist = a["server_histogram"]
    res.add("A: server histogram count", hist["count"], "hints")
    res.add("A: server histogram p50 (bucketed)", None if hist["p50"] is None else hist["p50"] * 1000, "ms")
    res.add("A: server histogram p95 (bucketed)", None if hist["p95"] is None else hist["p95"] * 1000, "ms")
    res.add("A: server histogram mean", None if hist["mean"] is None else hist["mean"] * 1000, "ms")
    if any(c.get("end_to_hint_ms") is not None for c in calls):
        res.add("A: utterance end->final on WS p95", summary(_ms(calls, "end_to_final_ms"))["p95"], "ms")
        _add3(res, "A: utterance end->hint on WS", _ms(calls, "end_to_hint_ms"))


def _figures_b(res: BenchResult, b: dict[str, Any], n: int) -> None:
    measured = [c for c in b["calls"] if not c.get("probe") and c.get("end_to_dom_ms") is not None
                and c.get("offered_before_utterance_end")]
    res.add("B: browser console usable", 1.0 if b["browser"]["usable"] else 0.0, "1 = yes")
    if not b["browser"]["usable"]:
        return
    res.add("B: calls with the hint rendered", len(measured), f"of {n}", n, ">=")
    _add3(res, "B: utterance end->hint in DOM", _ms(measured, "end_to_dom_ms"))
    res.add("B: utterance end->hint painted p95", summary(_ms(measured, "end_to_frame_ms"))["p95"], "ms")
    res.add("B: call WS->console DOM p50", summary(_ms(measured, "ws_to_dom_ms"))["p50"], "ms")


def _notes(res: BenchResult, a: dict[str, Any], b: dict[str, Any]) -> None:
    res.notes.append("final->hint = arrival of the hint - arrival of the caller final just before it on the "
                     "call's WebSocket (time.time() when recv returns, one client thread per call)")
    res.notes.append("baseline: the final's own WebSocket delivery (arrival - its server publish ts, rounded to "
                     "1 ms by the bus) is what any event pays to reach a client; engine-only = HintSession."
                     "on_final on the same recognized texts in this process (fresh session per call)")
    res.notes.append("server histogram: perf_counter from just before the final is published to after its hints "
                     "are published, bucketed (1, 5, 10, 25 ms ...): p50/p95 are interpolated inside a bucket")
    if a["packet_clock"]["available"]:
        res.notes.append("utterance end = kernel receive time (SO_TIMESTAMPNS on lo) of the RTP packet whose payload "
                         "is the file's packet holding the last voiced sample; it includes the VAD's "
                         "vad_silence_ms wait and the recognizer's final")
    else:
        res.notes.append(f"end-to-end figures left out: {a['packet_clock']['error']}")
    if b["browser"]["usable"]:
        res.notes.append("B: hint in DOM = performance.timeOrigin + performance.now() in a MutationObserver on "
                         "#hints when the hint's <li> is inserted; painted = the next requestAnimationFrame; "
                         "the first call of part B is a probe and is not counted")
    else:
        res.notes.append(f"B: NOT measured in the browser ({b['browser']['reason']}); the end-to-end figure "
                         "stops at the call WebSocket (A: utterance end->hint on WS), which is the last hop "
                         "before a browser")


def _write(res: BenchResult, quick: bool) -> None:
    doc: dict[str, Any] = {"machine": machine_info(), "quick": quick, "protocol": __doc__, **res.to_json()}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def main() -> None:
    """Command line entry point: print the table."""
    from benchmarks.run import run_one, table

    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="8 + 3 calls instead of 30 + 8")
    args = ap.parse_args()
    res = run_one("hint_latency", run, args.quick)
    print(table([res]))
    print(f"results: {OUT}")


if __name__ == "__main__":
    main()
