"""The schema as SQLAlchemy Core tables: what the repos query and what migrations must produce.

The migrations in `migrations/versions/` are written by hand and frozen; a test compares them
with this metadata so the two cannot drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

# Named constraints make migrations deterministic and let later migrations drop them by name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer, "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored as UTC and always read back timezone-aware.

    PostgreSQL keeps `timestamptz`. SQLite has no time zones, so the value is written as naive UTC
    text in one fixed format (text comparisons then order correctly) and labelled UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # A naive value is taken to be UTC already: the engine's Clock only hands out UTC.
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        in_utc = aware.astimezone(UTC)
        return in_utc.replace(tzinfo=None) if dialect.name == "sqlite" else in_utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(150), nullable=False, unique=True),
    Column("email", String(320), nullable=True),
    Column("password_hash", String(255), nullable=True),
    Column("role", String(16), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("settings", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(32), nullable=False),
    Column("key_hash", String(128), nullable=False, unique=True),
    Column("scopes", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
    Column("allowed_models", JSON, nullable=False),
    Column("rpm_limit", Integer, nullable=True),
    Column("tpm_limit", Integer, nullable=True),
    Column("token_quota", BigInteger, nullable=True),
    # only ever changed in SQL (QuotaRepo), never written back from an ApiKey
    Column("tokens_used", BigInteger, nullable=False, server_default="0"),
    Column("tokens_reserved", BigInteger, nullable=False, server_default="0"),
    Column("last_grant", BigInteger, nullable=False, server_default="0"),  # as quotas.last_grant
)

revoked_tokens = Table(
    "revoked_tokens",
    metadata,
    Column("token_id", String(64), primary_key=True),
    # indexed so expired entries can be purged cheaply
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("title", Text, nullable=False),
    Column("settings", JSON, nullable=False),
    Column("project_id", String(64), nullable=True),
    Column("origin", String(32), nullable=False),
    Column("external_key", String(255), nullable=True),
    Column("profile_id", String(64), nullable=True),
    Column("meta", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # bumped by the database on every write to the conversation's messages (triggers, migration
    # 0007): how a worker knows the history it cached is still current
    Column("revision", BigInteger, nullable=False, server_default="0"),
    # user_id leads both indexes, so a separate user_id index would be redundant
    Index("ix_conversations_user_origin_key", "user_id", "origin", "external_key"),
    Index("ix_conversations_user_updated", "user_id", "updated_at"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "conversation_id",
        String(64),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("role", String(16), nullable=False),
    Column("parts", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reasoning", Text, nullable=False),
    Column("tool_calls", JSON, nullable=False),
    Column("tool_call_id", String(128), nullable=True),
    Column("name", String(128), nullable=True),
    Column("model", String(200), nullable=True),
    Column("usage", JSON(none_as_null=True), nullable=True),
    Column("error", Text, nullable=True),
    Column("is_deleted", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("worker_id", String(64), nullable=True),  # the process streaming it (crash recovery)
    Index("ix_messages_conversation_id_id", "conversation_id", "id"),
    # crash recovery finds `streaming` messages by worker without reading the whole table
    Index("ix_messages_status_worker_id", "status", "worker_id"),
)

quotas = Table(
    "quotas",
    metadata,
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("allowance", BigInteger, nullable=False),
    Column("used", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("unlimited", Boolean, nullable=False),
    # What the latest reservation granted. RETURNING only sees post-update values, and the grant
    # cannot be recovered from them, so the single UPDATE also writes it here to return it.
    Column("last_grant", BigInteger, nullable=False),
)

# Worker processes and what they hold (services.quotas.recovery). Each worker writes last_seen every
# few seconds; one silent for longer than the configured timeout is dead, and another releases its
# holds. No foreign keys: a hold outlives nothing it names, and recovery deletes both together.
workers = Table(
    "workers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
)

holds = Table(
    "holds",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("worker_id", String(64), nullable=False, index=True),
    Column("user_id", BigInteger, nullable=False),
    Column("key_id", String(64), nullable=True),
    Column("tokens", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
)

# The ledger has no foreign keys on purpose: usage history outlives conversations and keys.
usage_ledger = Table(
    "usage_ledger",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("user_id", BigId, nullable=False),
    Column("key_id", String(64), nullable=True),
    Column("conversation_id", String(64), nullable=True),
    Column("message_id", BigInteger, nullable=True),
    Column("model", String(200), nullable=False),
    Column("tokens_prompt", BigInteger, nullable=False),
    Column("tokens_completion", BigInteger, nullable=False),
    Column("source", String(32), nullable=False),
    Column("estimated", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_usage_ledger_user_created", "user_id", "created_at"),
)

files = Table(
    "files",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", BigId, nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("mime", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

settings = Table(
    "settings",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("value", JSON, nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
)

# owner_id 0 means "not scoped under another user" (NULL would defeat the unique constraint).
platform_identities = Table(
    "platform_identities",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("platform", String(32), nullable=False),
    Column("external_id", String(255), nullable=False),
    Column("owner_id", BigInteger, nullable=False),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("display_name", String(255), nullable=True),
    Column("settings", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("platform", "external_id", "owner_id", name="uq_platform_identities_key"),
)

profiles = Table(
    "profiles",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("model", String(200), nullable=True),
    Column("system_prompt", Text, nullable=True),
    Column("temperature", Float, nullable=True),
    Column("tools_enabled", Boolean, nullable=False),
    Column("allowed_tools", JSON(none_as_null=True), nullable=True),
    Column("is_default", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

shares = Table(
    "shares",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column(
        "conversation_id", String(64), ForeignKey("conversations.id", ondelete="CASCADE"), nullable=True, index=True
    ),
    Column("title", String(255), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    # what was shared, as it was at that moment (a Mio-Chat contactor with its messages)
    Column("snapshot", JSON(none_as_null=True), nullable=True),
)

# Secrets every worker and host must agree on (the token signing key), made once by whichever
# starts first. Apart from `settings`, which administrators read and write at runtime.
server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
