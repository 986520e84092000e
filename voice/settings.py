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
        """Whether a request from ``address`` carries a caller identity Hotline believes."""
        try:
            ip = ip_address(address)
        except ValueError:
            return False
        return any(ip in ip_network(peer, strict=False) for peer in self.trusted_peers)

    @model_validator(mode="after")
    def _expires_in_order(self) -> Self:
        lo, default, hi = self.register_min_expires_s, self.register_default_expires_s, self.register_max_expires_s
        if not lo <= default <= hi:
            raise ValueError(
                f"need register_min_expires_s ({lo}) <= register_default_expires_s ({default})"
                f" <= register_max_expires_s ({hi})"
            )
        return self
