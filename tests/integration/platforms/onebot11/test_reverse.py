"""The reverse WebSocket: an implementation dials in with its headers and token; private chats are
answered by the engine in the sender's own conversation; bad tokens are refused before the upgrade."""

from __future__ import annotations

import pytest
from websockets.exceptions import InvalidStatus

from tests.integration.platforms.onebot11.conftest import StartBot
from tests.support.fakes import eventually
from tests.support.onebot_peer import OneBotPeer, plain_text, text
from tests.support.upstream_wire import Reply


async def test_a_private_message_is_answered_by_the_model(start_bot: StartBot) -> None:
    bot = await start_bot()
    bot.upstream.push(Reply(text="Hello from the model", usage=(5, 4)))
    peer = await bot.peer()
    await peer.private(20001, [text("hi there")])
    [sent] = await peer.wait_actions(1, "send_private_msg")
    assert sent["params"]["user_id"] == 20001
    assert plain_text(sent["params"]["message"]) == "Hello from the model"
    request = bot.upstream.requests[-1].json
    assert request["messages"][-1]["content"] in ("hi there", [{"type": "text", "text": "hi there"}])
    # the sender is a QQ identity with its own account and conversation
    async with bot.runtime.uow() as tx:
        identity = await tx.identities.get("qq", "20001")
        assert identity is not None
        user = await tx.users.get(identity.user_id)
    assert user is not None and user.username == "qq-20001"


async def test_a_cq_code_string_is_read_as_segments(start_bot: StartBot) -> None:
    bot = await start_bot()
    peer = await bot.peer()
    await peer.private(20001, "fish &amp; chips &#91;large&#93;[CQ:face,id=14]")
    [sent] = await peer.wait_actions(1, "send_private_msg")
    assert plain_text(sent["params"]["message"]) == "Echo: fish & chips [large]"


async def test_the_conversation_continues(start_bot: StartBot) -> None:
    bot = await start_bot()
    peer = await bot.peer()
    await peer.private(20001, [text("first")])
    await peer.wait_actions(1, "send_private_msg")
    await peer.private(20001, [text("second")])
    await peer.wait_actions(2, "send_private_msg")
    contents = [m["content"] for m in bot.upstream.requests[-1].json["messages"]]
    assert len([c for c in contents if "first" in str(c)]) == 2  # the question and the echoed answer


@pytest.mark.parametrize("how", ["missing", "wrong", "wrong-query"])
async def test_a_wrong_or_missing_token_is_a_401_before_the_upgrade(start_bot: StartBot, how: str) -> None:
    bot = await start_bot()
    peer = OneBotPeer()
    with pytest.raises(InvalidStatus) as refused:
        await peer.connect(bot.ws_url, token=None if how == "missing" else "nope",
                           token_in_query=how == "wrong-query")
    assert refused.value.response.status_code == 401
    assert bot.runtime.platforms is not None and bot.runtime.platforms.supervisor.states()[0].bots == {}


@pytest.mark.parametrize("path", ["/onebot/v11/ws", "/onebot/v11/ws/"])
async def test_the_token_may_come_in_the_query_and_the_path_may_end_in_a_slash(start_bot: StartBot,
                                                                               path: str) -> None:
    bot = await start_bot()
    peer = await bot.peer(url=bot.base_url.replace("http", "ws") + path, token_in_query=True)
    await peer.private(20001, [text("hi")])
    await peer.wait_actions(1, "send_private_msg")


async def test_the_platform_reports_its_bots(start_bot: StartBot) -> None:
    bot = await start_bot()
    assert bot.runtime.platforms is not None
    [state] = bot.runtime.platforms.supervisor.states()
    await eventually(lambda: state.status == "waiting")
    peer = await bot.peer()
    await eventually(lambda: "10000" in state.bots)
    assert state.status == "connected"
    await peer.heartbeat(online=False)
    await eventually(lambda: not state.bots["10000"].online)
    await peer.lifecycle("enable")
    await eventually(lambda: state.bots["10000"].online)
    await peer.close()
    await eventually(lambda: state.bots == {} and state.status == "waiting")
