"""Read-only links to what a user shared (Mio-Chat's "share this bot/chat").

A share is a snapshot: what the owner shared, stored as it was at that moment (for Mio-Chat, the
contactor the browser holds, messages included, since the browser keeps the history of its LLM
contacts), so later changes to a conversation do not leak into links already handed out. Only a
signed-in user makes one; anyone holding the link reads it. The link's id is 30 random decimal
digits (~100 bits, so it cannot be guessed; digits because Mio-Chat's "add by share code" box
accepts nothing else). Only the owner revokes a link; a revoked link is simply NotFound."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from switchboard.core.domain.conversations import Message
from switchboard.core.domain.errors import InvalidInput, NotFound
from switchboard.core.domain.platforms import Share
from switchboard.core.domain.users import Principal
from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.ports.system import Clock
from switchboard.core.services.conversations.history import owned_conversation

MAX_TITLE = 200
MAX_SHARED_MESSAGES = 500
ID_DIGITS = 30
GONE = "this share link does not exist or was revoked"


def new_share_id() -> str:
    return str(secrets.randbelow(10**ID_DIGITS)).zfill(ID_DIGITS)


@dataclass(frozen=True, slots=True)
class SharedView:
    """What a link shows: its snapshot; for links made before snapshots existed (snapshot None),
    the visible user/assistant messages of the conversation they point at."""

    share: Share
    messages: list[Message] = field(default_factory=list)


class ShareService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def create(self, principal: Principal, snapshot: dict[str, Any], title: str | None = None,
                     conversation_id: str | None = None) -> Share:
        """A new link to `snapshot`; `conversation_id`, when it was made from a stored
        conversation, must be one of the caller's (NotFound otherwise, as for a missing one)."""
        async with self._uow() as tx:
            if conversation_id is not None:
                conversation = await owned_conversation(tx, principal, conversation_id)
                title = title or conversation.title
            share = Share(
                id=new_share_id(), user_id=principal.user_id, conversation_id=conversation_id,
                created_at=self._clock.now(), title=(title or "")[:MAX_TITLE] or None, snapshot=snapshot,
            )
            await tx.shares.add(share)
        return share

    async def view(self, token: str) -> SharedView:
        """The public, read-only view behind a link (no principal: the token is the credential)."""
        if not token or len(token) > 200:
            raise NotFound(GONE)
        async with self._uow.read() as tx:
            share = await tx.shares.get(token)
            if share is None or share.revoked_at is not None:
                raise NotFound(GONE)
            if share.snapshot is not None:
                return SharedView(share)
            conversation = await tx.conversations.get(share.conversation_id) if share.conversation_id else None
            if conversation is None or conversation.user_id != share.user_id:
                raise NotFound(GONE)
            messages = await tx.messages.list(conversation.id, MAX_SHARED_MESSAGES)
        visible = [m for m in messages if m.role in ("user", "assistant") and not m.is_deleted and m.text.strip()]
        return SharedView(share, visible)

    async def revoke(self, principal: Principal, token: str) -> Share:
        if not token:
            raise InvalidInput("the share token is missing", param="token")
        async with self._uow() as tx:
            share = await tx.shares.get(token)
            if share is None or share.user_id != principal.user_id:
                raise NotFound(GONE)
            if share.revoked_at is None:
                share.revoked_at = self._clock.now()
                await tx.shares.update(share)
        return share
