"""Settings for the media layer (RTP, codecs, prompts, VAD, recording)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from media.latch import LatchConfig
from media.paths import DEFAULT_GREETING


class MediaSettings(BaseModel):
    """RTP and audio processing settings."""

    model_config = ConfigDict(extra="forbid")

    rtp_host: str = Field("127.0.0.1", description="Address RTP sockets bind to and advertise in SDP.")
    rtp_port_min: int = Field(20000, ge=1024, le=65534, description="First port of the RTP range (even).")
    rtp_port_max: int = Field(30000, ge=1025, le=65535, description="Last port of the RTP range.")
    codecs: list[str] = Field(
        default_factory=lambda: ["PCMU", "PCMA", "G722"],
        description="Codecs Hotline accepts; the caller's order of preference wins among these.",
    )
    jitter_buffer_ms: int = Field(
        60, ge=0, le=1000, description="Reorder window: a missing packet is declared lost after this much later audio."
    )
    greeting: Path | None = Field(DEFAULT_GREETING, description="WAV/FLAC greeting played on answer; null=off.")
    vad_aggressiveness: int = Field(2, ge=0, le=3, description="webrtcvad mode, 0 (lenient) to 3 (strict).")
    vad_padding_ms: int = Field(300, ge=0, le=2000, description="Audio kept around speech for recognition.")
    vad_silence_ms: int = Field(300, ge=100, le=5000, description="Silence that ends an utterance.")
    record_calls: bool = Field(False, description="Write a WAV per call leg under record_dir.")
    record_dir: Path = Field(Path("var/recordings"), description="Where call recordings go.")
    rtp_timeout_s: float = Field(60.0, ge=0, description="Hang up when no RTP arrives for this long (0=never).")
    rtp_latch_nat: bool = Field(
        True,
        description="Symmetric RTP behind NAT: when a call's SDP names a private or unroutable address and its RTP "
        "comes from another IP, send to the first source that sends. Off: only the SDP address and port are "
        "ever accepted.",
    )
    rtp_latch_window_s: float = Field(
        3.0,
        ge=0,
        le=60,
        description="Learning window after a call leg's first accepted RTP packet: a source accepted on NAT "
        "grounds still gives way to a better one (the exact SDP address, else the IP the call's SIP came from); "
        "afterwards packets from any other source are dropped.",
    )
    rtp_relatch_packets: int = Field(
        3,
        ge=1,
        le=100,
        description="A new source takes a call over (NAT rebinding) only after this many packets in a row with "
        "the call's SSRC and continuing sequence numbers, none from the current source in between.",
    )
    rtp_relatch_ms: int = Field(
        100,
        ge=0,
        le=10000,
        description="...and only when those packets span at least this long (a forged burst spans no time).",
    )

    def latch_config(self) -> LatchConfig:
        """The RTP source-latching settings, for :class:`media.session.RtpSession`."""
        return LatchConfig(
            window_s=self.rtp_latch_window_s,
            nat=self.rtp_latch_nat,
            relatch_packets=self.rtp_relatch_packets,
            relatch_s=self.rtp_relatch_ms / 1000,
        )

    @field_validator("codecs")
    @classmethod
    def _known_codecs(cls, value: list[str]) -> list[str]:
        known = {"PCMU", "PCMA", "G722"}
        upper = [v.upper() for v in value]
        bad = [v for v in upper if v not in known]
        if bad:
            raise ValueError(f"unknown codecs {bad}; known: {sorted(known)}")
        return upper
