"""Pure functions between MuseBot's wire shapes and the core's nouns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchboard.core.domain.errors import InvalidInput
from switchboard.core.domain.mcp import McpServerStatus
from switchboard.core.services.conversations.records import PlatformUser, Record, RecordQuery
from switchboard.faces._shared.bounds import INT64_MAX, MAX_PAGE, whole_number
from switchboard.faces.musebot.schemas import RecordOut, UserOut


def text_param(query: Mapping[str, str], *names: str) -> str | None:
    """The first non-empty value under any of the spellings (`page_size` / `pageSize` ...)."""
    for name in names:
        value = query.get(name)
        if value is not None and value.strip():
            return value.strip()
    return None


def int_param(query: Mapping[str, str], *names: str, default: int | None, low: int = -INT64_MAX,
              high: int = INT64_MAX) -> int | None:
    value = text_param(query, *names)
    return default if value is None else whole_number(value, names[0], low=low, high=high)


def required(value: str | None, name: str) -> str:
    if not value:
        raise InvalidInput(f"the {name} parameter is required", param=name)
    return value


def record_query(query: Mapping[str, str]) -> RecordQuery:
    deleted = int_param(query, "is_deleted", "isDeleted", default=-1)
    if deleted not in (-1, 0, 1):
        raise InvalidInput("is_deleted must be 0, 1 or -1 (all)", param="is_deleted")
    return RecordQuery(
        page=int_param(query, "page", default=1, low=0, high=MAX_PAGE) or 1,
        page_size=int_param(query, "page_size", "pageSize", default=10, low=0, high=MAX_PAGE) or 10,
        external_id=text_param(query, "user_id", "userId"),
        deleted=None if deleted == -1 else deleted == 1,
        record_type=int_param(query, "record_type", "recordType", default=None),
    )


def user_out(user: PlatformUser, default_mode: str) -> dict[str, Any]:
    return UserOut(
        id=user.user_id, user_id=user.external_id, mode=user.mode or default_mode, token=user.used,
        updatetime=int(user.updated_at.timestamp()), avail_token=user.allowance,
    ).model_dump()


def record_out(record: Record) -> dict[str, Any]:
    return RecordOut(
        id=record.id, user_id=record.external_id, question=record.question, answer=record.answer,
        content=record.content, token=record.tokens, is_deleted=int(record.deleted),
        create_time=int(record.created_at.timestamp()), record_type=record.record_type,
    ).model_dump()


def mcp_servers_out(statuses: list[McpServerStatus]) -> dict[str, Any]:
    """The Claude-desktop shape MuseBot keeps in its file, with each server's live state added."""
    servers = {
        s.name: {**s.config.model_dump(mode="json", exclude_defaults=True), "disabled": s.config.disabled,
                 "status": s.state, "error": s.error, "tool_count": s.tool_count}
        for s in statuses
    }
    return {"mcpServers": servers, "McpServers": servers}  # the seed's spelling and the real one
