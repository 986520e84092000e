"""The database schema: one module per aggregate over one declarative base.

Importing this package registers every table on ``Base.metadata`` (Alembic and the tests rely on that).
"""

from store.schema.agents import AgentRow
from store.schema.base import Base, UTCDateTime, make_engine, migrate
from store.schema.calls import Call, CallEventRow, TranscriptSegment
from store.schema.customers import AuditEntry, Customer, CustomerPhone, ReplayPrintRow, VoiceprintRow
from store.schema.keys import ApiKey
from store.schema.outbox import WebhookOutboxRow
from store.schema.timeline import CaseRow, HintFeedbackRow, InteractionRow

__all__ = [
    "AgentRow", "ApiKey", "AuditEntry", "Base", "Call", "CallEventRow", "CaseRow", "Customer", "CustomerPhone",
    "HintFeedbackRow", "InteractionRow", "ReplayPrintRow", "TranscriptSegment", "UTCDateTime", "VoiceprintRow",
    "WebhookOutboxRow", "make_engine", "migrate",
]
