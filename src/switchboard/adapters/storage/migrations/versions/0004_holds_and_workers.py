"""Crash recovery and per-key reservations: worker heartbeats, the holds each worker has in the
database, the worker streaming each message, and a metered API key's reserved tokens.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

Frozen: later changes go in new revisions. Kept in step with tables.py by a test.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("tokens_reserved", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("api_keys", sa.Column("last_grant", sa.BigInteger(), nullable=False, server_default="0"))
    op.add_column("messages", sa.Column("worker_id", sa.String(64), nullable=True))
    op.create_index("ix_messages_status_worker_id", "messages", ["status", "worker_id"])
    op.create_table(
        "workers",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        _timestamp("started_at"),
        _timestamp("last_seen"),
        sa.PrimaryKeyConstraint("id", name="pk_workers"),
    )
    op.create_table(
        "holds",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("worker_id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=True),
        sa.Column("tokens", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        _timestamp("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_holds"),
    )
    op.create_index("ix_holds_worker_id", "holds", ["worker_id"])


def downgrade() -> None:
    op.drop_index("ix_holds_worker_id", table_name="holds")
    op.drop_table("holds")
    op.drop_table("workers")
    op.drop_index("ix_messages_status_worker_id", table_name="messages")
    with op.batch_alter_table("messages") as batch:  # SQLite drops columns by rebuilding the table
        batch.drop_column("worker_id")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("last_grant")
        batch.drop_column("tokens_reserved")
