"""Settings of the HTTP listener (composed into the main settings as ``http``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class HttpSettings(BaseModel):
    """The REST/WebSocket listener."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Address the HTTP API binds to.")
    port: int = Field(8080, ge=1, le=65535, description="HTTP API port.")
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="Largest request body, refused with 413 "
                                "before authentication (uploads have their own limit).")
    max_upload_bytes: int = Field(200 * 1024 * 1024, ge=1024, description="Largest body of the audio upload "
                                  "routes (voiceprint enrolment and verification).")
    trusted_proxies: list[str] = Field(["127.0.0.1"], description="Reverse proxies whose X-Forwarded-For and "
                                       "X-Forwarded-Proto are believed (uvicorn forwarded_allow_ips). Behind a "
                                       "TLS proxy on this list the console cookie is Secure.")
