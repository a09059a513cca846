"""GET /openai/models and POST /openai/image (served back from Switchboard's own storage)."""

from __future__ import annotations

import base64

import pytest

from tests.contract.chatgpt_proxy.conftest import Proxy, assert_golden
from tests.support.upstream import Reply, ScriptedUpstream

IMAGE = {"prompt": "A cute baby sea otter", "n": 1, "size": "1024x1024"}


async def test_models_lists_providers_and_suggestions(proxy: Proxy) -> None:
    response = await proxy.client.get("/openai/models", headers=proxy.auth("alice"))
    assert response.status_code == 200
    assert_golden("models.json", response)


async def test_models_suggestions_come_from_config(start_proxy) -> None:  # type: ignore[no-untyped-def]
    proxy = await start_proxy(chatgpt_proxy={"suggest": {"chat": ["gpt-4"], "audio.translations": ["whisper-2"]}})
    suggest = (await proxy.client.get("/openai/models", headers=proxy.auth("alice"))).json()["data"]["suggest"]
    assert suggest["chat"] == ["gpt-4"]
    assert suggest["audio"] == {"transcriptions": ["whisper-1"], "translations": ["whisper-2"]}


async def test_image_b64_json(proxy: Proxy, upstream: ScriptedUpstream) -> None:
    response = await proxy.post("/openai/image", {**IMAGE, "n": 2, "response_format": "b64_json"})
    assert response.status_code == 200
    assert_golden("image_b64.json", response)
    sent = upstream.last.json
    assert sent["prompt"] == IMAGE["prompt"] and sent["n"] == 2 and sent["size"] == "1024x1024"
    assert base64.b64decode(response.json()["data"][0]["b64_json"]).startswith(b"\x89PNG")


async def test_image_url_is_served_by_switchboard(proxy: Proxy, upstream: ScriptedUpstream) -> None:
    upstream.push(upstream_url_reply(upstream), path="/v1/images/generations")
    response = await proxy.post("/openai/image", {**IMAGE, "response_format": "url"})
    assert response.status_code == 200
    assert_golden("image_url.json", response)
    link = response.json()["data"][0]["url"]
    assert str(proxy.client.base_url) in link and f"127.0.0.1:{upstream.port}" not in link
    await upstream.stop()  # the provider's link is gone; ours keeps working, without credentials
    image = await proxy.client.get(link)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")


async def test_image_links_are_unguessable_capabilities(proxy: Proxy) -> None:
    link = (await proxy.post("/openai/image", IMAGE)).json()["data"][0]["url"]
    owner_and_file = link.split("/openai/image/file/")[1]
    owner, file_id = owner_and_file.split("/")
    assert (await proxy.client.get(f"/openai/image/file/{int(owner) + 1}/{file_id}")).status_code == 404
    missing = await proxy.client.get(f"/openai/image/file/{owner}/{file_id[:-4]}0000")
    assert missing.status_code == 404
    assert missing.json() == {"code": 404, "data": None, "message": "file not found"}


@pytest.mark.parametrize(("change", "status", "fragment"), [
    ({"size": "300x300"}, 422, "size"),
    ({"size": 1024}, 422, "size"),
    ({"response_format": "png"}, 422, "response_format"),
    ({"n": 0}, 422, "n"),
    ({"n": 11}, 400, "n is too large"),
    ({"prompt": ""}, 422, "prompt"),
])
async def test_image_bad_input(proxy: Proxy, change: dict[str, object], status: int, fragment: str) -> None:
    response = await proxy.post("/openai/image", {**IMAGE, **change})
    assert response.status_code == status
    body = response.json()
    assert body["code"] == status and body["data"] is None and fragment in body["message"]


def upstream_url_reply(upstream: ScriptedUpstream) -> Reply:
    return Reply(json_body={"created": 0, "data": [
        {"url": f"http://127.0.0.1:{upstream.port}/v1/generated/1.png"}]})


async def test_image_provider_failure(proxy: Proxy, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(status=500), path="/v1/images/generations")
    response = await proxy.post("/openai/image", IMAGE)
    assert response.status_code == 502
    body = response.json()
    assert body["code"] == 502 and body["data"] is None and body["message"]
