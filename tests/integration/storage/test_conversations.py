"""Conversations and messages on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.core.domain.conversations import (
    Conversation,
    ConversationSettings,
    Message,
    MessageStatus,
    Part,
    TokenUsage,
    ToolCall,
    text_parts,
)
from switchboard.core.domain.users import Role
from switchboard.core.ports.storage import Tx

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


async def _user(uow: SqlUnitOfWork, name: str = "owner") -> int:
    async with uow() as tx:
        return (await tx.users.add(name, None, None, Role.USER)).id


def _conversation(user_id: int, conversation_id: str, **overrides: object) -> Conversation:
    fields: dict[str, object] = {
        "id": conversation_id,
        "user_id": user_id,
        "title": "A chat",
        "settings": ConversationSettings(model="gpt-x", temperature=0.5, thinking_enabled=True),
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(overrides)
    return Conversation(**fields)  # type: ignore[arg-type]


def _message(conversation_id: str, text: str, **overrides: object) -> Message:
    fields: dict[str, object] = {
        "id": 0,
        "conversation_id": conversation_id,
        "role": "user",
        "parts": text_parts(text),
        "status": MessageStatus.COMPLETED,
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(overrides)
    return Message(**fields)  # type: ignore[arg-type]


async def test_conversation_round_trip_update_and_touch(uow: SqlUnitOfWork) -> None:
    user_id = await _user(uow)
    conversation = _conversation(
        user_id,
        "conv_1",
        project_id="proj",
        origin="astrbot",
        external_key="alice",
        profile_id="prof",
        meta={"pinned": True, "tags": ["a"]},
    )
    async with uow() as tx:
        await tx.conversations.add(conversation)
    async with uow() as tx:
        assert await tx.conversations.get("conv_1") == conversation
        assert await tx.conversations.get("conv_missing") is None

        conversation.title = "Renamed"
        conversation.settings = ConversationSettings(system_prompt="be brief", max_tokens=100)
        conversation.meta = {}
        conversation.updated_at = T0 + timedelta(minutes=1)
        await tx.conversations.update(conversation)
        await tx.conversations.touch("conv_1", T0 + timedelta(hours=1))

    async with uow() as tx:
        stored = await tx.conversations.get("conv_1")
    assert stored is not None
    assert stored.title == "Renamed"
    assert stored.settings == ConversationSettings(system_prompt="be brief", max_tokens=100)
    assert stored.meta == {}
    assert stored.updated_at == T0 + timedelta(hours=1)
    assert stored.created_at == T0 and stored.created_at.tzinfo is UTC

    async def retitle(tx: Tx) -> None:  # as a chat turn does, in a storage step
        await tx.conversations.touch("conv_1", T0 + timedelta(hours=2), "First question")

    await uow.run(retitle)
    async with uow() as tx:
        retitled = await tx.conversations.get("conv_1")
    assert retitled is not None and (retitled.title, retitled.updated_at) == ("First question", T0 + timedelta(hours=2))
    assert retitled.settings == stored.settings and retitled.meta == stored.meta


async def test_conversation_list_filters_orders_and_pages(uow: SqlUnitOfWork) -> None:
    alice, bob = await _user(uow, "alice"), await _user(uow, "bob")
    async with uow() as tx:
        for index in range(5):
            await tx.conversations.add(
                _conversation(alice, f"conv_a{index}", updated_at=T0 + timedelta(minutes=index + 1))
            )
        await tx.conversations.add(_conversation(alice, "conv_astr", origin="astrbot", external_key="u1"))
        await tx.conversations.add(_conversation(alice, "conv_proj", project_id="p1"))
        await tx.conversations.add(_conversation(bob, "conv_bob"))

    async with uow() as tx:
        first_page, total = await tx.conversations.list(alice, page=1, page_size=3)
        second_page, _ = await tx.conversations.list(alice, page=2, page_size=3)
        by_origin, origin_total = await tx.conversations.list(alice, 1, 10, origin="astrbot")
        by_key, _ = await tx.conversations.list(alice, 1, 10, origin="astrbot", external_key="u1")
        no_key, _ = await tx.conversations.list(alice, 1, 10, origin="astrbot", external_key="u2")
        by_project, _ = await tx.conversations.list(alice, 1, 10, project_id="p1")
        bobs, bob_total = await tx.conversations.list(bob, 1, 10)

    assert total == 7
    assert [c.id for c in first_page] == ["conv_a4", "conv_a3", "conv_a2"]  # newest activity first
    # ties on updated_at fall back to the id, newest id first
    assert [c.id for c in second_page] == ["conv_a1", "conv_a0", "conv_proj"]
    assert origin_total == 1 and [c.id for c in by_origin] == ["conv_astr"]
    assert [c.id for c in by_key] == ["conv_astr"] and no_key == []
    assert [c.id for c in by_project] == ["conv_proj"]
    assert bob_total == 1 and [c.id for c in bobs] == ["conv_bob"]


async def test_titles_are_searched_in_any_case_and_literally(uow: SqlUnitOfWork) -> None:
    alice, bob = await _user(uow, "alice"), await _user(uow, "bob")
    titles = {"conv_t1": "Trip to Paris", "conv_t2": "paris budget", "conv_t3": "100% done", "conv_t4": "1000 done",
              "conv_t5": "snake_case", "conv_t6": "snakeXcase", "conv_t7": "巴黎旅行"}
    async with uow() as tx:
        for index, (conversation_id, title) in enumerate(titles.items()):
            await tx.conversations.add(_conversation(alice, conversation_id, title=title,
                                                     updated_at=T0 + timedelta(minutes=index)))
        await tx.conversations.add(_conversation(bob, "conv_bob_paris", title="Paris"))

    async def found(query: str, page: int = 1, page_size: int = 10) -> tuple[list[str], int]:
        async with uow.read() as tx:
            items, total = await tx.conversations.list(alice, page, page_size, title_contains=query)
        return [c.id for c in items], total

    assert await found("PARIS") == (["conv_t2", "conv_t1"], 2)  # newest first, only alice's
    assert await found("PARIS", page=2, page_size=1) == (["conv_t1"], 2)
    assert await found("0%") == (["conv_t3"], 1)  # % is a character, not a wildcard
    assert await found("e_c") == (["conv_t5"], 1)  # and so is _
    assert await found("巴黎") == (["conv_t7"], 1)


async def test_message_round_trip_with_every_field(uow: SqlUnitOfWork) -> None:
    user_id = await _user(uow)
    message = _message(
        "conv_1",
        "hello",
        role="assistant",
        parts=[Part(type="text", text="look"), Part(type="image", file_id="file_1", mime="image/png")],
        status=MessageStatus.STREAMING,
        reasoning="thinking...",
        tool_calls=[ToolCall(id="call_1", name="search", arguments='{"q": "x"}')],
        model="gpt-x",
        usage=TokenUsage(prompt_tokens=3, completion_tokens=4, estimated=True),
    )
    async with uow() as tx:
        await tx.conversations.add(_conversation(user_id, "conv_1"))
        saved = await tx.messages.add(message)
        second = await tx.messages.add(_message("conv_1", "next"))

    assert saved.id > 0 and second.id > saved.id
    async with uow() as tx:
        stored = await tx.messages.get(saved.id)
        assert await tx.messages.get(saved.id + 1000) is None
    assert stored == saved
    assert stored is not None and stored.created_at.tzinfo is UTC

    saved.status = MessageStatus.INTERRUPTED
    saved.parts = text_parts("partial answer")
    saved.error = "client gone"
    saved.usage = None
    saved.tool_calls = []
    saved.updated_at = T0 + timedelta(seconds=5)
    async with uow() as tx:
        await tx.messages.update(saved)
    async with uow() as tx:
        assert await tx.messages.get(saved.id) == saved


async def test_message_list_returns_the_newest_oldest_first(uow: SqlUnitOfWork) -> None:
    user_id = await _user(uow)
    async with uow() as tx:
        await tx.conversations.add(_conversation(user_id, "conv_1"))
        await tx.conversations.add(_conversation(user_id, "conv_2"))
        ids = [(await tx.messages.add(_message("conv_1", f"m{i}"))).id for i in range(6)]
        await tx.messages.add(_message("conv_2", "elsewhere"))
        await tx.messages.mark_deleted([ids[4]])
        await tx.messages.mark_deleted([])

    async with uow() as tx:
        latest_three = await tx.messages.list("conv_1", limit=3)
        everything = await tx.messages.list("conv_1", limit=100, include_deleted=True)

    assert [m.text for m in latest_three] == ["m2", "m3", "m5"]
    assert [m.text for m in everything] == [f"m{i}" for i in range(6)]
    assert [m.is_deleted for m in everything] == [False, False, False, False, True, False]


async def test_mark_conversation_deleted_counts_newly_hidden_messages(uow: SqlUnitOfWork) -> None:
    user_id = await _user(uow)
    async with uow() as tx:
        await tx.conversations.add(_conversation(user_id, "conv_1"))
        first = await tx.messages.add(_message("conv_1", "a"))
        await tx.messages.add(_message("conv_1", "b"))
        await tx.messages.add(_message("conv_1", "c"))
        await tx.messages.mark_deleted([first.id])

    async with uow() as tx:
        assert await tx.messages.mark_conversation_deleted("conv_1") == 2
        assert await tx.messages.mark_conversation_deleted("conv_1") == 0
        assert await tx.messages.list("conv_1") == []


async def test_deleting_a_conversation_removes_its_messages(uow: SqlUnitOfWork) -> None:
    user_id = await _user(uow)
    async with uow() as tx:
        await tx.conversations.add(_conversation(user_id, "conv_gone"))
        await tx.conversations.add(_conversation(user_id, "conv_kept"))
        gone = await tx.messages.add(_message("conv_gone", "bye"))
        kept = await tx.messages.add(_message("conv_kept", "stay"))

    async with uow() as tx:
        await tx.conversations.delete("conv_gone")

    async with uow() as tx:
        assert await tx.conversations.get("conv_gone") is None
        assert await tx.messages.get(gone.id) is None
        assert await tx.messages.list("conv_gone", include_deleted=True) == []
        assert await tx.messages.get(kept.id) == kept


async def test_the_database_cascades_too(uow: SqlUnitOfWork) -> None:
    """Foreign keys are enforced (SQLite needs PRAGMA foreign_keys=ON for that)."""
    from sqlalchemy import delete

    from switchboard.adapters.storage.tables import conversations

    user_id = await _user(uow)
    async with uow() as tx:
        await tx.conversations.add(_conversation(user_id, "conv_1"))
        message = await tx.messages.add(_message("conv_1", "hi"))

    async with uow._engine.begin() as connection:  # bypass the repo's explicit message delete
        await connection.execute(delete(conversations).where(conversations.c.id == "conv_1"))

    async with uow() as tx:
        assert await tx.messages.get(message.id) is None
