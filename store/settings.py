"""Settings of the store (composed into the main settings as ``store``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


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
        Path("var/store-backlog.json"),
        description="Writes still parked at shut-down are saved here and replayed at the next start.",
    )
