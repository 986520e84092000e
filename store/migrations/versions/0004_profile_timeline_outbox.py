"""Shared customer profile (contact data, flags, CRM id, provisional/merged, cards, documents), the interactions
timeline, cases, hint feedback, and the webhook outbox.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

_CUSTOMER_COLUMNS = ("updated_at", "documents", "cards", "merged_into", "provisional", "external_id", "flags",
                     "segment", "language", "email")


def upgrade() -> None:
    # Plain ALTER TABLE, not a batch copy: on SQLite a batch re-creates the table, and dropping the old one
    # would cascade into customer_phones and voiceprints (foreign keys are on).
    op.add_column("customers", sa.Column("email", sa.String(255), nullable=True))
    op.add_column("customers", sa.Column("language", sa.String(16), nullable=True))
    op.add_column("customers", sa.Column("segment", sa.String(64), nullable=True))
    op.add_column("customers", sa.Column("flags", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    op.add_column("customers", sa.Column("external_id", sa.String(128), nullable=True))
    op.add_column("customers", sa.Column("provisional", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("customers", sa.Column("merged_into", sa.String(32), nullable=True))
    op.add_column("customers", sa.Column("cards", sa.JSON(), nullable=True))
    op.add_column("customers", sa.Column("documents", sa.JSON(), nullable=True))
    op.add_column("customers", sa.Column("updated_at", sa.DateTime(), nullable=True))
    op.create_index("ix_customers_external_id", "customers", ["external_id"], unique=True)
    op.create_index("ix_customers_merged_into", "customers", ["merged_into"])
    op.create_table(
        "interactions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("customer_id", sa.String(32), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("agent_id", sa.String(32), nullable=True, index=True),
        sa.Column("call_id", sa.String(32), nullable=True, unique=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("transcript_ref", sa.String(512), nullable=True),
        sa.Column("verification", sa.JSON(), nullable=True),
        sa.Column("outcome", sa.String(64), nullable=True),
        sa.Column("csi", sa.Integer(), nullable=True),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.Column("handle_s", sa.Float(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_interactions_customer_started", "interactions", ["customer_id", "started_at"])
    op.create_table(
        "cases",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("customer_id", sa.String(32), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "hint_feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("call_id", sa.String(32), sa.ForeignKey("calls.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("hint_id", sa.String(128), nullable=False, index=True),
        sa.Column("useful", sa.Boolean(), nullable=False),
        sa.Column("agent_id", sa.String(255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "webhook_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(191), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("event_id", "url", name="uq_webhook_outbox_event_url"),
    )
    op.create_index("ix_webhook_outbox_due", "webhook_outbox", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_outbox_due", "webhook_outbox")
    op.drop_table("webhook_outbox")
    op.drop_table("hint_feedback")
    op.drop_table("cases")
    op.drop_index("ix_interactions_customer_started", "interactions")
    op.drop_table("interactions")
    op.drop_index("ix_customers_merged_into", "customers")
    op.drop_index("ix_customers_external_id", "customers")
    for col in _CUSTOMER_COLUMNS:  # native DROP COLUMN (SQLite >= 3.35), for the reason given in upgrade()
        op.drop_column("customers", col)
