"""Agents with SIP credentials; queue, reason, agent and wait time on calls.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("sip_username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("ha1", sa.String(64), nullable=False),
        sa.Column("ha1_realm", sa.String(128), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("skills", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("queue", sa.String(64), nullable=True))
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("agent_id", sa.String(32), nullable=True))
        batch.add_column(sa.Column("queued_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("agent_connected_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("wait_s", sa.Float(), nullable=True))
        batch.create_index("ix_calls_queue", ["queue"])
        batch.create_index("ix_calls_agent_id", ["agent_id"])


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_index("ix_calls_agent_id")
        batch.drop_index("ix_calls_queue")
        for col in ("wait_s", "agent_connected_at", "queued_at", "agent_id", "reason", "queue"):
            batch.drop_column(col)
    op.drop_table("agents")
