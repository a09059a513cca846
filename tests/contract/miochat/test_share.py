"""Sharing, as the real Mio-Chat web clients do it (Pretend-to/mio-chat-frontend src/lib/client.js):
`setOriginalContactor` / `shareMessages` POST `/api/share/set` with `{"contactor": <the contact as
the browser holds it>}` and only a Content-Type header (no credentials); `loadOriginalContactors`
GETs `/api/share?id=<id>` and reads `data.contactor`; the Mar 2025 client (e068607, ChatView.vue)
reads `{previewImage, shareUrl}` and copies `document.location.origin + shareUrl`. The router
opens `/s/:shareId` (src/router/index.js); "add by share code" takes digits only
(AddContactor.vue `/^\\d+$/`). The original backend (lib/server/http/services/shareService.js)
answers `{"code": 0, "message": "success", "data": {...}}`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.contract.miochat.conftest import trusting
from tests.integration.miochat.conftest import Start

FETCH_HEADERS = {"Content-Type": "application/json"}  # fetch(path, {method: "POST", headers, body})

# a contactor as src/lib/contactor.js keeps it (constructor fields; messageChain entries as
# Contactor.webSend and the adapters' convertMessage push them)
CONTACTOR: dict[str, Any] = {
    "platform": "openai", "id": 1741520000123, "name": "翻译官", "avatar": "/static/avatar/gpt.png",
    "title": "把中文翻译成英文", "priority": 0, "firstMessageIndex": 0, "active": False,
    "activeModel": "gpt-4o-mini", "lastUpdate": 1741520000999,
    "options": {"base": {"model": "gpt-4o-mini", "temperature": 0.5}, "presetSettings": {"opening": "你好"}},
    "messageChain": [
        {"role": "mio_system", "time": 1741520000200, "content": [{"type": "blank", "data": {}}]},
        {"role": "user", "id": "m1", "time": 1741520000300, "content": [{"type": "text", "data": {"text": "你好"}}]},
        {"role": "other", "id": "m2", "time": 1741520000400,
         "content": [{"type": "text", "data": {"text": "Hello <b>there</b>"}}]},
    ],
}


async def test_a_contact_shared_by_the_web_client_is_read_back_by_its_id(start_mio: Start) -> None:
    mio = await trusting(start_mio)
    client = mio.api.client
    shared = await client.post("/api/share/set", headers=FETCH_HEADERS, json={"contactor": CONTACTOR})
    assert shared.status_code == 200, shared.text
    body = shared.json()
    assert body["code"] == 0 and body["message"] == "success"
    share_id = body["data"]["id"]
    assert share_id.isdigit() and len(share_id) == 30  # the share-code box takes digits; ~100 bits
    assert body["data"]["shareUrl"] == f"/s/{share_id}"  # relative: the client prefixes its origin
    assert body["data"]["previewImage"] == body["data"]["previewImg"] == f"/share/{share_id}/preview.png"
    # loadOriginalContactors: a plain fetch, no credentials
    loaded = await client.get(f"/api/share?id={share_id}")
    assert loaded.status_code == 200 and loaded.json()["code"] == 0
    contactor = loaded.json()["data"]["contactor"]
    assert contactor == {**CONTACTOR, "id": share_id}  # the snapshot as posted, under the share's id
    page = await client.get(body["data"]["shareUrl"])
    assert page.status_code == 200 and "翻译官" in page.text and "Hello &lt;b&gt;there&lt;/b&gt;" in page.text
    assert (await client.get(body["data"]["previewImage"])).headers["content-type"] == "image/png"


async def test_a_share_is_a_snapshot_and_each_share_is_its_own(start_mio: Start) -> None:
    mio = await trusting(start_mio)
    client = mio.api.client
    first = (await client.post("/api/share/set", headers=FETCH_HEADERS, json={"contactor": CONTACTOR})).json()
    # shareMessages (f305613): the same contact with only the chosen messages
    chosen = {**CONTACTOR, "messageChain": CONTACTOR["messageChain"][1:2]}
    second = (await client.post("/api/share/set", headers=FETCH_HEADERS, json={"contactor": chosen})).json()
    assert first["data"]["id"] != second["data"]["id"]
    read = [(await client.get("/api/share", params={"id": s["data"]["id"]})).json()["data"]["contactor"]
            for s in (first, second)]
    assert [len(c["messageChain"]) for c in read] == [3, 1]


async def test_the_seed_000_example_and_credentials_of_the_api(start_mio: Start) -> None:
    """Seed 000's `/api/share` example posts an empty contactor; with the face's own credentials
    no trusted key is needed."""
    mio = await start_mio()
    shared = await mio.api.client.post("/api/share", headers=mio.headers("alice"), json={"contactor": {}})
    assert shared.status_code == 200 and shared.json()["code"] == 0
    loaded = await mio.api.client.get("/api/share", params={"id": shared.json()["data"]["id"]})
    assert loaded.json()["data"]["contactor"] == {"id": shared.json()["data"]["id"]}


async def test_without_the_opt_in_the_web_clients_share_is_refused(start_mio: Start) -> None:
    mio = await start_mio()
    refused = await mio.api.client.post("/api/share/set", headers=FETCH_HEADERS, json={"contactor": CONTACTOR})
    assert refused.status_code == 401
    assert refused.json()["code"] == 1 and "miochat.trusted_key" in refused.json()["data"]["reason"]


async def test_the_trusted_key_serves_only_the_listed_addresses(start_mio: Start) -> None:
    mio = await trusting(start_mio, trusted_clients=["10.0.0.0/8"])  # the test client is 127.0.0.1
    refused = await mio.api.client.post("/api/share/set", headers=FETCH_HEADERS, json={"contactor": CONTACTOR})
    assert refused.status_code == 401


async def test_unknown_ids_oversize_and_malformed_bodies(start_mio: Start) -> None:
    mio = await start_mio()
    client = mio.api.client
    for unknown in ("123456", "", "x" * 300, "../../etc/passwd"):
        missing = await client.get("/api/share", params={"id": unknown})
        assert missing.status_code == 404 and missing.json()["code"] == 1, unknown
    assert (await client.get("/s/123456")).status_code == 404
    huge = {**CONTACTOR, "messageChain": [{"role": "user", "content": [{"type": "text", "data": {
        "text": "字" * 250_000}}]}] * 3}
    too_big = await client.post("/api/share/set", headers=mio.headers("alice"), json={"contactor": huge})
    assert too_big.status_code == 413 and too_big.json()["code"] == 1
    for body in ({}, {"contactor": "not an object"}, []):
        bad = await client.post("/api/share/set", headers=mio.headers("alice"), json=body)
        assert bad.status_code == 422 and bad.json()["code"] == 1, body
    naming_nothing = await client.post("/api/share/set", headers=mio.headers("alice"), json={"contactor": {
        "conversation_id": "conv_nope"}})
    assert naming_nothing.status_code == 404


async def test_share_base_url_makes_absolute_links(start_mio: Start) -> None:
    """Clients from Dec 2025 on (3b6fc98, src/utils/tools.js shareOrCopy) copy the link as given."""
    mio = await start_mio(share_base_url="https://chat.example.org/")
    shared = (await mio.api.client.post("/api/share/set", headers=mio.headers("alice"),
                                        json={"contactor": CONTACTOR})).json()["data"]
    assert shared["shareUrl"] == f"https://chat.example.org/s/{shared['id']}"


async def test_with_a_mio_chat_build_served_its_router_opens_the_link(start_mio: Start, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "index.html").write_text("<!doctype html><div id=app>mio</div>")
    mio = await start_mio(web_dist=dist)
    shared = (await mio.api.client.post("/api/share/set", headers=mio.headers("alice"),
                                        json={"contactor": CONTACTOR})).json()["data"]
    page = await mio.api.client.get(shared["shareUrl"])
    assert page.status_code == 200 and "<div id=app>mio</div>" in page.text
