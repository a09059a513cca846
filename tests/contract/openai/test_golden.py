"""Golden contract of the OpenAI face: each fixture's exchanges replayed against a real server,
answers compared with the OpenAI API's own wire format (golden.py says how)."""

from __future__ import annotations

import httpx
import pytest

from switchboard.config.settings import GatewaySettings, LimitSettings
from tests.contract.openai.golden import FIXTURES, Replayer
from tests.support.gateway import Gateway, Start
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


async def test_the_routes_are_documented_in_the_apps_openapi(gw: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gw.base_url) as client:
        document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    for path in ("/v1/models", "/v1/models/{model}", "/v1/chat/completions", "/v1/completions", "/v1/embeddings",
                 "/v1/images/generations", "/v1/images/edits", "/v1/audio/speech", "/v1/audio/transcriptions"):
        assert path in paths, path
    chat = paths["/v1/chat/completions"]["post"]
    assert "messages" in chat["requestBody"]["content"]["application/json"]["schema"]["required"]
    assert "multipart/form-data" in paths["/v1/audio/transcriptions"]["post"]["requestBody"]["content"]
    assert paths["/v1/models/{model}"]["get"]["parameters"][0]["name"] == "model"
    assert "/api/usage" in paths and "/api/auth/login" in paths  # FastAPI's own routes are still there
