"""Symmetric RTP without hijacking: learn where a call leg's media comes from, then keep to it.

Pure and synchronous (the caller passes the clock); one :class:`SourceLatch` per call leg, fed every RTP
packet of the negotiated payload types before it is used. The rules:

* **Learning.** Until a source is learned, a packet latches only when it comes from the SDP's address *and*
  port, or, when NAT is detected for it (:func:`nat_detected`) and :attr:`LatchConfig.nat` allows it, from
  wherever it comes (the first such source wins). Sources rank by their evidence (:class:`Rank`): the exact
  SDP address, then the IP the call's SIP came from (a phone behind NAT sends both through the same NAT),
  then any other. For :attr:`LatchConfig.window_s` after the first latch, a higher-ranked source takes over
  from a lower-ranked one, so a sprayer that beat the caller's first packet loses the call to it.
* **Strict.** Packets from any source other than the latched one are refused (:attr:`Verdict.FOREIGN`).
* **Re-latching** (the caller's NAT binding moved mid-call) needs continuity: the new source must send
  :attr:`LatchConfig.relatch_packets` packets in a row that carry the latched stream's SSRC, each sequence
  number 1..:attr:`LatchConfig.seq_window` ahead of the previous one (the first one ahead of the latched
  stream's), spanning at least :attr:`LatchConfig.relatch_s` of arrival time, with no packet from the current
  source in between. A burst, however well forged, takes no time and is interrupted by the real caller.
  Every change of an existing latch is logged as a warning with the old and the new address.
"""

from __future__ import annotations

import ipaddress
import logging
import math
from dataclasses import dataclass
from enum import Enum, IntEnum

from media.rtp import seq_diff

log = logging.getLogger("hotline.media")

Address = tuple[str, int]
_TICK = 1e-6  # time comparisons tolerate float rounding (five 0.02 s steps add up to 0.09999...)
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class LatchConfigError(ValueError):
    """A latch setting is out of range."""

    def __init__(self, name: str, value: object, reason: str) -> None:
        super().__init__(f"latch setting {name}={value!r}: {reason}")
        self.name = name
        self.value = value
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LatchConfig:
    """How a :class:`SourceLatch` learns and re-learns its source."""

    window_s: float = 3.0
    """After the first latch, how long a better-ranked source (see :class:`Rank`) may still take over."""
    nat: bool = True
    """Accept the first source when NAT is detected; off: only the SDP address and port ever latch."""
    relatch_packets: int = 3
    """Packets in a row (same SSRC, continuing sequence) a new source needs to take over."""
    relatch_s: float = 0.1
    """Arrival time those packets must span, uninterrupted by the current source (a burst spans none)."""
    seq_window: int = 16
    """How far ahead of the previous packet's sequence number a continuing packet may be (loss tolerance)."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.window_s) and self.window_s >= 0):
            raise LatchConfigError("window_s", self.window_s, "must be a finite number >= 0")
        if self.relatch_packets < 1:
            raise LatchConfigError("relatch_packets", self.relatch_packets, "must be >= 1")
        if not (math.isfinite(self.relatch_s) and self.relatch_s >= 0):
            raise LatchConfigError("relatch_s", self.relatch_s, "must be a finite number >= 0")
        if not 1 <= self.seq_window <= 0x7FFF:
            raise LatchConfigError("seq_window", self.seq_window, "must be within 1..32767")


class Rank(IntEnum):
    """How much a source's address says it is the caller's (higher takes over while learning)."""

    NONE = 0  # may not latch (not the SDP address, and no NAT detected for it)
    NAT = 1  # NAT detected: any source
    SIGNALLING = 2  # NAT detected, and the packets come from the IP the call's SIP came from
    SDP = 3  # exactly the SDP's address and port


class Verdict(Enum):
    """What to do with one packet."""

    ACCEPT = "accept"  # from the latched source
    LATCHED = "latched"  # the first source was learned from this packet
    RELATCHED = "relatched"  # this packet moved the latch to its source
    FOREIGN = "foreign"  # drop it


def parse_ip(host: str) -> IpAddress | None:
    """``host`` as an IP address (IPv4-mapped IPv6 as IPv4, zone dropped), None when it is not an address."""
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def same_host(a: str, b: str) -> bool:
    """True when the two hosts are the same IP address (or the same string when not addresses)."""
    if a == b:
        return True
    ia = parse_ip(a)
    return ia is not None and ia == parse_ip(b)


def nat_detected(sdp_host: str, source_host: str) -> bool:
    """The NAT rule: the packet comes from another IP than the SDP names, and the SDP's address is not public.

    "Not public" is anything :attr:`ipaddress.IPv4Address.is_global` rejects (private, shared/CGNAT 100.64/10,
    loopback, link-local, unspecified, documentation ranges) and anything that is not an IP address at all.
    An endpoint behind NAT cannot know the public address its packets will come from, so its SDP names a
    private one. A public SDP address is taken at its word: packets from elsewhere never latch.
    """
    if same_host(sdp_host, source_host):
        return False
    ip = parse_ip(sdp_host)
    return ip is None or not ip.is_global


def is_unspecified(host: str) -> bool:
    """True for 0.0.0.0 and :: (the old-style hold address)."""
    ip = parse_ip(host)
    return ip is not None and ip.is_unspecified


def _fmt(addr: Address | None) -> str:
    if addr is None:
        return "-"
    host, port = addr
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(slots=True)
class _Run:
    """A would-be new source's packets so far."""

    source: Address
    seq: int
    count: int
    since: float


class SourceLatch:
    """Decides, packet by packet, whether a call leg's RTP comes from its caller, and where to send back."""

    def __init__(
        self,
        expected: Address,
        config: LatchConfig | None = None,
        label: str = "rtp",
        signalling_host: str | None = None,
    ) -> None:
        """``expected``: the SDP's address; ``signalling_host``: the IP the call's SIP came from, if known."""
        self.config = config if config is not None else LatchConfig()
        self.label = label
        self.signalling_host = signalling_host
        self.relatches = 0
        self._expected: Address = (expected[0], int(expected[1]))
        self._nowhere = is_unspecified(expected[0])  # the SDP names the hold address: nothing to send to
        self._reset()

    def _reset(self) -> None:
        self._source: Address | None = None
        self._rank = Rank.NONE  # the current source's standing (a continuation inherits its stream's)
        self._since = 0.0  # when the first source latched: the learning window starts there
        self._learning = True
        self._ssrc = -1
        self._seq = 0
        self._run: _Run | None = None
        self._told_foreign = False

    # -- state ----------------------------------------------------------------
    @property
    def expected(self) -> Address:
        """The address and port the SDP names."""
        return self._expected

    @property
    def source(self) -> Address | None:
        """The latched source, None until one is learned."""
        return self._source

    @property
    def remote(self) -> Address | None:
        """Where to send: the latched source, else the SDP address (None when that is the hold address)."""
        if self._source is not None:
            return self._source
        return None if self._nowhere else self._expected

    @property
    def learning(self) -> bool:
        """True until the learning window closed (as of the last packet checked)."""
        return self._learning

    # -- signalling -----------------------------------------------------------
    def expect(self, address: Address) -> bool:
        """A new SDP (re-INVITE) names ``address``; returns True when that restarted learning.

        The same address keeps the latch; the hold address (0.0.0.0, ::) is no new destination and keeps it
        too. Any other address is where signalling moved the media: the latch starts over, against it.
        """
        host, port = address[0], int(address[1])
        if is_unspecified(host) or self._is((host, port), self._expected):
            return False
        log.info("%s: SDP moved media from %s to %s; learning the source again (was %s)", self.label,
                 _fmt(self._expected), _fmt((host, port)), _fmt(self._source))
        self._expected = (host, port)
        self._nowhere = False
        self._reset()
        return True

    # -- packets --------------------------------------------------------------
    def check(self, source: Address, ssrc: int, seq: int, now: float) -> Verdict:
        """Judge one packet from ``source`` (its RTP SSRC and sequence number), arrived at ``now`` seconds."""
        src: Address = (source[0], int(source[1]))
        if self._source is None:
            rank = self.rank(src)
            if rank is Rank.NONE:
                self._foreign(src, "the SDP names " + _fmt(self._expected))
                return Verdict.FOREIGN
            self._take(src, rank, ssrc, seq)
            self._since = now
            if rank is Rank.SDP:
                log.debug("%s: latched to %s", self.label, _fmt(src))
            else:
                log.info("%s: latched to %s (NAT: the SDP names %s; %s)", self.label, _fmt(src),
                         _fmt(self._expected), rank.name.lower())
            return Verdict.LATCHED
        if self._learning and now - self._since + _TICK >= self.config.window_s:
            self._learning = False
        if self._is(src, self._source):
            self._follow(ssrc, seq)
            self._run = None  # the current source spoke: no run of another source is "in a row"
            return Verdict.ACCEPT
        if self._learning and self._rank < Rank.SDP:
            rank = self.rank(src)
            if rank > self._rank:
                return self._relatch(src, rank, ssrc, seq,
                                     f"while learning, {rank.name.lower()} outranks {self._rank.name.lower()}")
        return self._continuity(src, ssrc, seq, now)

    def rank(self, source: Address) -> Rank:
        """What ``source``'s address alone says about it (see :class:`Rank`)."""
        if self._is(source, self._expected):
            return Rank.SDP
        if not (self.config.nat and nat_detected(self._expected[0], source[0])):
            return Rank.NONE
        if self.signalling_host is not None and same_host(source[0], self.signalling_host):
            return Rank.SIGNALLING
        return Rank.NAT

    def _continuity(self, src: Address, ssrc: int, seq: int, now: float) -> Verdict:
        run = self._run if self._run is not None and self._is(src, self._run.source) else None
        if ssrc != self._ssrc:
            self._foreign(src, f"latched to {_fmt(self._source)}")
            return Verdict.FOREIGN
        step = seq_diff(seq, run.seq if run is not None else self._seq)
        if step <= 0:  # late or repeated: neither continues a run nor breaks it
            return Verdict.FOREIGN
        if step > self.config.seq_window:
            if run is not None:
                self._run = None
            self._foreign(src, f"latched to {_fmt(self._source)}")
            return Verdict.FOREIGN
        if run is None:
            run = self._run = _Run(src, seq, 1, now)
        else:
            run.seq, run.count = seq, run.count + 1
        if run.count >= self.config.relatch_packets and now - run.since + _TICK >= self.config.relatch_s:
            return self._relatch(src, max(self._rank, self.rank(src)), ssrc, seq,
                                 f"{run.count} packets of SSRC {ssrc:08x} continued its sequence over "
                                 f"{now - run.since:.3f} s")
        return Verdict.FOREIGN

    def _relatch(self, src: Address, rank: Rank, ssrc: int, seq: int, why: str) -> Verdict:
        log.warning("%s: RTP source moved from %s to %s: %s", self.label, _fmt(self._source), _fmt(src), why)
        self._take(src, rank, ssrc, seq)
        self.relatches += 1
        return Verdict.RELATCHED

    def _take(self, src: Address, rank: Rank, ssrc: int, seq: int) -> None:
        self._source, self._rank = src, rank
        self._ssrc, self._seq = ssrc, seq
        self._run = None
        self._told_foreign = False

    def _follow(self, ssrc: int, seq: int) -> None:
        """Track the latched stream's SSRC and highest sequence number (an SSRC change starts afresh)."""
        if ssrc != self._ssrc or seq_diff(seq, self._seq) > 0:
            self._ssrc, self._seq = ssrc, seq

    def _foreign(self, src: Address, why: str) -> None:
        if not self._told_foreign:  # once per latch: a flood must not flood the log
            self._told_foreign = True
            log.info("%s: dropping RTP from %s: %s", self.label, _fmt(src), why)

    @staticmethod
    def _is(a: Address, b: Address) -> bool:
        return a == b or (a[1] == b[1] and same_host(a[0], b[0]))
