"""Proactive messages: the bot speaks first, into a session of a platform (AstrBot's `im/message`).

The message is appended to the session's conversation as a completed assistant message (the
conversation is created when the session is new), then published on the push bus channel
`<platform>:<user_id>`, where the face that owns that platform forwards it to its connected clients
(the AstrBot WebSocket for `webchat`, the Mio-Chat socket for `miochat`). A platform id of a
running IM bot (`qq`, `tg`) sends into the real chat instead — `FriendMessage:<user>` or
`GroupMessage:<group>` — and is stored only once the platform accepted it; a refusal is raised."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchboard.core.domain.conversations import Conversation, ConversationSettings, Message, MessageStatus, Part
from switchboard.core.domain.errors import InvalidInput, NotFound
from switchboard.core.domain.ids import new_id
from switchboard.core.domain.platforms import ImBot
from switchboard.core.domain.users import Principal
from switchboard.core.ports.push import ImPlatforms, PushBus
from switchboard.core.ports.storage import Tx, UnitOfWork
from switchboard.core.ports.system import Clock

KNOWN_PLATFORMS = ("webchat", "miochat")
MAX_SESSION_ID = 200


@dataclass(frozen=True, slots=True)
class Delivery:
    conversation_id: str
    message: Message
    delivered: int  # how many subscribers received the push (0: nobody connected; it is stored anyway)


def push_channel(platform: str, user_id: int) -> str:
    return f"{platform}:{user_id}"


class ProactiveService:
    def __init__(self, uow: UnitOfWork, clock: Clock, push: PushBus,
                 platforms: tuple[str, ...] = KNOWN_PLATFORMS) -> None:
        self._uow = uow
        self._clock = clock
        self._push = push
        self._own = platforms
        self.im: ImPlatforms | None = None  # set by the composition root once the IM bots are built

    @property
    def platforms(self) -> tuple[str, ...]:
        """Where a proactive message can go now: the faces' own sessions and every running IM bot."""
        return self._own + tuple(b.platform_id for b in self.bots() if b.running)

    def bots(self) -> list[ImBot]:
        return self.im.bots() if self.im is not None else []

    async def send(self, principal: Principal, platform: str, session_id: str, parts: list[Part],
                   message_type: str = "FriendMessage") -> Delivery:
        if platform not in self.platforms:
            raise NotFound(f"Bot not found or not running for platform: {platform}")
        session_id = session_id.strip()
        if not session_id or len(session_id) > MAX_SESSION_ID:
            raise InvalidInput(f"session id must be 1-{MAX_SESSION_ID} characters", param="umo")
        if not any((p.text or "").strip() or p.type != "text" for p in parts):
            raise InvalidInput("Message is empty", param="message")
        async with self._uow.read() as tx:
            await _check_files(tx, principal, parts)
        if platform not in self._own and self.im is not None:
            await self.im.deliver(platform, "group" if message_type == "GroupMessage" else "private", session_id,
                                  parts, principal.user_id)
            session_id = f"{message_type}:{session_id}"
        now = self._clock.now()
        async with self._uow() as tx:
            conversation = await self._session(tx, principal, platform, session_id)
            message = await tx.messages.add(Message(
                id=0, conversation_id=conversation.id, role="assistant", parts=parts,
                status=MessageStatus.COMPLETED, created_at=now, updated_at=now,
            ))
            await tx.conversations.touch(conversation.id, now)
        payload: dict[str, Any] = {
            "session_id": session_id, "message_id": message.id, "conversation_id": conversation.id,
            "text": message.text, "parts": [p.model_dump(exclude_none=True) for p in parts],
            "created_at": now.isoformat(),
        }
        delivered = await self._push.publish(push_channel(platform, principal.user_id), payload)
        return Delivery(conversation.id, message, delivered)

    async def _session(self, tx: Tx, principal: Principal, platform: str, session_id: str) -> Conversation:
        found, _ = await tx.conversations.list(principal.user_id, 1, 1, origin=platform, external_key=session_id)
        if found:
            return found[0]
        now = self._clock.now()
        conversation = Conversation(
            id=new_id("conv"), user_id=principal.user_id, title="New conversation",
            settings=ConversationSettings(), created_at=now, updated_at=now, origin=platform,
            external_key=session_id,
        )
        await tx.conversations.add(conversation)
        return conversation


async def _check_files(tx: Tx, principal: Principal, parts: list[Part]) -> None:
    for part in parts:
        if part.file_id is None:
            continue
        stored = await tx.files.get(part.file_id)
        if stored is None or stored.user_id != principal.user_id:
            raise NotFound(f"attachment not found: {part.file_id}")
