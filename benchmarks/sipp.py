"""sipp as the load generator: UAC scenarios, a bounded run, and its statistics."""

from __future__ import annotations

import contextlib
import csv
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.harness import cpu_seconds, find_port_range, percentile
from tests.support.net import free_port

_HEADERS = """Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:bench@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:service@[remote_ip]:[remote_port]>"""

_INVITE = """  <send retrans="500" start_rtd="setup">
    <![CDATA[

      INVITE sip:service@[remote_ip]:[remote_port] SIP/2.0
      {headers}
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:bench@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=bench 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio {media_port} RTP/AVP 0
      a=rtpmap:0 PCMU/8000
      a=ptime:20

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="setup"/>
  <send>
    <![CDATA[

      ACK sip:service@[remote_ip]:[remote_port] SIP/2.0
      {headers}[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:bench@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"""

_BYE = """  <send retrans="500" start_rtd="bye">
    <![CDATA[

      BYE sip:service@[remote_ip]:[remote_port] SIP/2.0
      {headers}[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:bench@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" rtd="bye"/>
"""


def scenario(path: Path, hold_ms: int, stream: Path | None = None) -> Path:
    """A UAC: INVITE (PCMU SDP) / 200 / ACK, optionally loop ``stream`` (raw u-law) as RTP, pause, BYE / 200."""
    media_port = "[rtpstream_audio_port]" if stream is not None else "[media_port]"
    body = [_INVITE.format(headers=_HEADERS, media_port=media_port)]
    if stream is not None:
        body.append(f'  <nop><action><exec rtp_stream="{stream},-1,0"/></action></nop>\n')
    body.append(f'  <pause milliseconds="{hold_ms}"/>\n')
    body.append(_BYE.format(headers=_HEADERS))
    xml = ('<?xml version="1.0" encoding="ISO-8859-1" ?>\n<!DOCTYPE scenario SYSTEM "sipp.dtd">\n'
           f'<scenario name="hotline bench">\n{"".join(body)}</scenario>\n')
    path.write_text(xml)
    return path


@dataclass
class SippRun:
    """Outcome of one sipp run."""

    rc: int
    wall_s: float
    cpu_s: float
    stats: dict[str, str] = field(default_factory=dict)
    setup_ms: list[float] = field(default_factory=list)
    setup_done_at: list[float] = field(default_factory=list)
    errors: str = ""

    def count(self, column: str) -> int:
        """An integer column of the last statistics line (0 when missing)."""
        try:
            return int(float(self.stats.get(column, "0") or 0))
        except ValueError:
            return 0

    @property
    def failed(self) -> int:
        """Failed calls (sipp's cumulative counter)."""
        return self.count("FailedCall(C)")

    @property
    def successful(self) -> int:
        """Successful calls."""
        return self.count("SuccessfulCall(C)")

    def to_json(self) -> dict[str, Any]:
        """The parts worth keeping."""
        keep = ("TotalCallCreated", "SuccessfulCall(C)", "FailedCall(C)", "Retransmissions(C)", "CallRate(C)",
                "ElapsedTime(C)", "FailedCallRejected(C)", "FailedMaxUDPRetrans(C)", "FailedUnexpectedMessage(C)",
                "FailedCallLost(C)", "FailedRegexpDoesntMatch(C)", "FailedCmdNotSent(C)", "OutOfCallMsgs(C)",
                "Watchdog", "ResponseTimesetup(C)", "ResponseTimebye(C)")
        return {"rc": self.rc, "wall_s": round(self.wall_s, 2), "cpu_s": round(self.cpu_s, 2),
                "stats": {k: self.stats[k] for k in keep if k in self.stats},
                "setup_ms": {"n": len(self.setup_ms), "p50": percentile(self.setup_ms, 50),
                             "p95": percentile(self.setup_ms, 95), "max": max(self.setup_ms, default=None)},
                "errors": self.errors[-2000:]}


def run(target: str, scen: Path, calls: int, rate: float, limit: int, workdir: Path, timeout_s: float,
        rtp_ports: int = 0) -> SippRun:
    """Run sipp in ``workdir`` for at most ``calls`` calls and ``timeout_s`` seconds."""
    sipp = shutil.which("sipp")
    if sipp is None:
        raise RuntimeError("sipp is not installed (make bench installs it)")
    workdir.mkdir(parents=True, exist_ok=True)
    stat = workdir / "stats.csv"
    media = find_port_range(rtp_ports, 10000, 20000)[0] if rtp_ports else free_port()
    cmd = [sipp, "-sf", str(scen), "-i", "127.0.0.1", "-mi", "127.0.0.1", "-p", str(free_port()), "-mp", str(media),
           "-m", str(calls), "-l", str(limit), "-r", str(rate), "-rp", "1000", "-recv_timeout", "15000",
           "-timeout", f"{int(timeout_s)}s", "-timeout_error", "-nostdin", "-trace_stat", "-stf", str(stat),
           "-fd", "1", "-trace_err", "-error_file", str(workdir / "errors.log"), "-trace_rtt", "-rtt_freq", "1",
           "-max_socket", "4096"]
    cmd.append(target)
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    cpu = 0.0
    try:
        while proc.poll() is None and time.monotonic() - t0 < timeout_s + 30:
            with contextlib.suppress(OSError, IndexError):
                cpu = cpu_seconds(proc.pid)
            time.sleep(0.25)
        if proc.poll() is None:
            proc.kill()
    finally:
        _, err = proc.communicate(timeout=30)
    out = SippRun(proc.returncode, time.monotonic() - t0, cpu, errors=err.decode(errors="replace"))
    out.stats = _last_stats(stat)
    out.setup_ms, out.setup_done_at = _rtts(workdir)
    log = workdir / "errors.log"
    if log.exists():
        out.errors = (out.errors + log.read_text(errors="replace"))[-20000:]
    return out


def _last_stats(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    rows = list(csv.reader(path.read_text(errors="replace").splitlines(), delimiter=";"))
    if len(rows) < 2:
        return {}
    return dict(zip(rows[0], rows[-1], strict=False))


def _rtts(workdir: Path) -> tuple[list[float], list[float]]:
    """INVITE->200 times (ms) and when each was measured (s since the epoch), from -trace_rtt."""
    times, at = [], []
    for path in workdir.glob("*_rtt.csv"):
        for row in csv.reader(path.read_text(errors="replace").splitlines(), delimiter=";"):
            if len(row) >= 3 and row[2].strip() == "setup":
                try:
                    at.append(float(row[0]) / 1000)
                    times.append(float(row[1]))
                except ValueError:
                    continue
    return times, at
