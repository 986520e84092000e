"""Settings for SIP signalling."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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
