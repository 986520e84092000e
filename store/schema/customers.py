"""Customers, their phone numbers, sealed voiceprint templates, replay fingerprints and the biometric audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import utcnow
from store.schema.base import Base, UTCDateTime


class Customer(Base):
    """A customer (the minimal record the shared profile extends)."""

    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    email: Mapped[str | None] = mapped_column(String(255))
    language: Mapped[str | None] = mapped_column(String(16))
    segment: Mapped[str | None] = mapped_column(String(64))
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)  # e.g. vip, fraud_watch, card_blocked
    external_id: Mapped[str | None] = mapped_column(String(128), unique=True, index=True)  # the CRM's id
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)  # made for an unknown caller
    merged_into: Mapped[str | None] = mapped_column(String(32), index=True)
    cards: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # [{last4, kind, status, expires, block_reason}]
    documents: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)  # [{kind, expires, status}]
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CustomerPhone(Base):
    """A customer's phone number, E.164, unique across customers."""

    __tablename__ = "customer_phones"

    phone: Mapped[str] = mapped_column(String(32), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)


class VoiceprintRow(Base):
    """An encrypted voiceprint template (AES-GCM); never returned by the API."""

    __tablename__ = "voiceprints"

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(128))
    template: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(32))
    net_speech_s: Mapped[float] = mapped_column(Float)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    enrolled_by: Mapped[str] = mapped_column(String(255))
    consent: Mapped[dict[str, Any]] = mapped_column(JSON)
    sources: Mapped[list[str]] = mapped_column(JSON, default=list)


class AuditEntry(Base):
    """Who did what to which voiceprint, when, with what result. Never audio or embeddings."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32), index=True)
    customer_id: Mapped[str | None] = mapped_column(String(32), index=True)
    call_id: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ReplayPrintRow(Base):
    """A sealed audio fingerprint of a recording Hotline heard (an enrolment file or a call's caller side).

    Used only to spot replays; a fingerprint cannot be turned back into audio. Deleted with the customer's
    voiceprint; call prints expire after ``biometrics.replay_keep_days``.
    """

    __tablename__ = "replay_prints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # enrolment | call
    label: Mapped[str] = mapped_column(String(255))
    call_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    key_id: Mapped[str] = mapped_column(String(32))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
