"""`X-Request-Id`: on every response of every face (and WebSocket handshakes), the client's own
when it is sane, and sent on to the provider with the call it caused."""

from __future__ import annotations

import httpx
import pytest
import websockets

from tests.support.gateway import MODEL, Gateway
from tests.support.upstream import ScriptedUpstream

CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}


def sent_upstream(upstream: ScriptedUpstream) -> str | None:
    return {name.lower(): value for name, value in upstream.last.headers.items()}.get("x-request-id")


def auth(gw: Gateway) -> dict[str, str]:
    return {"Authorization": f"Bearer {gw.key}"}


async def test_the_gateway_returns_the_clients_id_and_sends_it_upstream(
        gw: Gateway, upstream: ScriptedUpstream) -> None:
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=30) as client:
        given = await client.post("/v1/chat/completions", json=CHAT,
                                  headers={**auth(gw), "X-Request-Id": "lb-7f3a:42"})
        assert given.status_code == 200 and given.headers["x-request-id"] == "lb-7f3a:42"
        assert sent_upstream(upstream) == "lb-7f3a:42"
        made = await client.post("/v1/chat/completions", json=CHAT, headers=auth(gw))
        assert made.headers["x-request-id"] == sent_upstream(upstream) != "lb-7f3a:42"


async def test_a_native_answer_carries_its_id_upstream(gw: Gateway, upstream: ScriptedUpstream) -> None:
    async with httpx.AsyncClient(base_url=gw.base_url, timeout=30) as client:
        conversation = (await client.post("/api/conversations/", json={"title": "t"}, headers=auth(gw))).json()
        turn = {"conversation_id": conversation["data"]["id"], "content": "hello"}
        async with client.stream("POST", "/api/messages/stream", json=turn, headers=auth(gw)) as stream:
            request_id = stream.headers["x-request-id"]
            events = [line async for line in stream.aiter_lines() if line.startswith("event: ")]
    assert events[-1] == "event: done"
    assert sent_upstream(upstream) == request_id


@pytest.mark.parametrize("sent", ["has space", "x" * 129, "tab\there", "sb-abcdefghijklmnop", "", "ünï"])
async def test_an_unfit_id_is_replaced(gw: Gateway, sent: str) -> None:
    async with httpx.AsyncClient(base_url=gw.base_url) as client:
        response = await client.get("/healthz", headers={"X-Request-Id": sent.encode()})
    assert response.headers["x-request-id"] not in (sent, "")


async def test_errors_and_every_face_have_one(gw: Gateway) -> None:
    async with httpx.AsyncClient(base_url=gw.base_url) as client:
        answers = [
            await client.get("/v1/models"),  # 401, plain face
            await client.get("/api/no-such-thing"),  # 404, native
            await client.post("/api/v1/chat", content=b"{" * (3 * 1024 * 1024), headers=auth(gw)),  # 413
            await client.get("/api/v1/configs", headers=auth(gw)),  # AstrBot
            await client.get("/readyz"),
        ]
    ids = [answer.headers.get("x-request-id") for answer in answers]
    assert all(ids) and len(set(ids)) == len(ids), [(a.status_code, a.headers) for a in answers]


async def test_a_websocket_handshake_has_one(gw: Gateway) -> None:
    url = gw.base_url.replace("http", "ws") + f"/api/v1/chat/ws?key={gw.key}"
    async with websockets.connect(url, additional_headers={"X-Request-Id": "ws-1"}) as socket:
        assert socket.response is not None and socket.response.headers["X-Request-Id"] == "ws-1"
