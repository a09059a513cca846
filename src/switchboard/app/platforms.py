"""The IM platforms of the config (`platforms:`), built and registered here: one builder per `type`,
each returning the platform and the routes it serves (OneBot's reverse WebSocket)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import APIRouter

from switchboard.config.platforms import OneBot11Platform, PlatformSettings, TelegramPlatform
from switchboard.config.settings import Settings
from switchboard.core.ports.gateway import RateLimiter
from switchboard.core.services.bundle import Services
from switchboard.platforms._shared.chat import ChatOptions, PlatformChat
from switchboard.platforms._shared.directory import PlatformDirectory
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


@dataclass(slots=True)
class PlatformHost:
    supervisor: Supervisor
    limiter: RateLimiter  # the senders' rates
    routers: list[APIRouter] = field(default_factory=list)

    async def close(self) -> None:
        await self.supervisor.close()
        await self.limiter.close()


Builder = Callable[[list[PlatformSettings], Services, RateLimiter, "PlatformHost"], None]


def chat_for(p: PlatformSettings, services: Services, limiter: RateLimiter) -> PlatformChat:
    triggers = TriggerPolicy(
        wake_words=tuple(p.wake_words), answer_mentions=p.answer_mentions, answer_replies=p.answer_replies,
        allow_groups=frozenset(p.allow_groups) if p.allow_groups is not None else None,
        deny_groups=frozenset(p.deny_groups),
    )
    return PlatformChat(services, limiter, ChatOptions(
        identity_platform=IDENTITY_PLATFORM[p.type], triggers=triggers, allow_new_users=p.allow_new_users,
        group_conversation=p.group_conversation, messages_per_minute=p.messages_per_minute,
        max_input_chars=p.max_input_chars,
    ))


def build_platforms(settings: Settings, services: Services, limiter: RateLimiter,
                    builders: dict[str, Builder] | None = None) -> PlatformHost:
    """Each enabled platform, grouped by type and handed to that type's builder."""
    host = PlatformHost(Supervisor({}, {}), limiter)
    enabled = [p for p in settings.platforms if p.enabled]
    for kind, build in (builders or BUILDERS).items():
        of_kind = [p for p in enabled if p.type == kind]
        if of_kind:
            build(of_kind, services, limiter, host)
    services.proactive.im = PlatformDirectory(host.supervisor, services.files)
    for p in enabled:
        if p.id not in host.supervisor.platforms:
            log.warning("platform %r: type %s is not available in this build; skipped", p.id, p.type)
    return host


SECRETS = ("access_token", "token")


def masked(p: PlatformSettings) -> dict[str, object]:
    """The platform's settings as administrators see them: secrets only say whether they are set."""
    return {k: ("***" if v else v) if k in SECRETS else v for k, v in p.model_dump(mode="json").items()}


def add_platform(host: PlatformHost, p: PlatformSettings, platform: Platform) -> None:
    platform.state.settings = masked(p)
    host.supervisor.platforms[p.id] = platform
    host.supervisor.backoffs[p.id] = Backoff(p.reconnect_initial_seconds, p.reconnect_max_seconds)


def build_onebot11(entries: list[PlatformSettings], services: Services, limiter: RateLimiter,
                   host: PlatformHost) -> None:
    reverse: list[OneBotPlatform] = []
    for p in entries:
        assert isinstance(p, OneBot11Platform)
        platform = OneBotPlatform(OneBotOptions(
            p.id, p.url, p.access_token, p.action_timeout_seconds, p.accept_friend_requests,
            SendOptions(max_chars=p.max_message_chars, forward_after=p.forward_after_messages),
        ), chat_for(p, services, limiter), dial if p.mode == "forward" else None)
        add_platform(host, p, platform)
        if p.mode == "reverse":
            reverse.append(platform)
    if reverse:
        host.routers.append(onebot_router(reverse))


def build_telegram(entries: list[PlatformSettings], services: Services, limiter: RateLimiter,
                   host: PlatformHost) -> None:
    for p in entries:
        assert isinstance(p, TelegramPlatform)
        send = telegram_sender.SendOptions(max_chars=p.max_message_chars, edit_interval=p.edit_interval_seconds,
                                           markdown=p.markdown)
        options = TelegramOptions(p.id, p.poll_timeout_seconds, send)
        add_platform(host, p, TelegramBot(options, chat_for(p, services, limiter), BotApi(p.api_base, p.token)))


BUILDERS: dict[str, Builder] = {"onebot11": build_onebot11, "telegram": build_telegram}
