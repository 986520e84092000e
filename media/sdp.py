"""SDP offer/answer for one audio stream (RFC 3264, RFC 4566). Pure and synchronous."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from media.codecs import CODECS, CodecSpec

STATIC_PT = {0: "PCMU", 8: "PCMA", 9: "G722"}
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")


class SdpError(ValueError):
    """An SDP body cannot be used."""

    def __init__(self, reason: str, offered: tuple[str, ...] = ()) -> None:
        super().__init__(f"SDP: {reason}" + (f" (offered: {', '.join(offered)})" if offered else ""))
        self.reason = reason
        self.offered = offered


class NoCommonCodecError(SdpError):
    """The offer has no codec Hotline accepts (maps to SIP 488)."""


@dataclass(slots=True)
class AudioOffer:
    """What the remote side offered for its audio stream."""

    address: str
    port: int
    formats: list[tuple[int, str]]  # (payload type, ENCODING/rate) in preference order
    telephone_event_pt: int | None = None
    direction: str = "sendrecv"
    ptime: int | None = None

    @property
    def on_hold(self) -> bool:
        """True when the remote asked us to stop sending (hold)."""
        return self.direction in ("sendonly", "inactive") or self.address in ("0.0.0.0", "::")


@dataclass(frozen=True, slots=True)
class Negotiated:
    """The result of negotiation: one codec plus optional DTMF payload type."""

    codec: CodecSpec
    payload_type: int
    telephone_event_pt: int | None
    remote: tuple[str, int]
    direction: str = "sendrecv"


def parse_offer(text: str) -> AudioOffer:
    """Parse the first audio m-line of an SDP body."""
    session_addr: str | None = None
    media_addr: str | None = None
    in_audio = False
    seen_audio = False
    in_other = False  # inside a non-audio media section (its c=/a= lines are not ours)
    port = 0
    pts: list[int] = []
    rtpmap: dict[int, str] = {}
    direction = "sendrecv"
    ptime: int | None = None
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if len(line) < 2 or line[1] != "=":
            continue
        kind, value = line[0], line[2:]
        if kind == "m":
            if seen_audio:
                in_audio = False
                continue
            parts = value.split()
            in_audio = len(parts) >= 4 and parts[0] == "audio"
            in_other = not in_audio
            if in_audio:
                seen_audio = True
                try:
                    port = int(parts[1].split("/")[0])
                    pts = [int(p) for p in parts[3:]]
                except ValueError as exc:
                    raise SdpError(f"bad m-line {value!r}") from exc
                if not 0 <= port <= 65535 or any(not 0 <= pt <= 127 for pt in pts):
                    raise SdpError(f"port or payload type out of range in m-line {value!r}")
        elif in_other:
            continue
        elif kind == "c":
            parts = value.split()
            if len(parts) >= 3:
                addr = parts[2].split("/")[0]
                if in_audio:
                    media_addr = addr
                elif not seen_audio:
                    session_addr = addr
        elif kind == "a" and (in_audio or not seen_audio):
            name, _, rest = value.partition(":")
            if name == "rtpmap" and in_audio:
                pt_s, _, enc = rest.partition(" ")
                if pt_s.isdigit():
                    rtpmap[int(pt_s)] = enc.strip()
            elif name in DIRECTIONS:
                direction = name
            elif name == "ptime" and rest.strip().isdigit():
                ptime = int(rest.strip())
    if not seen_audio:
        raise SdpError("no audio stream")
    address = media_addr or session_addr
    if address is None:
        raise SdpError("no connection address")
    formats: list[tuple[int, str]] = []
    te_pt: int | None = None
    for pt in pts:
        enc = rtpmap.get(pt) or (f"{STATIC_PT[pt]}/8000" if pt in STATIC_PT else "")
        if enc.lower().startswith("telephone-event/8000"):
            te_pt = te_pt if te_pt is not None else pt
            continue
        formats.append((pt, enc))
    return AudioOffer(address, port, formats, te_pt, direction if port else "inactive", ptime)


def negotiate(offer: AudioOffer, accepted: list[str]) -> Negotiated:
    """Choose the first offered codec Hotline accepts (the caller's preference wins)."""
    for pt, enc in offer.formats:
        name, _, rate = enc.partition("/")
        spec = CODECS.get(name.upper())
        if spec is None or spec.name not in accepted:
            continue
        if rate and rate.split("/")[0] != str(spec.clock_rate):
            continue
        return Negotiated(spec, pt, offer.telephone_event_pt, (offer.address, offer.port), offer.direction)
    raise NoCommonCodecError("no common codec", tuple(enc or str(pt) for pt, enc in offer.formats))


_ANSWER_DIRECTION = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive"}


@dataclass(slots=True)
class SdpBuilder:
    """Builds our SDP (answers and offers) with a stable origin and increasing version."""

    address: str
    session_id: int = field(default_factory=lambda: int(time.time()))
    version: int = 0
    user_agent: str = "Hotline"

    def _header(self) -> list[str]:
        self.version += 1
        ip = "IP6" if ":" in self.address else "IP4"
        return [
            "v=0",
            f"o=hotline {self.session_id} {self.version} IN {ip} {self.address}",
            f"s={self.user_agent}",
            f"c=IN {ip} {self.address}",
            "t=0 0",
        ]

    def answer(self, port: int, neg: Negotiated) -> str:
        """An answer naming exactly the negotiated codec (+ telephone-event when offered)."""
        pts = [neg.payload_type]
        lines_a = [f"a=rtpmap:{neg.payload_type} {neg.codec.name}/{neg.codec.clock_rate}"]
        if neg.telephone_event_pt is not None:
            pts.append(neg.telephone_event_pt)
            lines_a += [f"a=rtpmap:{neg.telephone_event_pt} telephone-event/8000",
                        f"a=fmtp:{neg.telephone_event_pt} 0-15"]
        lines = [*self._header(), f"m=audio {port} RTP/AVP {' '.join(map(str, pts))}", *lines_a,
                 "a=ptime:20", f"a={_ANSWER_DIRECTION.get(neg.direction, 'sendrecv')}"]
        return "\r\n".join(lines) + "\r\n"

    def offer(self, port: int, codecs: list[str], te_pt: int = 101) -> str:
        """An offer listing the given codecs in order, plus telephone-event."""
        specs = [CODECS[c] for c in codecs]
        pts = [s.payload_type for s in specs] + [te_pt]
        lines = [*self._header(), f"m=audio {port} RTP/AVP {' '.join(map(str, pts))}"]
        lines += [f"a=rtpmap:{s.payload_type} {s.name}/{s.clock_rate}" for s in specs]
        lines += [f"a=rtpmap:{te_pt} telephone-event/8000", f"a=fmtp:{te_pt} 0-15", "a=ptime:20", "a=sendrecv"]
        return "\r\n".join(lines) + "\r\n"
