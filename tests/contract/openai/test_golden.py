"""Golden contract of the OpenAI face: each fixture's exchanges replayed against a real server,
answers compared with the OpenAI API's own wire format (golden.py says how)."""

from __future__ import annotations

import httpx
import pytest

from switchboard.config.settings import GatewaySettings, LimitSettings
from tests.contract.openai.golden import FIXTURES, Replayer
from tests.support.gateway import Start
from tests.support.upstream import ScriptedUpstream

GOLDEN = sorted(path.name for path in FIXTURES.glob("*.json"))


def test_every_route_family_has_a_fixture() -> None:
    assert {"models.json", "chat.json", "chat_stream.json", "errors.json", "legacy_and_media.json"} <= set(GOLDEN)


@pytest.mark.parametrize("fixture", GOLDEN)
async def test_golden(start_gateway: Start, upstream: ScriptedUpstream, fixture: str) -> None:
    gw = await start_gateway(
        provider={"first_byte_timeout": 0.5},  # the 504 exchange waits this long
        gateway=GatewaySettings(failures_to_cool=1000),  # provider failures here are scripted, not a reason to rest
        limits=LimitSettings(max_body_bytes=64 * 1024),
    )
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=10) as client:
        await Replayer(gw, upstream, client).replay(fixture)
