"""Agents: directory fields and credentials (argon2id for the console, HA1 for SIP digest)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from store.schema.base import Base, UTCDateTime


class AgentRow(Base):
    """A contact-centre agent and the SIP credentials of their phone."""

    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    sip_username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id, for the console login
    ha1: Mapped[str] = mapped_column(String(64))  # MD5(user:realm:password), what SIP digest needs
    ha1_realm: Mapped[str] = mapped_column(String(128))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
