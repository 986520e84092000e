"""Settings for SIP signalling."""

from __future__ import annotations

from ipaddress import ip_address, ip_network
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class SipSettings(BaseModel):
    """Where and how Hotline speaks SIP."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Address the SIP UDP and TCP listeners bind to.")
    port: int = Field(5060, ge=1, le=65535, description="SIP port for both UDP and TCP.")
    tcp: bool = Field(True, description="Also accept SIP over TCP on the same port.")
    max_calls: int = Field(500, ge=1, description="Concurrent calls; above this INVITEs get 503.")
    retry_after_s: int = Field(30, ge=1, description="Retry-After sent with 503 when at the call limit.")
    default_region: str = Field("UA", description="Region for normalizing caller numbers to E.164.")
    user_agent: str = Field("Hotline", description="Server/User-Agent header value.")
    ring_ms: int = Field(
        0, ge=0, le=10000, description="Pause between 180 Ringing and the 200 OK (180 is always sent)."
    )
    realm: str = Field("hotline", min_length=1, description="Digest authentication realm for REGISTER.")
    nonce_ttl_s: int = Field(
        300, ge=1, description="Lifetime of a digest nonce; older ones get a new 401 with stale=true."
    )
    register_min_expires_s: int = Field(
        60, ge=1, description="Shortest registration accepted; shorter ones get 423 with Min-Expires."
    )
    register_max_expires_s: int = Field(3600, ge=1, description="Longer registrations are cut to this.")
    register_default_expires_s: int = Field(
        600, ge=1, description="Registration lifetime when the phone asks for none (no Expires)."
    )
    auth_fail_limit: int = Field(
        5, ge=1, description="Failed digest logins from one source IP within auth_fail_window_s before it is blocked."
    )
    auth_fail_window_s: int = Field(60, ge=1, description="Window in which failed logins are counted.")
    auth_block_s: int = Field(
        300, ge=1, description="How long a blocked source IP gets 403 to every REGISTER without any check."
    )
    contact_user: str = Field(
        "hotline", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._~+-]+$",
        description="User part of the server's own Contact (<sip:USER@host:port>, ;transport=tcp on TCP, no display "
                    "name). Calls Hotline places to agents carry the caller's number there instead.",
    )
    invite_rate_per_s: float = Field(
        50.0, ge=0, description="New INVITEs (not re-INVITEs) accepted per second from one source IP (token bucket "
                                "refill); 0 turns the limit off. Over it: 503 with Retry-After.",
    )
    invite_burst: int = Field(100, ge=1, description="INVITEs one source IP may send at once before the rate applies.")
    register_rate_per_s: float = Field(
        10.0, ge=0, description="REGISTERs accepted per second from one source IP (token bucket refill); 0 turns the "
                                "limit off. Over it: 503 with Retry-After.",
    )
    register_burst: int = Field(
        20, ge=1, description="REGISTERs one source IP may send at once before the rate applies."
    )
    rate_limit_trusted: bool = Field(
        False, description="Also rate-limit INVITE and REGISTER from trusted_peers. Off by default: a trunk or proxy "
                           "carries many callers from one address.",
    )
    rate_limit_log_interval_s: float = Field(
        10.0, gt=0, description="At most one log line per this interval for each limit (INVITE, REGISTER, TCP "
                                "connections), counting what was refused since the last one.",
    )
    rate_limit_max_sources: int = Field(
        100_000, ge=100, description="Source IPs whose buckets are remembered; past this the least recently seen are "
                                     "forgotten (they start again with a full burst).",
    )
    tcp_max_connections: int = Field(
        1024, ge=1, description="Inbound SIP/TCP connections open at once; more are closed as soon as accepted.",
    )
    tcp_max_connections_per_ip: int = Field(
        32, ge=1, description="Inbound SIP/TCP connections open at once from one IP; more are closed as soon as "
                              "accepted.",
    )
    tcp_max_message_bytes: int = Field(
        65535, ge=1024, le=16 * 1024 * 1024,
        description="Largest SIP message (headers and body) taken over TCP; a connection announcing a larger one "
                    "(Content-Length) is closed. Bounds each connection's receive buffer.",
    )
    tcp_max_header_bytes: int = Field(
        16384, ge=512, description="Largest header block (start line and headers) over TCP; a connection sending more "
                                   "without the blank line that ends it is closed.",
    )
    tcp_idle_timeout_s: float = Field(
        600.0, gt=0, description="A SIP/TCP connection is closed when no complete message (or RFC 5626 CRLFCRLF "
                                 "keep-alive) went either way for this long; stray bytes do not count.",
    )
    trusted_peers: list[str] = Field(
        default_factory=lambda: ["127.0.0.1/32", "::1/128"],
        description="Addresses or networks (CIDR) of the SIP peers whose caller identity is believed: their "
                    "P-Asserted-Identity (or From) number is verified. Any other source's number is "
                    "unverified_number: it may pick the customer card, never queue priority. Set it to your "
                    "trunks' and proxy's addresses; the default trusts only this host.",
    )

    @field_validator("trusted_peers")
    @classmethod
    def _networks(cls, peers: list[str]) -> list[str]:
        for peer in peers:
            try:
                ip_network(peer, strict=False)
            except ValueError as exc:
                raise ValueError(f"trusted peer {peer!r} is not an address or network: {exc}") from exc
        return peers

    def trusts(self, address: str) -> bool:
        """Whether a request from ``address`` carries a caller identity Hotline believes (``[::1]``, as SIP over
        TCP writes an IPv6 source, counts as ``::1``)."""
        try:
            ip = ip_address(address.strip("[]"))
        except ValueError:
            return False
        return any(ip in ip_network(peer, strict=False) for peer in self.trusted_peers)

    @model_validator(mode="after")
    def _tcp_sizes_in_order(self) -> Self:
        if self.tcp_max_header_bytes > self.tcp_max_message_bytes:
            raise ValueError(f"tcp_max_header_bytes ({self.tcp_max_header_bytes}) exceeds tcp_max_message_bytes "
                             f"({self.tcp_max_message_bytes})")
        return self

    @model_validator(mode="after")
    def _expires_in_order(self) -> Self:
        lo, default, hi = self.register_min_expires_s, self.register_default_expires_s, self.register_max_expires_s
        if not lo <= default <= hi:
            raise ValueError(
                f"need register_min_expires_s ({lo}) <= register_default_expires_s ({default})"
                f" <= register_max_expires_s ({hi})"
            )
        return self
