"""The IM platforms (`platforms:` in the config, and those the admin API adds): one builder per
`type`, each making the platform of one entry; the host keeps the entries, runs the enabled ones
under the supervisor and serves OneBot's reverse WebSocket for whichever reverse platforms run now.

    host = build_platform_host(services, limiter, leadership=..., routing_bus=...)  # services.platforms too
    await host.load(await services.platforms.startup_entries(settings.platforms))
    await host.start()

With several workers, each dialled connection runs in the worker holding its lease (`leadership`)
and proactive messages reach the worker where the bot is connected (`routing_bus`, the Redis push
bus; platforms/_shared/routing.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import APIRouter

from switchboard.adapters.tools.builtin.net_guard import GuardedResolver, NetGuard
from switchboard.core.domain.platform_settings import (
    OneBot11Platform,
    PlatformSettings,
    TelegramPlatform,
    masked,
)
from switchboard.core.domain.platforms import ImBot
from switchboard.core.ports.gateway import RateLimiter
from switchboard.core.ports.leases import Leases
from switchboard.core.ports.push import PushBus
from switchboard.core.services.admin.platforms import PlatformAdminService
from switchboard.core.services.bundle import Services
from switchboard.platforms._shared.chat import ChatOptions, PlatformChat
from switchboard.platforms._shared.directory import PlatformDirectory, bot_of
from switchboard.platforms._shared.images import AddressVetting, ImageLoader
from switchboard.platforms._shared.leadership import Leadership
from switchboard.platforms._shared.routing import BotRouting
from switchboard.platforms._shared.supervisor import Backoff, Platform, Supervisor
from switchboard.platforms._shared.triggers import TriggerPolicy
from switchboard.platforms.onebot11.forward import dial
from switchboard.platforms.onebot11.platform import OneBotOptions, OneBotPlatform
from switchboard.platforms.onebot11.routes import onebot_router
from switchboard.platforms.onebot11.sender import SendOptions
from switchboard.platforms.telegram import sender as telegram_sender
from switchboard.platforms.telegram.connection import BotApi
from switchboard.platforms.telegram.platform import TelegramBot, TelegramOptions

log = logging.getLogger("switchboard")

# whose ids a platform's users have: every OneBot bot is QQ, so one QQ user is one identity on all of them
IDENTITY_PLATFORM = {"onebot11": "qq", "telegram": "telegram"}

Builder = Callable[[PlatformSettings, "PlatformHost"], Platform]


@dataclass(slots=True)
class PlatformHost:
    """The platform registry (core.ports.platforms.PlatformRegistry) of this worker."""

    services: Services
    limiter: RateLimiter  # the senders' rates
    builders: dict[str, Builder]
    # SSRF vetting of image URLs in OneBot messages (None: tools.allow_private_network is on)
    vetting: AddressVetting | None = None
    supervisor: Supervisor = field(default_factory=lambda: Supervisor({}, {}))
    directory: PlatformDirectory | None = None  # the bots as every worker sees them
    leases: Leases | None = None  # closed with the host
    routers: list[APIRouter] = field(default_factory=list)
    _entries: dict[str, PlatformSettings] = field(default_factory=dict)

    def entries(self) -> dict[str, PlatformSettings]:
        return dict(self._entries)

    def states(self) -> list[ImBot]:
        bots = self.directory.bots() if self.directory is not None else [bot_of(s) for s in self.supervisor.states()]
        running = {b.platform_id: b for b in bots}
        return [running.get(p.id) or ImBot(p.id, p.type, "disabled", settings=masked(p))
                for p in self._entries.values()]

    async def load(self, entries: list[PlatformSettings]) -> None:
        for p in entries:
            await self.put(p)

    async def put(self, settings: PlatformSettings) -> ImBot:
        await self.supervisor.remove(settings.id)
        self._entries[settings.id] = settings
        if settings.enabled:
            platform = self.builders[settings.type](settings, self)
            platform.state.settings = masked(settings)
            self.supervisor.add(settings.id, platform,
                                Backoff(settings.reconnect_initial_seconds, settings.reconnect_max_seconds))
        return next(b for b in self.states() if b.platform_id == settings.id)

    async def remove(self, platform_id: str) -> None:
        await self.supervisor.remove(platform_id)
        self._entries.pop(platform_id, None)

    def reverse_onebot(self) -> list[OneBotPlatform]:
        return [p for p in self.supervisor.platforms.values() if isinstance(p, OneBotPlatform) and p.reverse]

    async def start(self) -> None:
        """Routing first, so the other workers hear of our bots as soon as they connect."""
        if self.directory is not None and self.directory.routing is not None:
            await self.directory.routing.start()
        await self.supervisor.start()

    async def close(self) -> None:
        await self.supervisor.close()  # releases the leases held, for another worker to take at once
        if self.directory is not None and self.directory.routing is not None:
            await self.directory.routing.close()
        if self.leases is not None:
            await self.leases.close()
        await self.limiter.close()


def build_platform_host(services: Services, limiter: RateLimiter, *, allow_private_network: bool = False,
                        builders: dict[str, Builder] | None = None, leadership: Leadership | None = None,
                        routing_bus: PushBus | None = None, worker_id: str = "") -> PlatformHost:
    """The host, with nothing running yet; `services.platforms` and the proactive messages' way
    into real chats are wired to it. `allow_private_network` (tools.allow_private_network, the
    switch for image URLs everywhere) lets OneBot images come from private and loopback addresses.
    `leadership` runs each dialled connection in one worker at a time; `routing_bus` (several
    workers) carries proactive messages to the worker where the bot is connected."""
    guard = NetGuard()
    vetting = None if allow_private_network else AddressVetting(guard.check_host, lambda: GuardedResolver(guard))
    supervisor = Supervisor({}, {}, leadership)
    directory = PlatformDirectory(supervisor, services.files)
    if routing_bus is not None:
        # bots are announced as often as leases are renewed: a takeover shows within about that long
        every = leadership.every if leadership is not None else 5.0
        directory.routing = BotRouting(routing_bus, worker_id, directory.local_bots, directory.deliver_here,
                                       announce_every=every)
    host = PlatformHost(services, limiter, builders or BUILDERS, vetting, supervisor, directory,
                        leadership.leases if leadership is not None else None)
    host.routers.append(onebot_router(host.reverse_onebot))
    services.proactive.im = directory
    services.platforms = PlatformAdminService(services.uow, host)
    return host


def chat_for(p: PlatformSettings, host: PlatformHost, images: ImageLoader | None = None) -> PlatformChat:
    triggers = TriggerPolicy(
        wake_words=tuple(p.wake_words), answer_mentions=p.answer_mentions, answer_replies=p.answer_replies,
        allow_groups=frozenset(p.allow_groups) if p.allow_groups is not None else None,
        deny_groups=frozenset(p.deny_groups),
    )
    return PlatformChat(host.services, host.limiter, ChatOptions(
        identity_platform=IDENTITY_PLATFORM[p.type], triggers=triggers, allow_new_users=p.allow_new_users,
        group_conversation=p.group_conversation, messages_per_minute=p.messages_per_minute,
        max_input_chars=p.max_input_chars,
    ), images)


def build_onebot11(p: PlatformSettings, host: PlatformHost) -> Platform:
    assert isinstance(p, OneBot11Platform)
    images = ImageLoader(host.services.files.max_bytes, vetting=host.vetting)  # URLs anyone may write
    return OneBotPlatform(OneBotOptions(
        p.id, p.url, p.access_token, p.action_timeout_seconds, p.accept_friend_requests,
        SendOptions(max_chars=p.max_message_chars, forward_after=p.forward_after_messages),
    ), chat_for(p, host, images), dial if p.mode == "forward" else None)


def build_telegram(p: PlatformSettings, host: PlatformHost) -> Platform:
    """Its images are downloaded from its own api_base (getFile), which the administrator chose: not vetted."""
    assert isinstance(p, TelegramPlatform)
    send = telegram_sender.SendOptions(max_chars=p.max_message_chars, edit_interval=p.edit_interval_seconds,
                                       markdown=p.markdown)
    return TelegramBot(TelegramOptions(p.id, p.poll_timeout_seconds, send), chat_for(p, host),
                       BotApi(p.api_base, p.token))


BUILDERS: dict[str, Builder] = {"onebot11": build_onebot11, "telegram": build_telegram}
