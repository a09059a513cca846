"""What a worker keeps a copy of, kept in step with the other workers (several workers or hosts on one
Redis): the feed carries each change (adapters/push/changes.py); here each kind is given to the service
that applies it. One worker without Redis has nobody to tell: no feed."""

from __future__ import annotations

from typing import Any

from switchboard.adapters.push.changes import ChangeFeed
from switchboard.adapters.push.redis_bus import RedisPushBus
from switchboard.config.settings import Settings
from switchboard.core.services.accounts.principal_cache import PrincipalCache
from switchboard.core.services.bundle import Services


def build_change_feed(settings: Settings, services: Services, principals: PrincipalCache,
                      worker_id: str) -> ChangeFeed | None:
    if not isinstance(services.push, RedisPushBus):
        return None
    feed = ChangeFeed(services.push, worker_id)

    async def forget_principals(change: dict[str, Any]) -> None:
        principals.forget(user_id=change.get("user_id"), key_id=change.get("key_id"),
                          token_id=change.get("token_id"), announce=False)

    async def reload_runtime(_: dict[str, Any]) -> None:
        await services.runtime_config.load()

    async def follow_mcp(_: dict[str, Any]) -> None:
        await services.mcp.follow(settings.mcp_servers)

    async def follow_platforms(_: dict[str, Any]) -> None:
        await services.platforms.follow(settings.platforms)

    feed.on("principals", forget_principals)
    feed.on("runtime", reload_runtime)
    feed.on("mcp", follow_mcp)
    feed.on("platforms", follow_platforms)
    for announcing in (principals, services.runtime_config, services.mcp, services.platforms):
        announcing.announcer = feed
    return feed
