"""Replay fingerprints, and API keys that expire, record their revocation and may be bound to an agent.

* ``replay_prints``: sealed audio fingerprints of enrolment recordings and calls' caller audio.
* ``api_keys.expires_at`` and ``api_keys.revoked_at`` (nullable UTC; existing keys keep working, never
  expire, and revoked ones stay revoked).
* ``api_keys.agent_id``: the agent an ``agent`` key acts for (keys made before it own no call).

Revision ID: 0006
Revises: 0005
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "replay_prints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(32), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("call_id", sa.String(32)),
        sa.Column("created_at", sa.DateTime(), nullable=False, index=True),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
    )
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("agent_id", sa.String(32), nullable=True))


def downgrade() -> None:
    # Without expires_at an expired key would work again: revoke the ones that have expired before dropping it.
    now = datetime.now(UTC).replace(tzinfo=None)
    op.execute(sa.text("UPDATE api_keys SET revoked = :yes WHERE expires_at IS NOT NULL AND expires_at <= :now")
               .bindparams(sa.bindparam("yes", True, type_=sa.Boolean()), sa.bindparam("now", now, type_=sa.DateTime())))
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("agent_id")
        batch.drop_column("revoked_at")
        batch.drop_column("expires_at")
    op.drop_table("replay_prints")
