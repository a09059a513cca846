"""API keys with a token quota of their own (One API's per-key quota) and a count of their usage.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Frozen: later changes go in new revisions. Kept in step with tables.py by a test.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_keys", sa.Column("token_quota", sa.BigInteger(), nullable=True))
    op.add_column("api_keys", sa.Column("tokens_used", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:  # SQLite drops columns by rebuilding the table
        batch.drop_column("tokens_used")
        batch.drop_column("token_quota")
