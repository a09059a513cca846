"""The running IM platforms as the engine sees them (core.ports.push.ImPlatforms): their state,
and proactive messages (AstrBot's im/message, Mio-Chat's onebot frames) into a real chat.

With several workers (`routing`), a platform whose bot is connected in another worker is listed as
that worker reports it, and a message for it is sent there (routing.py)."""

from __future__ import annotations

from typing import Literal

from switchboard.core.domain.conversations import Part
from switchboard.core.domain.errors import NotFound
from switchboard.core.domain.platforms import ImBot
from switchboard.core.services.media.files import FileService
from switchboard.platforms._shared.messages import Image, Reply, Target
from switchboard.platforms._shared.routing import BotRouting
from switchboard.platforms._shared.supervisor import PlatformState, Supervisor


def bot_of(state: PlatformState) -> ImBot:
    return ImBot(state.id, state.type, state.status, state.detail, {k: b.online for k, b in state.bots.items()},
                 state.settings)


class PlatformDirectory:
    def __init__(self, supervisor: Supervisor, files: FileService) -> None:
        self._supervisor = supervisor
        self._files = files
        self.routing: BotRouting | None = None  # set with several workers (a Redis push bus)

    def local_bots(self) -> list[ImBot]:
        return [bot_of(s) for s in self._supervisor.states()]

    def bots(self) -> list[ImBot]:
        return [self._seen(bot) for bot in self.local_bots()]

    def _seen(self, local: ImBot) -> ImBot:
        """A bot not connected here, as the workers where it is connected report it."""
        remote = self.routing.elsewhere(local.platform_id) if self.routing is not None and not local.running else []
        if not remote:
            return local
        accounts = {k: v for a in reversed(remote) for k, v in a.bot.accounts.items()}
        return ImBot(local.platform_id, local.type, remote[0].bot.status, remote[0].bot.detail, accounts,
                     local.settings)

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
        target = Target(chat, chat_id)
        if (self.routing is not None and not bot_of(platform.state).running
                and await self.routing.deliver_elsewhere(platform_id, target, reply)):
            return
        await platform.deliver(target, reply)  # connected here, or nowhere else (then it says why it cannot)

    async def deliver_here(self, platform_id: str, target: Target, reply: Reply) -> None:
        """Another worker's request: its bot is connected here."""
        platform = self._supervisor.platforms.get(platform_id)
        if platform is None:
            raise NotFound(f"Bot not found or not running for platform: {platform_id}")
        await platform.deliver(target, reply)
