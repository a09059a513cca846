"""ConversationService: owners only, anyone else gets NotFound."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from switchboard.core.domain.conversations import ConversationSettings, Message, MessageStatus, text_parts
from switchboard.core.domain.errors import InvalidInput, NotFound
from switchboard.core.services.conversations.history import ConversationPatch, ConversationService, NewConversation
from tests.support.fake_storage import InMemoryUnitOfWork
from tests.support.fakes import T0, FixedClock
from tests.unit.core.conftest import add_user


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


async def test_conversations_are_created_listed_newest_first_paged_and_filtered(uow: InMemoryUnitOfWork,
                                                                                 clock: FixedClock) -> None:
    service = ConversationService(uow, clock)
    alice, bob = add_user(uow, "alice"), add_user(uow, "bob")
    made = []
    for n in range(5):
        clock.advance(1)
        made.append(await service.create(alice, NewConversation(title=f"c{n}", project_id="p" if n % 2 else None)))
    await service.create(bob, NewConversation(title="bob's"))

    page, total = await service.list(alice, 2, 2)
    in_project, project_total = await service.list(alice, project_id="p")

    assert total == 5 and [c.title for c in page] == ["c2", "c1"]
    assert project_total == 2 and [c.title for c in in_project] == ["c3", "c1"]
    assert (await service.get(alice, made[0].id)).title == "c0"
    for page_number, size in [(0, 20), (1, 0), (1, 101)]:
        with pytest.raises(InvalidInput):
            await service.list(alice, page_number, size)


async def test_update_merges_settings_and_keeps_the_rest(uow: InMemoryUnitOfWork, clock: FixedClock) -> None:
    service = ConversationService(uow, clock)
    alice = add_user(uow, "alice")
    created = await service.create(alice, NewConversation(settings=ConversationSettings(model="m", temperature=1)))
    clock.advance(5)

    updated = await service.update(alice, created.id, ConversationPatch(title="renamed", settings={"temperature": 0.2}))

    assert (updated.title, updated.settings.model, updated.settings.temperature) == ("renamed", "m", 0.2)
    assert updated.updated_at == T0 + timedelta(seconds=5)
    assert uow.store.conversations[created.id].title == "renamed"


async def test_every_conversation_and_message_operation_of_another_user_is_not_found(
    uow: InMemoryUnitOfWork, clock: FixedClock
) -> None:
    service = ConversationService(uow, clock)
    alice, bob = add_user(uow, "alice"), add_user(uow, "bob")
    conversation = await service.create(alice, NewConversation(title="private"))
    message = await _store_message(uow, conversation.id, "secret")

    attempts: list[Callable[[], Awaitable[Any]]] = [
        lambda: service.get(bob, conversation.id),
        lambda: service.update(bob, conversation.id, ConversationPatch(title="mine now")),
        lambda: service.delete(bob, conversation.id),
        lambda: service.messages(bob, conversation.id),
        lambda: service.message(bob, message.id),
        lambda: service.delete_message(bob, message.id),
        lambda: service.clear(bob, conversation.id),
    ]
    for attempt in attempts:
        with pytest.raises(NotFound):
            await attempt()

    assert uow.store.conversations[conversation.id].title == "private"
    assert not uow.store.messages[message.id].is_deleted
    assert (await service.list(bob))[1] == 0


async def test_messages_are_listed_soft_deleted_and_then_gone(uow: InMemoryUnitOfWork, clock: FixedClock) -> None:
    service = ConversationService(uow, clock)
    alice = add_user(uow, "alice")
    conversation = await service.create(alice, NewConversation())
    first = await _store_message(uow, conversation.id, "one")
    await _store_message(uow, conversation.id, "two")

    await service.delete_message(alice, first.id)

    assert [m.text for m in await service.messages(alice, conversation.id)] == ["two"]
    assert uow.store.messages[first.id].is_deleted  # kept, not lost
    for attempt in (service.delete_message(alice, first.id), service.message(alice, first.id)):
        with pytest.raises(NotFound):
            await attempt
    with pytest.raises(InvalidInput):
        await service.messages(alice, conversation.id, limit=0)
    assert await service.clear(alice, conversation.id) == 1
    await service.delete(alice, conversation.id)
    assert uow.store.messages == {} and uow.store.conversations == {}


async def _store_message(uow: InMemoryUnitOfWork, conversation_id: str, text: str) -> Message:
    async with uow() as tx:
        return await tx.messages.add(Message(
            id=0, conversation_id=conversation_id, role="user", parts=text_parts(text),
            status=MessageStatus.COMPLETED, created_at=T0, updated_at=T0,
        ))
