"""Pure functions between MuseBot's wire shapes and the core's nouns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchboard.core.domain.errors import InvalidInput
from switchboard.core.domain.mcp import McpServerStatus
from switchboard.core.services.conversations.history import MAX_PAGE_SIZE
from switchboard.core.services.conversations.records import PlatformUser, Record, RecordQuery
from switchboard.faces._shared.bounds import INT64_MAX, MAX_PAGE, whole_number
from switchboard.faces.musebot.schemas import RecordOut, UserOut

RECORD_TYPES = frozenset({0, 1, 2, 3, 4})


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


def page_params(query: Mapping[str, str]) -> tuple[int, int]:
    """MuseBot's paging never refuses: a page below 1 or not a number is 1, a size below 1 or not a
    number is 10; beyond Switchboard's maxima, the maxima."""
    page = _lenient_int(text_param(query, "page"))
    size = _lenient_int(text_param(query, "page_size", "pageSize"))
    return (min(page, MAX_PAGE) if page and page > 0 else 1,
            min(size, MAX_PAGE_SIZE) if size and size > 0 else 10)


def _lenient_int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def record_types(query: Mapping[str, str]) -> frozenset[int] | None:
    """`record_type=2` or a comma list (`0,1,2,4`, the newer console); None (or -1) for all."""
    raw = text_param(query, "record_type", "recordType")
    items = [item.strip() for item in (raw or "").split(",") if item.strip()]
    try:
        types = frozenset(int(item) for item in items)
    except ValueError:
        types = frozenset({99})
    if not types or -1 in types:
        return None
    if not types <= RECORD_TYPES:
        raise InvalidInput("record_type is one or more of 0 (text), 1 (image), 2 (video), 3 (web), 4 (talk), "
                           "separated by commas", param="record_type")
    return types


def record_query(query: Mapping[str, str]) -> RecordQuery:
    deleted = int_param(query, "is_deleted", "isDeleted", default=-1)
    if deleted not in (-1, 0, 1):
        raise InvalidInput("is_deleted must be 0, 1 or -1 (all)", param="is_deleted")
    page, page_size = page_params(query)
    return RecordQuery(
        page=page, page_size=page_size, external_id=text_param(query, "user_id", "userId"),
        deleted=None if deleted == -1 else deleted == 1, record_types=record_types(query),
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
