"""Messages across conversations (MuseBot records): paging, filters, and each question's answers."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.core.domain.conversations import (
    Conversation,
    ConversationSettings,
    Message,
    MessageStatus,
    TokenUsage,
    text_parts,
)
from switchboard.core.domain.users import Role

T0 = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)


def _conversation(conversation_id: str, user_id: int, origin: str, key: str | None) -> Conversation:
    return Conversation(
        id=conversation_id, user_id=user_id, title="t", settings=ConversationSettings(), created_at=T0,
        updated_at=T0, origin=origin, external_key=key,
    )


def _message(conversation_id: str, role: str, text: str, *, deleted: bool = False, tokens: int = 0) -> Message:
    return Message(
        id=0, conversation_id=conversation_id, role=role, parts=text_parts(text),  # type: ignore[arg-type]
        status=MessageStatus.COMPLETED, created_at=T0, updated_at=T0, is_deleted=deleted,
        usage=TokenUsage(prompt_tokens=tokens) if tokens else None,
    )


async def _seed(uow: SqlUnitOfWork) -> tuple[int, int, dict[str, int]]:
    ids: dict[str, int] = {}
    async with uow() as tx:
        alice = (await tx.users.add("alice", None, None, Role.USER)).id
        bob = (await tx.users.add("bob", None, None, Role.USER)).id
        await tx.conversations.add(_conversation("c_a", alice, "musebot", "42"))
        await tx.conversations.add(_conversation("c_log", alice, "musebot-log", "42"))
        await tx.conversations.add(_conversation("c_b", bob, "musebot", "7"))
        await tx.conversations.add(_conversation("c_native", alice, "native", None))
        rows = [
            ("q1", "c_a", "user", False), ("a1-old", "c_a", "assistant", True), ("a1", "c_a", "assistant", False),
            ("q2", "c_a", "user", False), ("a2", "c_a", "assistant", False),
            ("q3", "c_log", "user", True), ("a3", "c_log", "assistant", True),
            ("qb", "c_b", "user", False), ("ab", "c_b", "assistant", False),
            ("qn", "c_native", "user", False),
        ]
        for name, conversation_id, role, deleted in rows:
            ids[name] = (await tx.messages.add(_message(conversation_id, role, name, deleted=deleted, tokens=5))).id
    return alice, bob, ids


async def test_list_across_filters_and_pages(uow: SqlUnitOfWork) -> None:
    alice, _, ids = await _seed(uow)
    async with uow() as tx:
        everything, total = await tx.messages.list_across(1, 10, origins=("musebot", "musebot-log"), role="user")
        assert total == 4 and [m.text for m in everything] == ["qb", "q3", "q2", "q1"]
        mine, total = await tx.messages.list_across(1, 2, user_id=alice, origins=("musebot", "musebot-log"),
                                                    role="user")
        assert total == 3 and [m.text for m in mine] == ["q3", "q2"]
        second, _ = await tx.messages.list_across(2, 2, user_id=alice, origins=("musebot", "musebot-log"),
                                                  role="user")
        assert [m.text for m in second] == ["q1"]
        deleted, total = await tx.messages.list_across(1, 10, origins=("musebot-log",), deleted=True, role="user")
        assert total == 1 and deleted[0].id == ids["q3"] and deleted[0].is_deleted
        _kept, total = await tx.messages.list_across(1, 10, external_key="42", deleted=False, role="user")
        assert total == 2
        bobs, total = await tx.messages.list_across(1, 10, external_key="7")
        assert total == 2 and {m.text for m in bobs} == {"qb", "ab"}


async def test_replies_group_answers_under_their_question(uow: SqlUnitOfWork) -> None:
    _, _, ids = await _seed(uow)
    async with uow() as tx:
        found = await tx.messages.replies([ids["q1"], ids["q2"], ids["q3"], ids["qb"], ids["qn"]])
        assert [m.text for m in found[ids["q1"]]] == ["a1-old", "a1"]
        assert found[ids["q1"]][0].is_deleted and not found[ids["q1"]][1].is_deleted
        assert [m.text for m in found[ids["q2"]]] == ["a2"]
        assert [m.text for m in found[ids["q3"]]] == ["a3"]
        assert [m.text for m in found[ids["qb"]]] == ["ab"]
        assert ids["qn"] not in found
        assert await tx.messages.replies([]) == {}
