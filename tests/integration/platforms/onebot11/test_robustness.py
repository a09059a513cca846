"""Bad input from an implementation never crashes the bot: malformed frames, unknown post types,
notices and requests, a flood from one sender, a 10 MB message; failing actions are survived."""

from __future__ import annotations

from tests.integration.platforms.onebot11.conftest import StartBot
from tests.support.fakes import eventually
from tests.support.onebot_peer import plain_text, text

ALICE, MALLORY = 20001, 20666


async def test_malformed_frames_and_other_post_types_are_ignored(start_bot: StartBot) -> None:
    bot = await start_bot()
    peer = await bot.peer()
    base = {"time": 1, "self_id": 10000}
    for frame in (
        "not json", "[1, 2]", "null", '{"post_type": 7}',
        {**base, "post_type": "notice", "notice_type": "group_increase", "group_id": 1, "user_id": 2},
        {**base, "post_type": "request", "request_type": "friend", "user_id": 2, "flag": "x"},
        {**base, "post_type": "something_new"},
        {**base, "post_type": "message", "message_type": "private", "message": [{"type": "text"}]},  # no user
        {**base, "post_type": "message", "message_type": "group", "user_id": 2, "message": "hi"},  # no group
        {**base, "post_type": "message", "message_type": "private", "user_id": 2, "message": 42},
        {**base, "post_type": "message", "message_type": "private", "user_id": 3, "message": [7, {"type": 1}]},
        {**base, "post_type": "message", "message_type": "channel", "user_id": 2, "message": "hi"},
        {"status": "ok", "retcode": 0, "data": None, "echo": "nobody-asked"},
    ):
        await peer.send(frame)
    await peer.private(ALICE, [text("still there?")])
    [sent] = await peer.wait_actions(1, "send_private_msg")
    assert sent["params"]["user_id"] == ALICE  # nothing before it was answered
    assert len(bot.upstream.requests) == 1


async def test_a_flood_from_one_sender_is_cut_to_the_rate(start_bot: StartBot) -> None:
    bot = await start_bot(messages_per_minute=3)
    peer = await bot.peer()
    for i in range(40):
        await peer.private(MALLORY, [text(f"spam {i}")])
    await peer.private(ALICE, [text("hello")])
    sent = await peer.wait_actions(4, "send_private_msg")
    assert sorted(s["params"]["user_id"] for s in sent) == [ALICE, MALLORY, MALLORY, MALLORY]
    assert len(bot.upstream.requests) == 4


async def test_a_10_mb_message_is_refused_with_a_reply(start_bot: StartBot) -> None:
    bot = await start_bot()
    peer = await bot.peer()
    await peer.private(ALICE, [text("x" * 10_000_000)])
    [sent] = await peer.wait_actions(1, "send_private_msg")
    assert "too long" in plain_text(sent["params"]["message"])
    assert bot.upstream.requests == []
    await peer.private(ALICE, [text("short")])
    await peer.wait_actions(2, "send_private_msg")


async def test_a_refused_send_is_survived(start_bot: StartBot) -> None:
    bot = await start_bot()
    peer = await bot.peer()
    peer.refuse["send_private_msg"] = "the bot is muted"
    await peer.private(ALICE, [text("one")])
    await peer.wait_actions(1, "send_private_msg")
    del peer.refuse["send_private_msg"]
    await peer.private(ALICE, [text("two")])
    sent = await peer.wait_actions(2, "send_private_msg")
    assert plain_text(sent[1]["params"]["message"]) == "Echo: two"


async def test_an_unanswered_action_times_out_and_the_bot_goes_on(start_bot: StartBot) -> None:
    bot = await start_bot(action_timeout_seconds=0.2)
    peer = await bot.peer()
    peer.silent.add("send_private_msg")
    await peer.private(ALICE, [text("one")])
    await peer.wait_actions(1, "send_private_msg")
    peer.silent.clear()
    await peer.private(ALICE, [text("two")])
    sent = await peer.wait_actions(2, "send_private_msg")
    assert plain_text(sent[1]["params"]["message"]) == "Echo: two"


async def test_new_users_can_be_refused(start_bot: StartBot) -> None:
    bot = await start_bot(allow_new_users=False)
    peer = await bot.peer()
    await peer.private(ALICE, [text("hello")])
    [sent] = await peer.wait_actions(1, "send_private_msg")
    assert "not linked" in plain_text(sent["params"]["message"])
    assert bot.upstream.requests == []
    async with bot.runtime.uow() as tx:
        assert await tx.identities.get("qq", str(ALICE)) is None


async def test_the_bots_own_messages_are_not_answered(start_bot: StartBot) -> None:
    bot = await start_bot()
    peer = await bot.peer()
    await peer.private(10000, [text("talking to myself")])
    await peer.private(ALICE, [text("hi")])
    await peer.wait_actions(1, "send_private_msg")
    await eventually(lambda: len(bot.upstream.requests) == 1)
    assert peer.sent("send_private_msg")[0]["params"]["user_id"] == ALICE


async def test_friend_requests_are_accepted_only_when_configured(start_bot: StartBot) -> None:
    request = {"time": 1, "self_id": 10000, "post_type": "request", "request_type": "friend", "user_id": ALICE,
               "comment": "hi", "flag": "flag-1"}
    off = await start_bot()
    quiet = await off.peer()
    await quiet.send(request)
    await quiet.private(ALICE, [text("after the request")])
    await quiet.wait_actions(1, "send_private_msg")
    assert quiet.sent("set_friend_add_request") == []
    on = await start_bot(accept_friend_requests=True)
    peer = await on.peer()
    await peer.send(request)
    [accepted] = await peer.wait_actions(1, "set_friend_add_request")
    assert accepted["params"] == {"flag": "flag-1", "approve": True}
