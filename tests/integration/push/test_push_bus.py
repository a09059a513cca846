"""Push buses deliver to every subscriber of a channel, and only to them; Redis across connections."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from switchboard.adapters.push.memory import InMemoryPushBus
from switchboard.adapters.push.redis_bus import RedisPushBus

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[InMemoryPushBus | RedisPushBus]:
    if request.param == "memory":
        yield InMemoryPushBus()
        return
    redis_bus = RedisPushBus(REDIS_URL)
    yield redis_bus
    await redis_bus.close()


async def _first(stream: AsyncIterator[dict[str, object]]) -> dict[str, object]:
    return await asyncio.wait_for(anext(stream), 5)


async def test_subscribers_of_a_channel_get_its_pushes_only(bus: InMemoryPushBus | RedisPushBus) -> None:
    channel, other = f"webchat:{uuid.uuid4().hex}", f"webchat:{uuid.uuid4().hex}"
    async with bus.subscribe(channel) as first, bus.subscribe(channel) as second, bus.subscribe(other) as elsewhere:
        assert await bus.publish(channel, {"text": "hi"}) == 2
        assert await _first(first) == {"text": "hi"}
        assert await _first(second) == {"text": "hi"}
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(elsewhere), 0.2)


async def test_nobody_listening_means_nothing_delivered(bus: InMemoryPushBus | RedisPushBus) -> None:
    assert await bus.publish(f"nobody:{uuid.uuid4().hex}", {"x": 1}) == 0


async def test_redis_pushes_cross_connections() -> None:
    """Two buses = two workers: what one publishes, the other's subscriber receives."""
    publisher, subscriber = RedisPushBus(REDIS_URL), RedisPushBus(REDIS_URL)
    channel = f"miochat:{uuid.uuid4().hex}"
    try:
        async with subscriber.subscribe(channel) as stream:  # subscribed once entered: no wait
            await publisher.publish(channel, {"from": "worker-1"})
            assert await _first(stream) == {"from": "worker-1"}
    finally:
        await publisher.close()
        await subscriber.close()
