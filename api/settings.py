"""Settings for the HTTP API and the store."""

from __future__ import annotations

from pathlib import Path

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
    retry_s: float = Field(
        1.0, gt=0, le=60,
        description="While the database is unreachable, call writes (call rows, segments, events, verification, "
                    "audit) are parked in order and replayed every retry_s seconds until it answers again.",
    )
    spill_path: Path = Field(
        Path("var/store-backlog.pickle"),
        description="Writes still parked at shut-down are saved here and replayed at the next start.",
    )


class ConsoleSettings(BaseModel):
    """Agent console sign-in: session lifetime and the failed-login block."""

    model_config = ConfigDict(extra="forbid")

    session_idle_s: float = Field(3600.0, gt=0, description="A console session unused this long ends.")
    session_max_s: float = Field(12 * 3600.0, gt=0, description="No console session outlives this (a long shift).")
    login_fail_limit: int = Field(5, ge=1, description="Failed sign-ins from one address within the window "
                                                       "before it is blocked.")
    login_fail_window_s: float = Field(60.0, gt=0, description="The window failed sign-ins are counted in.")
    login_block_s: float = Field(300.0, gt=0, description="How long a blocked address waits.")
