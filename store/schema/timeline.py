"""The customer timeline: interactions on every channel, cases and hint feedback.

The customer columns themselves live on :class:`store.schema.customers.Customer`; Alembic revision 0004
mirrors these tables.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from store.schema.base import Base, UTCDateTime


class InteractionRow(Base):
    """One contact with a customer on any channel (voice, chat, email, branch)."""

    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_customer_started", "customer_id", "started_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # None for a voice call whose caller is not known yet (withheld number); attached later.
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    agent_id: Mapped[str | None] = mapped_column(String(32), index=True)
    call_id: Mapped[str | None] = mapped_column(String(32), unique=True)  # one interaction per voice call
    reason: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    summary: Mapped[str | None] = mapped_column(Text)
    transcript_ref: Mapped[str | None] = mapped_column(String(512))  # URL path of the transcript
    verification: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # how identity was verified, with score
    outcome: Mapped[str | None] = mapped_column(String(64))
    csi: Mapped[int | None] = mapped_column(Integer)  # customer satisfaction rating, 1..5
    wait_s: Mapped[float | None] = mapped_column(Float)
    handle_s: Mapped[float | None] = mapped_column(Float)
    notes: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)  # +1 on every change; part of event keys
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CaseRow(Base):
    """A customer's case (a matter that spans interactions)."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="open")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HintFeedbackRow(Base):
    """An agent's verdict on one hint shown during a call."""

    __tablename__ = "hint_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    hint_id: Mapped[str] = mapped_column(String(128), index=True)
    useful: Mapped[bool] = mapped_column(Boolean)
    agent_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
