"""Conversations and their messages, with ownership enforced here (never in handlers):
another user's conversation or message is simply NotFound."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field

from switchboard.core.domain.conversations import Conversation, ConversationSettings, Message
from switchboard.core.domain.errors import InvalidInput, NotFound
from switchboard.core.domain.ids import new_id
from switchboard.core.domain.users import Principal
from switchboard.core.ports.storage import Tx, UnitOfWork
from switchboard.core.ports.system import Clock

MAX_PAGE_SIZE = 100
MAX_PAGE = 1_000_000_000  # (page - 1) * page_size stays far inside the databases' 64-bit integers


@dataclass(slots=True)
class NewConversation:
    title: str = "New conversation"
    settings: ConversationSettings = field(default_factory=ConversationSettings)
    project_id: str | None = None
    origin: str = "native"
    external_key: str | None = None
    profile_id: str | None = None
    meta: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class ConversationPatch:
    title: str | None = None
    project_id: str | None = None
    settings: dict[str, object] = field(default_factory=dict)  # fields of ConversationSettings to change
    profile_id: str | None = None
    meta: dict[str, object] | None = None


def check_page(page: int, page_size: int) -> None:
    if not 1 <= page <= MAX_PAGE:
        raise InvalidInput(f"page must be between 1 and {MAX_PAGE}", param="page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page_size must be between 1 and {MAX_PAGE_SIZE}", param="page_size")


async def owned_conversation(tx: Tx, principal: Principal, conversation_id: str) -> Conversation:
    conversation = await tx.conversations.get(conversation_id)
    if conversation is None or conversation.user_id != principal.user_id:
        raise NotFound("conversation not found")
    return conversation


class ConversationService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def create(self, principal: Principal, new: NewConversation) -> Conversation:
        now = self._clock.now()
        conversation = Conversation(
            id=new_id("conv"), user_id=principal.user_id, title=(new.title or "New conversation")[:200],
            settings=new.settings, created_at=now, updated_at=now, project_id=new.project_id,
            origin=new.origin, external_key=new.external_key, profile_id=new.profile_id, meta=dict(new.meta),
        )
        async with self._uow() as tx:
            # checked here so that every face gets it: a conversation never points at a missing profile
            if new.profile_id is not None and await tx.profiles.get(new.profile_id) is None:
                raise NotFound(f"no chat profile with id '{new.profile_id}'")
            await tx.conversations.add(conversation)
        return conversation

    async def get(self, principal: Principal, conversation_id: str) -> Conversation:
        async with self._uow.read() as tx:
            return await owned_conversation(tx, principal, conversation_id)

    async def find(self, principal: Principal, origin: str, external_key: str) -> Conversation | None:
        """The newest conversation a face started under its own key (a contact, a username ...)."""
        async with self._uow.read() as tx:
            found, _ = await tx.conversations.list(
                principal.user_id, 1, 1, origin=origin, external_key=external_key
            )
        return found[0] if found else None

    async def list(
        self, principal: Principal, page: int = 1, page_size: int = 20, *,
        project_id: str | None = None, origin: str | None = None, external_key: str | None = None,
        title_contains: str | None = None,
    ) -> tuple[list[Conversation], int]:
        check_page(page, page_size)
        async with self._uow.read() as tx:
            return await tx.conversations.list(
                principal.user_id, page, page_size, project_id=project_id, origin=origin,
                external_key=external_key, title_contains=title_contains,
            )

    async def update(self, principal: Principal, conversation_id: str, patch: ConversationPatch) -> Conversation:
        async with self._uow() as tx:
            conversation = await owned_conversation(tx, principal, conversation_id)
            if patch.title is not None:
                conversation.title = patch.title[:200]
            if patch.project_id is not None:
                conversation.project_id = patch.project_id
            if patch.profile_id is not None:
                conversation.profile_id = patch.profile_id or None
            if patch.meta is not None:
                conversation.meta = {**conversation.meta, **patch.meta}
            if patch.settings:
                merged = {**conversation.settings.model_dump(), **patch.settings}
                conversation.settings = ConversationSettings.model_validate(merged)
            conversation.updated_at = self._clock.now()
            await tx.conversations.update(conversation)
        return conversation

    async def delete(self, principal: Principal, conversation_id: str) -> None:
        async with self._uow() as tx:
            await owned_conversation(tx, principal, conversation_id)
            await tx.conversations.delete(conversation_id)

    async def messages(
        self, principal: Principal, conversation_id: str, limit: int = 100
    ) -> builtins.list[Message]:
        if not 1 <= limit <= 1000:
            raise InvalidInput("limit must be between 1 and 1000", param="limit")
        async with self._uow.read() as tx:
            await owned_conversation(tx, principal, conversation_id)
            return await tx.messages.list(conversation_id, limit)

    async def message(self, principal: Principal, message_id: int) -> Message:
        async with self._uow.read() as tx:
            message = await tx.messages.get(message_id)
            if message is None or message.is_deleted:
                raise NotFound("message not found")
            await owned_conversation(tx, principal, message.conversation_id)
            return message

    async def delete_message(self, principal: Principal, message_id: int) -> None:
        """Marks the message deleted: it leaves lists and the model's context, but is not lost."""
        async with self._uow() as tx:
            message = await tx.messages.get(message_id)
            if message is None or message.is_deleted:
                raise NotFound("message not found")
            await owned_conversation(tx, principal, message.conversation_id)
            await tx.messages.mark_deleted([message_id])

    async def clear(self, principal: Principal, conversation_id: str) -> int:
        async with self._uow() as tx:
            await owned_conversation(tx, principal, conversation_id)
            return await tx.messages.mark_conversation_deleted(conversation_id)
