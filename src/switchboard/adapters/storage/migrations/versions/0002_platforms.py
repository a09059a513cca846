"""Platform identities, chat profiles and conversation shares.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Frozen: later changes go in new revisions. Kept in step with tables.py by a test.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _timestamp(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "platform_identities",
        sa.Column("id", _big_id, autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("owner_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", _big_id, nullable=False),
        sa.Column("display_name", sa.String(255), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_platform_identities_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_platform_identities"),
        sa.UniqueConstraint("platform", "external_id", "owner_id", name="uq_platform_identities_key"),
    )
    op.create_index("ix_platform_identities_user_id", "platform_identities", ["user_id"])
    op.create_table(
        "profiles",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("system_prompt", sa.Text(), nullable=True),
        sa.Column("temperature", sa.Float(), nullable=True),
        sa.Column("tools_enabled", sa.Boolean(), nullable=False),
        sa.Column("allowed_tools", sa.JSON(), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_profiles"),
        sa.UniqueConstraint("name", name="uq_profiles_name"),
    )
    op.create_table(
        "shares",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", _big_id, nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(255), nullable=True),
        _timestamp("created_at"),
        _timestamp("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_shares_user_id_users", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["conversation_id"], ["conversations.id"], name="fk_shares_conversation_id_conversations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_shares"),
    )
    op.create_index("ix_shares_conversation_id", "shares", ["conversation_id"])


def downgrade() -> None:
    op.drop_index("ix_shares_conversation_id", table_name="shares")
    op.drop_table("shares")
    op.drop_table("profiles")
    op.drop_index("ix_platform_identities_user_id", table_name="platform_identities")
    op.drop_table("platform_identities")
