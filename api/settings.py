"""Settings for the HTTP API and the store."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class HttpSettings(BaseModel):
    """The REST/WebSocket listener."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="Address the HTTP API binds to.")
    port: int = Field(8080, ge=1, le=65535, description="HTTP API port.")


class StoreSettings(BaseModel):
    """The database."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        "sqlite:///var/hotline.db",
        description="SQLAlchemy URL: sqlite:///path (default) or postgresql+psycopg://user:pw@host/db.",
    )
