"""Several bots at once, split /api and /event sockets, an implementation that goes away and comes
back (both modes), and the forward mode: Switchboard dials the implementation with its token."""

from __future__ import annotations

from typing import Any

import httpx

from tests.integration.platforms.onebot11.conftest import TOKEN, Bot, StartBot
from tests.support.fakes import eventually
from tests.support.onebot_peer import OneBotPeer, forward_server, plain_text, text

ALICE = 20001
FAST_RETRY = {"reconnect_initial_seconds": 0.05, "reconnect_max_seconds": 0.2}


def state(bot: Bot) -> Any:
    assert bot.runtime.platforms is not None
    return bot.runtime.platforms.supervisor.states()[0]


async def test_two_bots_at_once_each_answer_through_their_own_socket(start_bot: StartBot) -> None:
    bot = await start_bot()
    first, second = await bot.peer(10000), await bot.peer(10001)
    await eventually(lambda: set(state(bot).bots) == {"10000", "10001"})
    await second.private(ALICE, [text("to the second")])
    await first.private(ALICE, [text("to the first")])
    [one] = await first.wait_actions(1, "send_private_msg")
    [two] = await second.wait_actions(1, "send_private_msg")
    assert plain_text(one["params"]["message"]) == "Echo: to the first"
    assert plain_text(two["params"]["message"]) == "Echo: to the second"


async def test_split_api_and_event_sockets(start_bot: StartBot) -> None:
    bot = await start_bot()
    events, api = OneBotPeer(10000), OneBotPeer(10000)
    await events.connect(bot.ws_url + "/event", token=TOKEN, role="Event")
    await api.connect(bot.ws_url + "/api/", token=TOKEN, role="API")
    try:
        await events.private(ALICE, [text("hello")])
        [sent] = await api.wait_actions(1, "send_private_msg")
        assert plain_text(sent["params"]["message"]) == "Echo: hello"
        assert events.actions == []
    finally:
        await events.close()
        await api.close()


async def test_the_implementation_goes_away_and_comes_back(start_bot: StartBot) -> None:
    bot = await start_bot()
    peer = await bot.peer()
    await peer.private(ALICE, [text("before")])
    await peer.wait_actions(1, "send_private_msg")
    await peer.close()
    await eventually(lambda: state(bot).status == "waiting")
    again = await bot.peer()
    await again.private(ALICE, [text("after")])
    [sent] = await again.wait_actions(1, "send_private_msg")
    assert plain_text(sent["params"]["message"]) == "Echo: after"


async def test_forward_mode_dials_the_implementation_and_redials(start_bot: StartBot) -> None:
    peer = OneBotPeer(10000)
    async with forward_server(peer, token="fwd-token") as server:
        bot = await start_bot(mode="forward", url=server.url, access_token="fwd-token", **FAST_RETRY)
        await eventually(lambda: "10000" in state(bot).bots, within=10)  # learnt from get_login_info
        await peer.private(ALICE, [text("over forward")])
        [sent] = await peer.wait_actions(1, "send_private_msg")
        assert plain_text(sent["params"]["message"]) == "Echo: over forward"
        port = server.port
        await server.stop()
        await eventually(lambda: state(bot).status == "retrying", within=10)
        await server.start(port)  # the implementation is back: Switchboard dials it again
        await eventually(lambda: "10000" in state(bot).bots, within=10)
        assert server.connections == 2
        await peer.private(ALICE, [text("again")])
        sent = await peer.wait_actions(2, "send_private_msg")
        assert plain_text(sent[1]["params"]["message"]) == "Echo: again"


async def test_forward_mode_with_a_wrong_token_keeps_retrying_and_says_why(start_bot: StartBot) -> None:
    async with forward_server(OneBotPeer(10000), token="right") as server:
        bot = await start_bot(mode="forward", url=server.url, access_token="wrong", **FAST_RETRY)
        await eventually(lambda: state(bot).status == "retrying" and "401" in (state(bot).detail or ""),
                         within=10)
        assert server.connections == 0


async def test_an_unreachable_implementation_never_stops_the_server(start_bot: StartBot) -> None:
    bot = await start_bot(mode="forward", url="ws://127.0.0.1:9/", **FAST_RETRY)
    await eventually(lambda: state(bot).status == "retrying", within=10)
    async with httpx.AsyncClient(base_url=bot.base_url) as http:
        assert (await http.get("/healthz")).status_code == 200
