"""Every text command through /communicate against the scripted upstream."""

from __future__ import annotations

from tests.integration.musebot.harness import MODEL, OTHER, Muse, Start
from tests.support.upstream import Reply, ScriptedUpstream


async def test_chat_streams_raw_text_and_keeps_context(muse: Muse, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="Hello there", usage=(7, 2)), Reply(text="Second", usage=(9, 1)))
    first = await muse.say("hi")
    assert first.status_code == 200
    assert first.headers["content-type"] == "text/event-stream"
    assert first.headers["cache-control"] == "no-cache"
    assert first.text == "Hello there"
    second = await muse.say("/chat and again", path="/api/communicate")
    assert second.text == "Second"
    sent = [m["content"] for m in upstream.last.json["messages"]]
    assert sent == ["hi", "Hello there", "and again"]
    assert upstream.last.json["model"] == MODEL


async def test_mode_lists_and_sets_the_model(muse: Muse, upstream: ScriptedUpstream) -> None:
    listing = await muse.say("/mode")
    assert f"{MODEL} (current)" in listing.text and OTHER in listing.text
    chosen = await muse.say(f"$mode {OTHER}")
    assert chosen.text == f"Model set to {OTHER}.\n"
    unknown = await muse.say("/mode nope")
    assert "Unknown model 'nope'" in unknown.text
    await muse.say("which model?")
    assert upstream.last.json["model"] == OTHER
    users = await muse.get("/user/list", user_id="1001")
    assert users["data"]["list"][0]["mode"] == OTHER


async def test_balance_and_state(start_musebot: Start, upstream: ScriptedUpstream) -> None:
    muse = await start_musebot(default_token_allowance=1000)
    upstream.push(Reply(text="ok", usage=(10, 5)))
    await muse.say("count me")
    balance = await muse.say("/balance")
    assert balance.text == "You have 985 tokens left (allowance 1000, used 15).\n"
    added = await muse.post("/user/token/add", json={"user_id": 1001, "token": 100})
    assert added == {"code": 0, "message": "success", "msg": "success", "data": "success"}
    assert (await muse.say("/balance")).text == "You have 1085 tokens left (allowance 1100, used 15).\n"
    state = await muse.say("/state")
    assert state.text == (
        "Token use — total: 15, today: 15, last 7 days: 15, last 30 days: 15\nCurrent model: gpt-test\n"
    )
    unlimited = await start_musebot()
    assert (await unlimited.say("/balance")).text == "Your token allowance is unlimited (0 tokens used so far).\n"


async def test_clear_marks_history_deleted_and_retry_reanswers(muse: Muse, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="first answer"), Reply(text="better answer"))
    await muse.say("question one")
    retried = await muse.say("/retry")
    assert retried.text == "better answer"
    assert [m["content"] for m in upstream.last.json["messages"]] == ["question one"]
    records = (await muse.get("/record/list", user_id="1001"))["data"]
    chat = [r for r in records["list"] if r["question"] == "question one"]
    assert chat[0]["answer"] == "better answer" and chat[0]["is_deleted"] == 0
    cleared = await muse.say("/clear")
    assert cleared.text.startswith("History cleared (")
    await muse.say("fresh start")
    assert [m["content"] for m in upstream.last.json["messages"]] == ["fresh start"]
    deleted = (await muse.get("/record/list", user_id="1001", is_deleted=1))["data"]
    assert "question one" in [r["question"] for r in deleted["list"]]
    assert all(r["is_deleted"] == 1 for r in deleted["list"])
    nothing = await muse.say("/retry", user_id="2002")
    assert nothing.text == "⚠️ There is no earlier question to retry.\n"


async def test_help_and_unknown_commands(muse: Muse, upstream: ScriptedUpstream) -> None:
    """An unknown command is chatted with, as MuseBot's ExecCmd falls through to the chat (robot/robot.go)."""
    helped = await muse.say("/help")
    assert helped.text.startswith("Commands:\n/chat")
    assert "/video" in helped.text and "/mcp" in helped.text
    upstream.push(Reply(text="frobnicated"))
    assert (await muse.say("/frobnicate now")).text == "frobnicated"
    asked = upstream.last.json["messages"][-1]["content"]
    assert asked in ("/frobnicate now", [{"type": "text", "text": "/frobnicate now"}])
    logged = (await muse.get("/record/list", user_id="1001", pageSize=5))["data"]
    assert logged["total"] == 2 and logged["list"][0]["question"] == "/frobnicate now"
    assert logged["list"][0]["answer"] == "frobnicated" and logged["list"][0]["record_type"] == 3


async def test_missing_prompt_and_bad_keys(muse: Muse) -> None:
    empty = await muse.say("")
    assert empty.status_code == 400 and empty.text == "Missing prompt parameter"
    anonymous = await muse.say("hi", who=None)
    assert anonymous.status_code == 200
    assert anonymous.json()["code"] == 210401 and anonymous.json()["data"] is None
    muse.keys["forged"] = "sb-not-a-real-key"
    forged = await muse.say("hi", who="forged")
    assert forged.json() == {"code": 210401, "message": "invalid API key", "msg": "invalid API key", "data": None}


async def test_plain_key_acts_only_for_its_own_user(muse: Muse, upstream: ScriptedUpstream) -> None:
    await muse.key("alice")
    await muse.key("bob")
    assert (await muse.say("hello", user_id="alice-1", who="alice")).text.startswith("Echo")
    taken = await muse.say("hello", user_id="alice-1", who="bob")
    assert taken.json()["code"] == 210403
    assert "only act for its own musebot user" in taken.json()["message"]
    admin_only = await muse.post("/user/token/add", who="alice", json={"user_id": "alice-1", "token": 5})
    assert admin_only["code"] == 210403
    mine = (await muse.get("/record/list", who="alice"))["data"]
    assert mine["total"] == 1 and mine["list"][0]["user_id"] == "alice-1"
    assert (await muse.get("/record/list", who="bob"))["data"]["total"] == 0
