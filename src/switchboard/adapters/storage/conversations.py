"""Conversations and their messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import bindparam, delete, func, insert, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage.prepared import Prepared, run
from switchboard.adapters.storage.tables import conversations, messages
from switchboard.adapters.storage.values import TYPED, Codec, codec_for
from switchboard.core.domain.conversations import (
    Conversation,
    ConversationSettings,
    Message,
    MessageStatus,
    Part,
    TokenUsage,
    ToolCall,
)

# Selected in the order the row mappings below unpack them.
CONVERSATION_COLUMNS = tuple(conversations.c[name] for name in (
    "id", "user_id", "title", "settings", "project_id", "origin", "external_key", "profile_id", "meta", "created_at",
    "updated_at", "revision"))
_MESSAGE_COLUMNS = tuple(messages.c[name] for name in (
    "id", "conversation_id", "role", "parts", "status", "reasoning", "tool_calls", "tool_call_id", "name", "model",
    "usage", "error", "is_deleted", "created_at", "updated_at", "worker_id"))

# The chat turn's statements, run as prepared statements (prepared.py).
_GET_CONVERSATION = Prepared(select(*CONVERSATION_COLUMNS).where(conversations.c.id == bindparam("b_id")))
_UPDATE_CONVERSATION = Prepared(update(conversations).where(conversations.c.id == bindparam("b_conversation_id")),
                                keys=[c.name for c in CONVERSATION_COLUMNS
                                      if c.name not in ("id", "created_at", "revision")])  # triggers write revision
# a chat turn's change to its conversation (the row is not written whole: no settings to serialise)
_TOUCH = Prepared(update(conversations).where(conversations.c.id == bindparam("b_conversation_id")),
                  keys=["updated_at"])
_TOUCH_TITLED = Prepared(update(conversations).where(conversations.c.id == bindparam("b_conversation_id")),
                         keys=["title", "updated_at"])
_REVISION = Prepared(select(conversations.c.revision).where(conversations.c.id == bindparam("b_id")))
_MESSAGE_KEYS = [c.name for c in _MESSAGE_COLUMNS if c.name != "id"]
_INSERT_MESSAGE = Prepared(insert(messages).returning(messages.c.id), keys=_MESSAGE_KEYS)
_UPDATE_MESSAGE = Prepared(update(messages).where(messages.c.id == bindparam("b_message_id")),
                           keys=[key for key in _MESSAGE_KEYS if key not in ("conversation_id", "created_at")])
# a turn's history (the newest messages: ids grow with insertion), with and without deleted ones
_ALL_NEWEST_QUERY = (select(*_MESSAGE_COLUMNS).where(messages.c.conversation_id == bindparam("b_conversation_id"))
                     .order_by(messages.c.id.desc()).limit(bindparam("b_limit")))
_ALL_NEWEST = Prepared(_ALL_NEWEST_QUERY)
_NEWEST = Prepared(_ALL_NEWEST_QUERY.where(not_(messages.c.is_deleted)))
_PARTS = TypeAdapter(list[Part] | None)  # a message's JSON columns (values.Codec.models_out; JSON null as NULL)
_TOOL_CALLS = TypeAdapter(list[ToolCall] | None)
_USAGE = TypeAdapter(TokenUsage | None)


def conversation_from_row(row: Sequence[Any], codec: Codec = TYPED) -> Conversation:
    (id_, user_id, title, settings, project_id, origin, external_key, profile_id, meta, created_at, updated_at,
     revision, *_) = row
    meta = codec.json_out(meta)
    return Conversation(
        id=id_, user_id=user_id, title=title,
        settings=ConversationSettings.model_validate(codec.json_out(settings) or {}),
        created_at=codec.time_out(created_at), updated_at=codec.time_out(updated_at), project_id=project_id,
        origin=origin, external_key=external_key, profile_id=profile_id, meta=dict(meta or {}), revision=revision,
    )


def _conversation_values(conversation: Conversation, codec: Codec = TYPED) -> dict[str, Any]:
    return {
        "user_id": conversation.user_id,
        "title": conversation.title,
        "settings": codec.json_in(conversation.settings.model_dump(mode="json")),
        "project_id": conversation.project_id,
        "origin": conversation.origin,
        "external_key": conversation.external_key,
        "profile_id": conversation.profile_id,
        "meta": codec.json_in(conversation.meta),
        "created_at": codec.time_in(conversation.created_at),
        "updated_at": codec.time_in(conversation.updated_at),
    }


class SqlConversationRepo:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, conversation: Conversation) -> None:
        statement = insert(conversations).values(id=conversation.id, **_conversation_values(conversation))
        await self._connection.execute(statement)

    async def get(self, conversation_id: str) -> Conversation | None:
        rows, _count = await run(self._connection, _GET_CONVERSATION, {"b_id": conversation_id})
        return conversation_from_row(rows[0], codec_for(self._connection)) if rows else None

    async def revision(self, conversation_id: str) -> int | None:
        rows, _count = await run(self._connection, _REVISION, {"b_id": conversation_id})
        return int(rows[0][0]) if rows else None

    async def list(
        self,
        user_id: int,
        page: int,
        page_size: int,
        *,
        project_id: str | None = None,
        origin: str | None = None,
        external_key: str | None = None,
        title_contains: str | None = None,
    ) -> tuple[list[Conversation], int]:
        """Most recently updated first; page numbers start at 1; None filters are not applied."""
        conditions = [conversations.c.user_id == user_id]
        if project_id is not None:
            conditions.append(conversations.c.project_id == project_id)
        if origin is not None:
            conditions.append(conversations.c.origin == origin)
        if external_key is not None:
            conditions.append(conversations.c.external_key == external_key)
        if title_contains:
            conditions.append(conversations.c.title.icontains(title_contains, autoescape=True))  # % and _ literal
        total = await self._connection.scalar(select(func.count()).select_from(conversations).where(*conditions))
        statement = (
            select(*CONVERSATION_COLUMNS)
            .where(*conditions)
            .order_by(conversations.c.updated_at.desc(), conversations.c.id.desc())
            .limit(page_size)
            .offset((max(page, 1) - 1) * page_size)
        )
        rows = (await self._connection.execute(statement)).all()
        return [conversation_from_row(row) for row in rows], int(total or 0)

    async def update(self, conversation: Conversation) -> None:
        values = _conversation_values(conversation, codec_for(self._connection))
        del values["created_at"]  # fixed at creation
        await run(self._connection, _UPDATE_CONVERSATION, {**values, "b_conversation_id": conversation.id})

    async def delete(self, conversation_id: str) -> None:
        # Explicit, not left to ON DELETE CASCADE: correct even on a connection without foreign keys.
        await self._connection.execute(delete(messages).where(messages.c.conversation_id == conversation_id))
        await self._connection.execute(delete(conversations).where(conversations.c.id == conversation_id))

    async def touch(self, conversation_id: str, at: datetime, title: str | None = None) -> None:
        statement, values = (_TOUCH, {}) if title is None else (_TOUCH_TITLED, {"title": title})
        at_value = codec_for(self._connection).time_in(at)
        await run(self._connection, statement, {**values, "updated_at": at_value, "b_conversation_id": conversation_id})


def _message_from_row(row: Sequence[Any], codec: Codec = TYPED) -> Message:
    (id_, conversation_id, role, parts, status, reasoning, tool_calls, tool_call_id, name, model, usage, error,
     is_deleted, created_at, updated_at, worker_id, *_) = row
    return Message(
        id=id_, conversation_id=conversation_id, role=role, parts=codec.models_out(_PARTS, parts) or [],
        status=MessageStatus(status), created_at=codec.time_out(created_at), updated_at=codec.time_out(updated_at),
        reasoning=reasoning or "", tool_calls=codec.models_out(_TOOL_CALLS, tool_calls) or [],
        tool_call_id=tool_call_id, name=name, model=model, usage=codec.models_out(_USAGE, usage),
        error=error, is_deleted=bool(is_deleted), worker_id=worker_id,
    )


def message_values(message: Message, codec: Codec = TYPED) -> dict[str, Any]:
    usage = message.usage.model_dump(mode="json") if message.usage is not None else None
    return {
        "conversation_id": message.conversation_id,
        "role": message.role,
        "parts": codec.json_in([part.model_dump(mode="json", exclude_none=True) for part in message.parts]),
        "status": message.status.value,
        "reasoning": message.reasoning,
        "tool_calls": codec.json_in([call.model_dump(mode="json") for call in message.tool_calls]),
        "tool_call_id": message.tool_call_id,
        "name": message.name,
        "model": message.model,
        "usage": codec.json_in(usage) if usage is not None else None,  # NULL, not JSON null
        "error": message.error,
        "is_deleted": message.is_deleted,
        "created_at": codec.time_in(message.created_at),
        "updated_at": codec.time_in(message.updated_at),
        "worker_id": message.worker_id,
    }


class SqlMessageRepo:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, message: Message) -> Message:
        """The id on the message passed in is ignored; the database assigns one."""
        values = message_values(message, codec_for(self._connection))
        rows, _count = await run(self._connection, _INSERT_MESSAGE, values)
        return message.with_id(rows[0][0])

    async def get(self, message_id: int) -> Message | None:
        statement = select(*_MESSAGE_COLUMNS).where(messages.c.id == message_id)
        row = (await self._connection.execute(statement)).first()
        return _message_from_row(row) if row else None

    async def list(self, conversation_id: str, limit: int = 100, include_deleted: bool = False) -> list[Message]:
        statement = _ALL_NEWEST if include_deleted else _NEWEST
        parameters = {"b_conversation_id": conversation_id, "b_limit": limit}
        rows, _count = await run(self._connection, statement, parameters)
        codec = codec_for(self._connection)
        return [_message_from_row(row, codec) for row in reversed(rows)]

    async def update(self, message: Message) -> None:
        values = message_values(message, codec_for(self._connection))
        del values["conversation_id"], values["created_at"]  # a message never moves or is re-dated
        await run(self._connection, _UPDATE_MESSAGE, {**values, "b_message_id": message.id})

    async def mark_deleted(self, message_ids: list[int]) -> None:
        if not message_ids:
            return
        statement = update(messages).where(messages.c.id.in_(message_ids)).values(is_deleted=True)
        await self._connection.execute(statement)

    async def mark_conversation_deleted(self, conversation_id: str) -> int:
        """Soft-deletes every message of the conversation; returns how many were not deleted before."""
        statement = (
            update(messages)
            .where(messages.c.conversation_id == conversation_id, not_(messages.c.is_deleted))
            .values(is_deleted=True)
        )
        result = await self._connection.execute(statement)
        return int(result.rowcount)

    async def list_across(
        self,
        page: int,
        page_size: int,
        *,
        user_id: int | None = None,
        origins: Sequence[str] = (),
        external_key: str | None = None,
        role: str | None = None,
        deleted: bool | None = None,
    ) -> tuple[list[Message], int]:
        joined = messages.join(conversations, conversations.c.id == messages.c.conversation_id)
        conditions: list[Any] = []
        if user_id is not None:
            conditions.append(conversations.c.user_id == user_id)
        if origins:
            conditions.append(conversations.c.origin.in_(list(origins)))
        if external_key is not None:
            conditions.append(conversations.c.external_key == external_key)
        if role is not None:
            conditions.append(messages.c.role == role)
        if deleted is not None:
            conditions.append(messages.c.is_deleted == deleted)
        total = await self._connection.scalar(select(func.count()).select_from(joined).where(*conditions))
        statement = (
            select(*_MESSAGE_COLUMNS)
            .select_from(joined)
            .where(*conditions)
            .order_by(messages.c.id.desc())
            .limit(page_size)
            .offset((max(page, 1) - 1) * page_size)
        )
        rows = (await self._connection.execute(statement)).all()
        return [_message_from_row(row) for row in rows], int(total or 0)

    async def replies(self, message_ids: list[int]) -> dict[int, list[Message]]:
        if not message_ids:
            return {}
        asked = messages.alias("asked")
        conversation_ids = select(asked.c.conversation_id).where(asked.c.id.in_(message_ids))
        earlier = messages.alias("earlier")
        # the question an answer belongs to: the newest user message before it in its conversation
        question = (
            select(func.max(earlier.c.id))
            .where(
                earlier.c.conversation_id == messages.c.conversation_id,
                earlier.c.role == "user",
                earlier.c.id < messages.c.id,
            )
            .scalar_subquery()
        )
        statement = (
            select(*_MESSAGE_COLUMNS, question.label("question_id"))
            .where(
                messages.c.conversation_id.in_(conversation_ids),
                messages.c.role == "assistant",
                messages.c.id > min(message_ids),
                question.in_(message_ids),
            )
            .order_by(messages.c.id)
        )
        found: dict[int, list[Message]] = {}
        for row in (await self._connection.execute(statement)).all():
            found.setdefault(int(row.question_id), []).append(_message_from_row(row))
        return found

    async def stranded(self, worker_ids: list[str]) -> list[tuple[Message, int]]:
        orphaned = messages.c.worker_id.is_(None)
        if worker_ids:
            orphaned = or_(orphaned, messages.c.worker_id.in_(worker_ids))
        statement = (
            select(*_MESSAGE_COLUMNS, conversations.c.user_id.label("owner_id"))
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(messages.c.status == MessageStatus.STREAMING.value, orphaned)
            .order_by(messages.c.id)
        )
        rows = (await self._connection.execute(statement)).all()
        return [(_message_from_row(row), int(row.owner_id)) for row in rows]

    async def finish_stranded(self, message: Message) -> bool:
        values = message_values(message)
        del values["conversation_id"], values["created_at"]
        statement = (update(messages)
                     .where(messages.c.id == message.id, messages.c.status == MessageStatus.STREAMING.value)
                     .values(**values))
        return bool((await self._connection.execute(statement)).rowcount)
