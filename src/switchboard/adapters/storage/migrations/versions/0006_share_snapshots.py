"""A share keeps a snapshot of what was shared (Mio-Chat's contactor: its messages, name and
options, as the client held them), so contacts whose history lives only in the browser can be
shared too. `conversation_id` becomes optional: only a share made from a stored conversation has
one (deleting that conversation still deletes the share).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

Frozen: later changes go in new revisions. Kept in step with tables.py by a test.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shares") as batch:  # SQLite changes nullability by rebuilding the table
        batch.add_column(sa.Column("snapshot", sa.JSON(none_as_null=True), nullable=True))
        batch.alter_column("conversation_id", existing_type=sa.String(64), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM shares WHERE conversation_id IS NULL")
    with op.batch_alter_table("shares") as batch:
        batch.alter_column("conversation_id", existing_type=sa.String(64), nullable=False)
        batch.drop_column("snapshot")
