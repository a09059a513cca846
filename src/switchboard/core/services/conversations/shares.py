"""Read-only links to one conversation (Mio-Chat's "share this bot/chat").

The link's token is the share's id: 32 random bytes, so it cannot be guessed. Only the owner of a
conversation may share it or revoke the link; anyone holding a live link may read it. A revoked
link, or one whose conversation is gone, is simply NotFound."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.core.domain.conversations import Conversation, Message
from switchboard.core.domain.errors import InvalidInput, NotFound
from switchboard.core.domain.ids import new_secret
from switchboard.core.domain.platforms import Share
from switchboard.core.domain.users import Principal
from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.ports.system import Clock
from switchboard.core.services.conversations.history import owned_conversation

MAX_TITLE = 200
MAX_SHARED_MESSAGES = 500


@dataclass(frozen=True, slots=True)
class SharedView:
    """What a share link shows: the conversation's title and its visible user/assistant messages."""

    share: Share
    conversation: Conversation
    messages: list[Message]


class ShareService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def create(self, principal: Principal, conversation_id: str, title: str | None = None) -> Share:
        """A link to one of the caller's conversations; an existing live link is handed out again."""
        async with self._uow() as tx:
            conversation = await owned_conversation(tx, principal, conversation_id)
            for share in await tx.shares.for_conversation(conversation.id):
                if share.revoked_at is None and share.user_id == principal.user_id:
                    return share
            share = Share(
                id=new_secret(32), user_id=principal.user_id, conversation_id=conversation.id,
                created_at=self._clock.now(), title=(title or conversation.title)[:MAX_TITLE],
            )
            await tx.shares.add(share)
        return share

    async def view(self, token: str) -> SharedView:
        """The public, read-only view behind a link (no principal: the token is the credential)."""
        if not token or len(token) > 200:
            raise NotFound("this share link does not exist or was revoked")
        async with self._uow() as tx:
            share = await tx.shares.get(token)
            if share is None or share.revoked_at is not None:
                raise NotFound("this share link does not exist or was revoked")
            conversation = await tx.conversations.get(share.conversation_id)
            if conversation is None or conversation.user_id != share.user_id:
                raise NotFound("this share link does not exist or was revoked")
            messages = await tx.messages.list(conversation.id, MAX_SHARED_MESSAGES)
        visible = [m for m in messages if m.role in ("user", "assistant") and not m.is_deleted and m.text.strip()]
        return SharedView(share, conversation, visible)

    async def revoke(self, principal: Principal, token: str) -> Share:
        if not token:
            raise InvalidInput("the share token is missing", param="token")
        async with self._uow() as tx:
            share = await tx.shares.get(token)
            if share is None or share.user_id != principal.user_id:
                raise NotFound("this share link does not exist or was revoked")
            if share.revoked_at is None:
                share.revoked_at = self._clock.now()
                await tx.shares.update(share)
        return share
