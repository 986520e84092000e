"""Calls: the call row, its final transcript segments and its timeline events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from store.schema.base import Base, UTCDateTime


class Call(Base):
    """One inbound call."""

    __tablename__ = "calls"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sip_call_id: Mapped[str] = mapped_column(String(255), index=True)
    caller_number: Mapped[str | None] = mapped_column(String(64), index=True)
    caller_display: Mapped[str | None] = mapped_column(String(255))
    called_number: Mapped[str | None] = mapped_column(String(64), index=True)
    language: Mapped[str | None] = mapped_column(String(16))
    codec: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="offered")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(32))
    recognition: Mapped[str] = mapped_column(String(16), default="pending")
    recognition_note: Mapped[str | None] = mapped_column(Text)
    customer_id: Mapped[str | None] = mapped_column(String(32), index=True)
    verification: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    queue: Mapped[str | None] = mapped_column(String(64), index=True)
    reason: Mapped[str | None] = mapped_column(Text)  # what the caller said while queued
    agent_id: Mapped[str | None] = mapped_column(String(32), index=True)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agent_connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    wait_s: Mapped[float | None] = mapped_column(Float)
    number_trust: Mapped[str | None] = mapped_column(String(16))  # asserted | peer | unverified


class TranscriptSegment(Base):
    """A final recognized utterance of one leg."""

    __tablename__ = "transcript_segments"
    __table_args__ = (Index("ix_segments_call_start", "call_id", "start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    leg: Mapped[str] = mapped_column(String(16))
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    words: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    confidence: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CallEventRow(Base):
    """Timeline entries of a call (state changes, DTMF, hold)."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
