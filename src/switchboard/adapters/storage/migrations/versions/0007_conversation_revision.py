"""A conversation's revision: a number the database bumps on every write to its messages, so a
worker that caches a conversation's recent history (core/services/chat/history_cache.py) can tell
whether it is still current by the conversation row it reads anyway.

Triggers, not bumps in the repository: every writer (other workers, crash recovery, admin
deletes, imports, a hand-written UPDATE, code not written yet) invalidates without remembering
to. One bump per message row written (SQLite has row triggers only; PostgreSQL's are row triggers
too so both count the same way).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

Frozen: later changes go in new revisions. Kept in step with tables.py by a test.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BUMP = "UPDATE conversations SET revision = revision + 1 WHERE id = {row}.conversation_id"

_SQLITE_TRIGGERS = {
    "messages_revision_on_insert": f"AFTER INSERT ON messages BEGIN {_BUMP.format(row='NEW')}; END",
    # a message never moves between conversations (the repository never writes conversation_id)
    "messages_revision_on_update": f"AFTER UPDATE ON messages BEGIN {_BUMP.format(row='NEW')}; END",
    "messages_revision_on_delete": f"AFTER DELETE ON messages BEGIN {_BUMP.format(row='OLD')}; END",
}

_POSTGRESQL_FUNCTION = f"""
CREATE FUNCTION bump_conversation_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        {_BUMP.format(row='OLD')};
        RETURN OLD;
    END IF;
    {_BUMP.format(row='NEW')};
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.add_column("conversations", sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRESQL_FUNCTION)
        op.execute("CREATE TRIGGER messages_revision AFTER INSERT OR UPDATE OR DELETE ON messages "
                   "FOR EACH ROW EXECUTE FUNCTION bump_conversation_revision()")
    else:
        for name, body in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER messages_revision ON messages")
        op.execute("DROP FUNCTION bump_conversation_revision()")
    else:
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("conversations") as batch:  # SQLite drops a column by rebuilding the table
        batch.drop_column("revision")
