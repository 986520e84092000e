"""Connect two call legs' media: relay RTP when both legs use the same codec, transcode otherwise.

Relay forwards each accepted packet as it arrives (audio and RFC 4733 events, with
the outgoing leg's SSRC, sequence and timestamps). Transcoding sends the peer's
decoded 16 kHz frames through this leg's encoder and regenerates DTMF key presses.
Both legs keep delivering decoded frames to their own consumers (recognition).
"""

from __future__ import annotations

from enum import StrEnum

from media.session import RtpSession


class BridgeMode(StrEnum):
    """How media crosses the bridge."""

    RELAY = "relay"
    TRANSCODE = "transcode"


class BridgeError(RuntimeError):
    """A bridge cannot be built (a leg has no negotiated media)."""

    def __init__(self, leg: str, reason: str) -> None:
        super().__init__(f"cannot bridge leg {leg}: {reason}")
        self.leg = leg
        self.reason = reason


class Bridge:
    """Two legs joined in both directions until :meth:`stop`."""

    def __init__(self, a: RtpSession, b: RtpSession) -> None:
        for leg in (a, b):
            if leg.negotiated is None:
                raise BridgeError(leg.leg, "no negotiated media")
        self.a, self.b = a, b
        na, nb = a.negotiated, b.negotiated
        assert na is not None and nb is not None
        self.mode = BridgeMode.RELAY if na.codec == nb.codec else BridgeMode.TRANSCODE
        self.active = False

    def start(self) -> None:
        """Stop whatever either leg is playing and join them."""
        for leg, peer in ((self.a, self.b), (self.b, self.a)):
            leg.stop_playback()
            if self.mode == BridgeMode.RELAY:
                leg.packet_tap = peer.forward
            else:
                leg.decode_audio = True
                leg.frame_tap = peer.send_frame
                leg.dtmf_tap = peer.send_dtmf
        self.active = True

    def stop(self) -> None:
        """Unjoin the legs; each can play prompts again."""
        for leg in (self.a, self.b):
            leg.packet_tap = None
            leg.frame_tap = None
            leg.dtmf_tap = None
            leg.end_relay()
        self.active = False
