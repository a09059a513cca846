"""The chat turn's prepared statements (adapters/storage/prepared.py) store the same bytes as
SQLAlchemy's types did and read what they stored, both ways, on both databases: a database
written by an older release reads the same, and an older worker reads what this one writes."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Table, Text, cast, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.adapters.storage.conversations import _PARTS, _TOOL_CALLS, _USAGE
from switchboard.adapters.storage.engine import create_engine_for
from switchboard.adapters.storage.tables import conversations, messages, usage_ledger
from switchboard.adapters.storage.values import POSTGRES, SQLITE, json_loads
from switchboard.core.domain.conversations import (
    Conversation,
    ConversationSettings,
    Message,
    MessageStatus,
    Part,
    TokenUsage,
    ToolCall,
)
from switchboard.core.domain.platforms import Profile
from switchboard.core.domain.quotas import UsageEntry
from switchboard.core.domain.users import Role
from switchboard.core.ports.storage import Tx

# not UTC, no microseconds (SQLAlchemy's SQLite format still writes them), and one with them
CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
UPDATED = datetime(2026, 1, 2, 1, 4, 5, 123456, tzinfo=UTC)
TRICKY = 'héllo ☃ 🎉 "quoted" \\ back\nslash </script>'


@pytest.fixture
async def engine(uow: SqlUnitOfWork, database_url: str) -> AsyncIterator[AsyncEngine]:
    """A plain SQLAlchemy engine on the same database: the way the code before writes and reads."""
    engine = create_engine_for(database_url)
    yield engine
    await engine.dispose()


def _message(conversation_id: str, *, usage: TokenUsage | None) -> Message:
    return Message(
        id=0, conversation_id=conversation_id, role="assistant", status=MessageStatus.COMPLETED,
        parts=[Part(text=TRICKY), Part(type="image", url="https://example.com/ü.png", mime="image/png", size=12)],
        created_at=CREATED, updated_at=UPDATED, reasoning=TRICKY, model="m-ü",
        tool_calls=[ToolCall(id="call_1", name="lookup", arguments='{"q": "ü", "n": 1.5}')],
        usage=usage, worker_id="wrk_1",
    )


def _old_message_values(message: Message) -> dict[str, Any]:
    """What SqlMessageRepo passed to SQLAlchemy's typed columns before the prepared statements."""
    return {
        "conversation_id": message.conversation_id, "role": message.role, "status": message.status.value,
        "parts": [part.model_dump(mode="json", exclude_none=True) for part in message.parts],
        "reasoning": message.reasoning, "tool_calls": [call.model_dump(mode="json") for call in message.tool_calls],
        "tool_call_id": message.tool_call_id, "name": message.name, "model": message.model,
        "usage": message.usage.model_dump(mode="json") if message.usage is not None else None,
        "error": message.error, "is_deleted": message.is_deleted, "created_at": message.created_at,
        "updated_at": message.updated_at, "worker_id": message.worker_id,
    }


async def _stored_text(
    engine: AsyncEngine, table: Table, order: Any, skip: Sequence[str] = ("id",)
) -> list[tuple[Any, ...]]:
    """Each row's columns as the database holds them (JSON as its text, times as text)."""
    columns = [cast(column, Text) for column in table.c if column.name not in skip]
    async with engine.connect() as connection:
        return [tuple(row) for row in (await connection.execute(select(*columns).order_by(order))).all()]


async def _conversation(uow: SqlUnitOfWork, conversation_id: str, user_id: int) -> Conversation:
    conversation = Conversation(
        id=conversation_id, user_id=user_id, title=TRICKY, created_at=CREATED, updated_at=UPDATED,
        settings=ConversationSettings(model="m-ü", system_prompt=TRICKY, temperature=0.7),
        meta={"ü": [1, 2.5, None, True, {"deep": "☃"}]}, origin="onebot", external_key="g:1",
    )
    async with uow() as tx:
        await tx.conversations.add(conversation)
    return conversation


async def test_messages_stored_by_sqlalchemy_and_by_the_prepared_statements_are_the_same(
    uow: SqlUnitOfWork, engine: AsyncEngine
) -> None:
    async with uow() as tx:
        user = await tx.users.add("üser", None, None, Role.USER)
    conversation = await _conversation(uow, "c1", user.id)
    wanted = [_message("c1", usage=TokenUsage(prompt_tokens=3, completion_tokens=4, estimated=True)),
              _message("c1", usage=None)]
    for message in wanted:
        async with engine.begin() as connection:  # before: SQLAlchemy's types
            await connection.execute(insert(messages).values(**_old_message_values(message)))
        await uow.run(lambda tx, m=message: tx.messages.add(m))  # a step: the DB-API cursor
        async with uow() as tx:  # a unit of work's own transaction: exec_driver_sql
            await tx.messages.add(message)

    stored = await _stored_text(engine, messages, messages.c.id)
    assert stored[0:3] == [stored[0]] * 3 and stored[3:6] == [stored[3]] * 3
    if uow.dialect == "sqlite":
        assert stored[0][12:14] == ("2026-01-02 01:04:05.000000", "2026-01-02 01:04:05.123456")
    parts_text = stored[0][2]
    assert parts_text == json.dumps(_old_message_values(wanted[0])["parts"])  # ensure_ascii, ", " and ": "
    assert stored[3][9] is None  # a missing usage is NULL, not JSON null

    def expected(message: Message, id_: int) -> Message:
        return dataclasses.replace(message, id=id_)

    listed = await uow.run_read(lambda tx: tx.messages.list("c1"))  # prepared, on the reader
    assert listed == [expected(wanted[i // 3], i + 1) for i in range(6)]
    assert all(m.created_at.tzinfo is UTC and m.created_at == CREATED for m in listed)
    async with uow() as tx:
        assert await tx.messages.list("c1") == listed  # prepared, through exec_driver_sql
        assert [await tx.messages.get(i + 1) for i in range(6)] == listed  # SQLAlchemy's types

    # updated both ways: the same bytes again
    changed = dataclasses.replace(listed[0], parts=[Part(text="ünd")], status=MessageStatus.FAILED,
                                  error=TRICKY, updated_at=CREATED, usage=None)
    await uow.run(lambda tx: tx.messages.update(changed))
    old = _old_message_values(changed)
    del old["conversation_id"], old["created_at"]
    async with engine.begin() as connection:
        await connection.execute(update(messages).where(messages.c.id == 2).values(**old))
    stored = await _stored_text(engine, messages, messages.c.id)
    assert stored[0] == stored[1] and stored[0][12] == stored[2][12]
    assert (await uow.run_read(lambda tx: tx.messages.list("c1")))[:2] == [changed, dataclasses.replace(changed, id=2)]
    assert conversation.title == TRICKY


async def test_conversations_users_profiles_and_ledger_entries_read_and_written_either_way(
    uow: SqlUnitOfWork, engine: AsyncEngine
) -> None:
    async with uow() as tx:
        user = await tx.users.add("ünïcode", "ü@example.com", None, Role.ADMIN)
        user.settings = {"ü": "☃", "n": [1, 2.5]}
        await tx.users.update(user)
    first = await _conversation(uow, "c1", user.id)
    second = await _conversation(uow, "c2", user.id)
    first.meta = second.meta = {"later": TRICKY, "n": 10**20}
    first.updated_at = second.updated_at = CREATED + timedelta(microseconds=7)
    await uow.run(lambda tx: tx.conversations.update(first))  # prepared
    async with engine.begin() as connection:  # before: SQLAlchemy's types
        await connection.execute(update(conversations).where(conversations.c.id == "c2").values(
            meta=second.meta, settings=second.settings.model_dump(mode="json"), updated_at=second.updated_at))
    rows = await _stored_text(engine, conversations, conversations.c.id, skip=("id",))
    assert rows[0] == rows[1]

    async def read(tx: Tx) -> tuple[Any, ...]:
        return await tx.conversations.get("c1"), await tx.conversations.get("c2"), await tx.users.get(user.id)

    got_first, got_second, got_user = await uow.run_read(read)
    assert got_first == first and got_second == dataclasses.replace(first, id="c2")
    async with uow() as tx:
        listed, _total = await tx.conversations.list(user.id, 1, 10)  # SQLAlchemy's types
        assert sorted(listed, key=lambda c: c.id) == [got_first, got_second]
        assert got_user == await tx.users.by_username("ünïcode") == user

    profile = Profile(id="p1", name="pérsona", created_at=CREATED, updated_at=UPDATED, model="m-ü",
                      system_prompt=TRICKY, temperature=0.3, tools_enabled=False, allowed_tools=["ü", "b"])
    async with uow() as tx:
        await tx.profiles.put(profile)  # SQLAlchemy's types
    assert await uow.run_read(lambda tx: tx.profiles.get("p1")) == profile  # prepared
    async with uow() as tx:
        assert await tx.profiles.get("p1") == await tx.profiles.by_name("pérsona") == profile

    entry = UsageEntry(user_id=user.id, tokens_prompt=5, tokens_completion=6, model="m-ü", created_at=CREATED,
                       conversation_id="c1", message_id=1, estimated=True)
    await uow.run(lambda tx: tx.quotas.record(entry))  # prepared
    async with engine.begin() as connection:
        await connection.execute(insert(usage_ledger).values(**dataclasses.asdict(entry)))
    ledger = await _stored_text(engine, usage_ledger, usage_ledger.c.id)
    assert ledger[0] == ledger[1]


def test_stored_json_reads_back_as_json_loads_read_it() -> None:
    # orjson refuses NaN/Infinity (which json.dumps writes) and integers beyond 64 bits
    for text in ('{"a": NaN, "b": -Infinity}', "[18446744073709551616, 1.5, \"\\u00fc\"]", '{"x": 1, "x": 2}',
                 "[-9223372036854775809, 9223372036854775807, 1e400, 0.1, 1E-7]"):
        assert json.dumps(json_loads(text)) == json.dumps(json.loads(text))


def test_stored_times_and_message_columns_read_as_the_code_before_read_them() -> None:
    # SQLite's text with "+00:00" appended, and a message's JSON columns in one pydantic call each
    for text in ("2026-01-02 01:04:05.123456", "2026-01-02 01:04:05", "2026-01-02T03:04:05+02:00", "2026-01-02"):
        before = datetime.fromisoformat(text)
        before = before.replace(tzinfo=UTC) if before.tzinfo is None else before.astimezone(UTC)
        read = SQLITE.time_out(text)
        assert read == before and read is not None and read.tzinfo is UTC
    parts = [{"type": "image", "url": "ü", "size": 10**20, "extra": 1}, {"text": TRICKY}]
    for adapter, value, before in (
        (_PARTS, parts, [Part.model_validate(part) for part in parts]),
        (_TOOL_CALLS, [{"id": "c", "name": "n", "arguments": "{}"}], [ToolCall(id="c", name="n", arguments="{}")]),
        (_USAGE, {"prompt_tokens": 3, "completion_tokens": 4, "estimated": True},
         TokenUsage(prompt_tokens=3, completion_tokens=4, estimated=True)),
        (_PARTS, None, None),  # JSON null, as a missing value
    ):
        assert SQLITE.models_out(adapter, json.dumps(value)) == POSTGRES.models_out(adapter, value) == before
    assert SQLITE.models_out(_USAGE, None) is POSTGRES.models_out(_USAGE, None) is None  # SQL NULL


def test_json_written_by_hand_is_byte_for_byte_what_json_dumps_writes() -> None:
    # values._json_in calls json's C encoder directly; existing rows and older workers expect
    # json.dumps's exact text (separators, ASCII escapes, NaN, long integers, key order)
    for value in ([], {}, [{"type": "text", "text": TRICKY}], {"b": [1, 2.5, None, True, False], "a": "ü\u2028"},
                  {"nan": float("nan"), "inf": float("-inf"), "long": 10**30, "float": 1e300, "zero": -0.0},
                  [[{"deep": [{"er": {}}]}]], "a top-level string", 7, None, {1: "int key"}):
        assert SQLITE.json_in(value) == POSTGRES.json_in(value) == json.dumps(value)
