"""Image URLs in chat messages are fetched by the provider, which may sit inside the private
network with the server (item 6 of issue 19): through the live server, a message whose image URL
points at a private or reserved address is refused before the provider is called."""

from __future__ import annotations

from typing import Any

import pytest

from switchboard.config.settings import ToolSettings
from tests.support.upstream import CHAT_PATH, Reply, ScriptedUpstream


async def send_image(api: Any, url: str) -> Any:
    conversation = await api.conversation("admin")
    body = {"conversation_id": conversation, "content": "what is this?", "images": [{"url": url}]}
    return await api.client.post("/api/messages/stream", json=body, headers=api.auth("admin"))


def chat_calls(upstream: ScriptedUpstream) -> int:
    return sum(1 for r in upstream.requests if r.path == CHAT_PATH)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:5432/x.png",
    "http://localhost:6379/x.png",
    "http://169.254.169.254/latest/meta-data",
    "http://10.1.2.3/x.png",
    "http://192.0.0.8/x.png",  # IETF protocol assignments: ipaddress calls it global
    "http://[fec0::1]/x.png",  # deprecated site-local IPv6: ipaddress calls it global
    "http://[::ffff:127.0.0.1]/x.png",
    "http://2130706433/x.png",  # 127.0.0.1 as one number
    "http://0x7f.1/x.png",
    "http://redis:6379/x.png",  # a one-label name only an internal resolver knows
    "http://metadata.google.internal/x.png",
    "file:///etc/passwd",
])
async def test_a_private_image_url_is_refused_before_the_provider_sees_it(
    start_native: Any, upstream: ScriptedUpstream, url: str,
) -> None:
    api = await start_native()
    response = await send_image(api, url)
    assert response.status_code == 400, response.text
    assert response.json()["success"] is False and "url" in response.json()["message"]
    assert chat_calls(upstream) == 0


async def test_a_public_image_url_and_a_data_uri_go_to_the_provider(
    start_native: Any, upstream: ScriptedUpstream,
) -> None:
    api = await start_native()
    upstream.push(Reply(text="a cat"), Reply(text="a dot"))
    public = await send_image(api, "https://images.example.com/cat.png")
    inline = await send_image(api, "data:image/png;base64,iVBORw0KGgo=")
    assert public.status_code == 200 and inline.status_code == 200
    assert chat_calls(upstream) == 2


async def test_the_admin_can_allow_the_private_network(start_native: Any, upstream: ScriptedUpstream) -> None:
    api = await start_native(tools=ToolSettings(allow_private_network=True))
    upstream.push(Reply(text="a local picture"))
    response = await send_image(api, "http://127.0.0.1:8000/x.png")
    assert response.status_code == 200 and chat_calls(upstream) == 1
