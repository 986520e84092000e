"""Sealed voiceprint templates, one per customer (the store never sees them unsealed)."""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from store.records import TemplateRecord
from store.schema import VoiceprintRow

__all__ = ["TemplateRecord", "VoiceprintRepository"]


class VoiceprintRepository:
    """Templates: save, read, count by key id, delete."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def save(self, rec: TemplateRecord) -> None:
        """Insert or replace a customer's template."""
        with self.sessions.begin() as s:
            s.execute(delete(VoiceprintRow).where(VoiceprintRow.customer_id == rec.customer_id))
            s.add(VoiceprintRow(customer_id=rec.customer_id, model_id=rec.model_id, model_version=rec.model_version,
                                template=rec.template, key_id=rec.key_id, net_speech_s=rec.net_speech_s,
                                enrolled_at=rec.enrolled_at, enrolled_by=rec.enrolled_by, consent=rec.consent,
                                sources=rec.sources))

    def get(self, customer_id: str, with_template: bool = False) -> TemplateRecord | None:
        """A customer's template record (the encrypted bytes only when asked for), or None."""
        with self.sessions() as s:
            r = s.get(VoiceprintRow, customer_id)
            if r is None:
                return None
            return TemplateRecord(r.customer_id, r.model_id, r.model_version, r.key_id, r.net_speech_s, r.enrolled_at,
                                  r.enrolled_by, dict(r.consent), list(r.sources or []),
                                  bytes(r.template) if with_template else b"")

    def key_ids(self) -> dict[str, int]:
        """How many templates each key id sealed."""
        with self.sessions() as s:
            rows = s.execute(select(VoiceprintRow.key_id, func.count()).group_by(VoiceprintRow.key_id)).all()
            return {str(k): int(n) for k, n in rows}

    def delete(self, customer_id: str) -> bool:
        """Hard-delete a template; False when there was none."""
        with self.sessions.begin() as s:
            row = s.get(VoiceprintRow, customer_id)
            if row is None:
                return False
            s.delete(row)
            return True

