"""Customers with phone numbers, encrypted voiceprints, the audit log; claimed customer and verification on calls.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "customer_phones",
        sa.Column("phone", sa.String(32), primary_key=True),
        sa.Column("customer_id", sa.String(32), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False,
                  index=True),
    )
    op.create_table(
        "voiceprints",
        sa.Column("customer_id", sa.String(32), sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("model_id", sa.String(64), nullable=False),
        sa.Column("model_version", sa.String(128), nullable=False),
        sa.Column("template", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("net_speech_s", sa.Float(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(), nullable=False),
        sa.Column("enrolled_by", sa.String(255), nullable=False),
        sa.Column("consent", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False, index=True),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False, index=True),
        sa.Column("customer_id", sa.String(32), index=True),
        sa.Column("call_id", sa.String(32)),
        sa.Column("result", sa.String(32), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("customer_id", sa.String(32)))
        batch.add_column(sa.Column("verification", sa.JSON()))
        batch.create_index("ix_calls_customer_id", ["customer_id"])


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_customer_id")
        batch.drop_column("verification")
        batch.drop_column("customer_id")
    op.drop_table("audit_log")
    op.drop_table("voiceprints")
    op.drop_table("customer_phones")
    op.drop_table("customers")
