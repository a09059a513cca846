"""A forward OneBot connection with two workers (two apps on one database and one Redis, as `serve
--workers 2` builds them): only one worker dials the implementation; a proactive message (AstrBot's
im/message) posted to the other reaches the QQ chat through it, the bot's refusal comes back; when
the dialling worker stops, it hands its lease over and the other dials."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from switchboard.app.asgi import create_app
from switchboard.app.container import Runtime
from switchboard.config.settings import WorkerSettings
from tests.integration.platforms.pushing import pusher
from tests.support.app_settings import app_settings
from tests.support.fakes import eventually
from tests.support.live_server import LiveServer
from tests.support.onebot_peer import OneBotPeer, forward_server, plain_text
from tests.support.upstream import ScriptedUpstream

ALICE = 20001
# Long enough that a loaded machine cannot make the first worker miss its renewals (every third of
# it) and lose the lease to the second before the test looks: with 1.5 s, two pytest workers beside
# other suites on 2 cores flipped it, and the test waited 30 s for a standby that never came. The
# handover the test checks is a release, taken within a third of this (a standby's next try).
LEASE_SECONDS = 6.0


def status(runtime: Runtime, platform_id: str) -> str:
    """This worker's own state of the platform (connected here, standby ...)."""
    assert runtime.platforms is not None
    return next(s.status for s in runtime.platforms.supervisor.states() if s.id == platform_id)


@contextlib.asynccontextmanager
async def worker(settings: Any) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    app = create_app(settings)
    async with LiveServer(app) as base_url, pusher(base_url) as client:
        yield app.state.runtime, client


async def test_one_worker_dials_the_other_routes_to_it_and_takes_over(
        tmp_path: Path, redis_url: str, upstream: ScriptedUpstream) -> None:
    peer = OneBotPeer(10000)
    platform_id = f"qq{uuid.uuid4().hex[:8]}"  # its lease is a Redis key: unique among parallel tests
    async with forward_server(peer, token="fwd") as server:
        entry = {"id": platform_id, "type": "onebot11", "mode": "forward", "url": server.url, "access_token": "fwd",
                 "reconnect_initial_seconds": 0.05, "reconnect_max_seconds": 0.2}
        settings = app_settings(tmp_path / "shared", upstream, redis_url=redis_url, platforms=[entry],
                                workers=WorkerSettings(platform_lease_seconds=LEASE_SECONDS))
        async with contextlib.AsyncExitStack() as first_stack:
            first, _ = await first_stack.enter_async_context(worker(settings))
            await eventually(lambda: status(first, platform_id) == "connected", within=30)
            async with worker(settings) as (second, second_http):
                await eventually(lambda: status(second, platform_id) == "standby", within=30)
                assert server.connections == 1
                # the first announces its bot; the second lists it as running
                await eventually(lambda: platform_id in second.services.proactive.platforms, within=30)
                [bot] = [b for b in (await second_http.get("/api/v1/im/bots")).json()["data"]["bots"]
                         if b["id"] == platform_id]
                assert bot["running"] and bot["accounts"] == [{"id": "10000", "online": True}]
                sent = await second_http.post("/api/v1/im/message", json={
                    "umo": f"{platform_id}:FriendMessage:{ALICE}", "message": "routed to the first worker"})
                assert sent.json()["status"] == "ok", sent.text
                [action] = await peer.wait_actions(1, "send_private_msg")
                assert plain_text(action["params"]["message"]) == "routed to the first worker"

                peer.refuse["send_private_msg"] = "bot is muted"
                refused = await second_http.post("/api/v1/im/message", json={
                    "umo": f"{platform_id}:FriendMessage:{ALICE}", "message": "refused"})
                assert refused.json()["status"] == "error" and "bot is muted" in refused.json()["message"]

                await first_stack.aclose()  # the first worker stops: its lease is released, not left to expire
                await eventually(lambda: status(second, platform_id) == "connected", within=30)
                assert server.connections == 2
