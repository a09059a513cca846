"""The running IM platforms as the engine sees them (core.ports.push.ImPlatforms): their state,
and proactive messages (AstrBot's im/message, Mio-Chat's onebot frames) into a real chat."""

from __future__ import annotations

from typing import Literal

from switchboard.core.domain.conversations import Part
from switchboard.core.domain.errors import NotFound
from switchboard.core.domain.platforms import ImBot
from switchboard.core.services.media.files import FileService
from switchboard.platforms._shared.messages import Image, Reply, Target
from switchboard.platforms._shared.supervisor import PlatformState, Supervisor


def bot_of(state: PlatformState) -> ImBot:
    return ImBot(state.id, state.type, state.status, state.detail, {k: b.online for k, b in state.bots.items()},
                 state.settings)


class PlatformDirectory:
    def __init__(self, supervisor: Supervisor, files: FileService) -> None:
        self._supervisor = supervisor
        self._files = files

    def bots(self) -> list[ImBot]:
        return [bot_of(s) for s in self._supervisor.states()]

    async def deliver(self, platform_id: str, chat: Literal["private", "group"], chat_id: str, parts: list[Part],
                      owner_id: int) -> None:
        platform = self._supervisor.platforms.get(platform_id)
        if platform is None:
            raise NotFound(f"Bot not found or not running for platform: {platform_id}")
        reply = Reply(text="\n".join(p.text for p in parts if p.type == "text" and p.text).strip())
        for part in parts:
            if part.type == "image" and part.file_id:
                stored, data = await self._files.read(owner_id, part.file_id)
                reply.images.append(Image(data, stored.mime))
        await platform.deliver(Target(chat, chat_id), reply)
