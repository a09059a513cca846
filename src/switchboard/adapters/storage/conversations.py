"""Conversations and their messages."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, not_, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard.adapters.storage.tables import conversations, messages
from switchboard.core.domain.conversations import (
    Conversation,
    ConversationSettings,
    Message,
    MessageStatus,
    Part,
    TokenUsage,
    ToolCall,
)

# The chat turn's writes, built once: SQLAlchemy then reuses their cache key and compiled form,
# where building a statement per call (values(), where()) was a large share of a turn's CPU.
# The SET and INSERT columns come from the parameters each call passes.
_UPDATE_CONVERSATION = update(conversations).where(conversations.c.id == bindparam("b_conversation_id"))
_INSERT_MESSAGE = insert(messages).returning(messages.c.id)
_UPDATE_MESSAGE = update(messages).where(messages.c.id == bindparam("b_message_id"))
# a turn's history (the newest messages: ids grow with insertion), with and without deleted ones
_ALL_NEWEST = (select(messages).where(messages.c.conversation_id == bindparam("b_conversation_id"))
               .order_by(messages.c.id.desc()).limit(bindparam("b_limit")))
_NEWEST = _ALL_NEWEST.where(not_(messages.c.is_deleted))


def _conversation_from_row(row: RowMapping) -> Conversation:
    return Conversation(
        id=row["id"],
        user_id=row["user_id"],
        title=row["title"],
        settings=ConversationSettings.model_validate(row["settings"] or {}),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        project_id=row["project_id"],
        origin=row["origin"],
        external_key=row["external_key"],
        profile_id=row["profile_id"],
        meta=dict(row["meta"] or {}),
    )


def _conversation_values(conversation: Conversation) -> dict[str, Any]:
    return {
        "user_id": conversation.user_id,
        "title": conversation.title,
        "settings": conversation.settings.model_dump(mode="json"),
        "project_id": conversation.project_id,
        "origin": conversation.origin,
        "external_key": conversation.external_key,
        "profile_id": conversation.profile_id,
        "meta": conversation.meta,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
    }


class SqlConversationRepo:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, conversation: Conversation) -> None:
        statement = insert(conversations).values(id=conversation.id, **_conversation_values(conversation))
        await self._connection.execute(statement)

    async def get(self, conversation_id: str) -> Conversation | None:
        statement = select(conversations).where(conversations.c.id == conversation_id)
        row = (await self._connection.execute(statement)).mappings().first()
        return _conversation_from_row(row) if row else None

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
            select(conversations)
            .where(*conditions)
            .order_by(conversations.c.updated_at.desc(), conversations.c.id.desc())
            .limit(page_size)
            .offset((max(page, 1) - 1) * page_size)
        )
        rows = (await self._connection.execute(statement)).mappings().all()
        return [_conversation_from_row(row) for row in rows], int(total or 0)

    async def update(self, conversation: Conversation) -> None:
        values = _conversation_values(conversation)
        del values["created_at"]  # fixed at creation
        await self._connection.execute(_UPDATE_CONVERSATION, {**values, "b_conversation_id": conversation.id})

    async def delete(self, conversation_id: str) -> None:
        # Explicit, not left to ON DELETE CASCADE: correct even on a connection without foreign keys.
        await self._connection.execute(delete(messages).where(messages.c.conversation_id == conversation_id))
        await self._connection.execute(delete(conversations).where(conversations.c.id == conversation_id))

    async def touch(self, conversation_id: str, at: datetime) -> None:
        statement = update(conversations).where(conversations.c.id == conversation_id).values(updated_at=at)
        await self._connection.execute(statement)


def _message_from_row(row: RowMapping) -> Message:
    usage = row["usage"]
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        role=row["role"],
        parts=[Part.model_validate(part) for part in row["parts"] or []],
        status=MessageStatus(row["status"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        reasoning=row["reasoning"] or "",
        tool_calls=[ToolCall.model_validate(call) for call in row["tool_calls"] or []],
        tool_call_id=row["tool_call_id"],
        name=row["name"],
        model=row["model"],
        usage=TokenUsage.model_validate(usage) if usage is not None else None,
        error=row["error"],
        is_deleted=bool(row["is_deleted"]),
        worker_id=row["worker_id"],
    )


def _message_values(message: Message) -> dict[str, Any]:
    return {
        "conversation_id": message.conversation_id,
        "role": message.role,
        "parts": [part.model_dump(mode="json", exclude_none=True) for part in message.parts],
        "status": message.status.value,
        "reasoning": message.reasoning,
        "tool_calls": [call.model_dump(mode="json") for call in message.tool_calls],
        "tool_call_id": message.tool_call_id,
        "name": message.name,
        "model": message.model,
        "usage": message.usage.model_dump(mode="json") if message.usage is not None else None,
        "error": message.error,
        "is_deleted": message.is_deleted,
        "created_at": message.created_at,
        "updated_at": message.updated_at,
        "worker_id": message.worker_id,
    }


class SqlMessageRepo:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, message: Message) -> Message:
        """The id on the message passed in is ignored; the database assigns one."""
        new_id = (await self._connection.execute(_INSERT_MESSAGE, _message_values(message))).scalar_one()
        return dataclasses.replace(message, id=new_id)

    async def get(self, message_id: int) -> Message | None:
        row = (await self._connection.execute(select(messages).where(messages.c.id == message_id))).mappings().first()
        return _message_from_row(row) if row else None

    async def list(self, conversation_id: str, limit: int = 100, include_deleted: bool = False) -> list[Message]:
        statement = _ALL_NEWEST if include_deleted else _NEWEST
        parameters = {"b_conversation_id": conversation_id, "b_limit": limit}
        rows = (await self._connection.execute(statement, parameters)).mappings().all()
        return [_message_from_row(row) for row in reversed(rows)]

    async def update(self, message: Message) -> None:
        values = _message_values(message)
        del values["conversation_id"], values["created_at"]  # a message never moves or is re-dated
        await self._connection.execute(_UPDATE_MESSAGE, {**values, "b_message_id": message.id})

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
            select(messages)
            .select_from(joined)
            .where(*conditions)
            .order_by(messages.c.id.desc())
            .limit(page_size)
            .offset((max(page, 1) - 1) * page_size)
        )
        rows = (await self._connection.execute(statement)).mappings().all()
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
            select(messages, question.label("question_id"))
            .where(
                messages.c.conversation_id.in_(conversation_ids),
                messages.c.role == "assistant",
                messages.c.id > min(message_ids),
                question.in_(message_ids),
            )
            .order_by(messages.c.id)
        )
        found: dict[int, list[Message]] = {}
        for row in (await self._connection.execute(statement)).mappings().all():
            found.setdefault(int(row["question_id"]), []).append(_message_from_row(row))
        return found

    async def stranded(self, worker_ids: list[str]) -> list[tuple[Message, int]]:
        orphaned = messages.c.worker_id.is_(None)
        if worker_ids:
            orphaned = or_(orphaned, messages.c.worker_id.in_(worker_ids))
        statement = (
            select(messages, conversations.c.user_id.label("owner_id"))
            .join(conversations, conversations.c.id == messages.c.conversation_id)
            .where(messages.c.status == MessageStatus.STREAMING.value, orphaned)
            .order_by(messages.c.id)
        )
        rows = (await self._connection.execute(statement)).mappings().all()
        return [(_message_from_row(row), int(row["owner_id"])) for row in rows]

    async def finish_stranded(self, message: Message) -> bool:
        values = _message_values(message)
        del values["conversation_id"], values["created_at"]
        statement = (update(messages)
                     .where(messages.c.id == message.id, messages.c.status == MessageStatus.STREAMING.value)
                     .values(**values))
        return bool((await self._connection.execute(statement)).rowcount)
