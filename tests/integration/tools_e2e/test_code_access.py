"""Who may run code, end to end on a live server with the real sandbox: administrators only by
default, the users in `tools.code_users` (or "*") besides; without bubblewrap nobody, and the tool
says why. Even an administrator's code cannot read the server's signing secret or database."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.integration.native.conftest import Api
from tests.integration.tools_e2e.conftest import StartApp, events, offered, stream_turn
from tests.support.upstream import CHAT_PATH, Reply, ScriptedUpstream, ToolCallReply

LIMITED = "running code is limited to administrators and the users they allow"


async def tool(api: Api, who: str, name: str = "run_python") -> dict[str, Any]:
    response = await api.client.get(f"/api/tools/{name}", headers=api.auth(who))
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


async def run_code(api: Api, who: str, code: str) -> tuple[int, dict[str, Any]]:
    response = await api.client.post("/api/tools/run_python/execute", json={"code": code}, headers=api.auth(who))
    return response.status_code, response.json()


async def offered_to(api: Api, upstream: ScriptedUpstream, who: str) -> list[str]:
    """The tool names the model is offered in one chat turn of `who`."""
    conversation = await api.conversation(who)
    upstream.push(Reply(text="ok"))
    response = await api.client.post("/api/messages/stream", json={"conversation_id": conversation, "content": "go"},
                                     headers=api.auth(who))
    assert response.status_code == 200, response.text
    return offered([r.json for r in upstream.requests if r.path == CHAT_PATH][-1])


async def test_by_default_only_administrators_may_run_code(start_app: StartApp, upstream: ScriptedUpstream) -> None:
    api = await start_app()

    listed = await tool(api, "alice")
    assert (listed["available"], listed["unavailable_reason"]) == (False, LIMITED)
    status, refused = await run_code(api, "alice", "print('alice ran code')")
    assert (status, refused["code"], refused["message"]) == (403, "forbidden", f"run_python is unavailable: {LIMITED}")
    assert "run_python" not in await offered_to(api, upstream, "alice")
    assert "calculate" in await offered_to(api, upstream, "alice")  # the other tools are hers as before

    assert (await tool(api, "admin"))["available"] is True
    status, ran = await run_code(api, "admin", "print('admin ran code')")
    assert (status, ran["data"]["data"]["stdout"]) == (200, "admin ran code\n")
    assert "run_python" in await offered_to(api, upstream, "admin")


async def test_a_model_asking_for_code_in_a_chat_of_a_user_without_the_right_runs_nothing(
    start_app: StartApp, upstream: ScriptedUpstream
) -> None:
    api = await start_app()
    conversation = await api.conversation("alice")
    code = orjson.dumps({"code": "print('ran for alice')"}).decode()
    upstream.push(Reply(tool_calls=[ToolCallReply("run_python", code, id="sneaky")]), Reply(text="done"))

    frames = await stream_turn(api, conversation)

    (result,) = events(frames, "tool_result")
    assert result["is_error"] and result["result"] == "error: there is no tool named 'run_python'"


@pytest.mark.parametrize("code_users", [["alice"], "*"])
async def test_the_administrator_may_open_code_to_named_users_or_everyone(
    start_app: StartApp, upstream: ScriptedUpstream, code_users: list[str] | str
) -> None:
    api = await start_app(code_users=code_users)
    await api.user("bob")

    status, ran = await run_code(api, "alice", "print('alice ran code')")
    assert (status, ran["data"]["data"]["stdout"]) == (200, "alice ran code\n")
    assert "run_python" in await offered_to(api, upstream, "alice")
    bob_may = code_users == "*"
    assert (await tool(api, "bob"))["available"] is bob_may
    assert (await run_code(api, "bob", "print(1)"))[0] == (200 if bob_may else 403)


async def test_without_bubblewrap_the_code_tool_is_off_for_everyone_and_says_why(
    start_app: StartApp, upstream: ScriptedUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        api = await start_app(code_bwrap_path="/nonexistent/bwrap", code_users="*")

    why = "bubblewrap was not found at '/nonexistent/bwrap'; install the `bubblewrap` package (Debian, Ubuntu, Fedora)"
    assert f"the code tool run_python is OFF: {why}" in caplog.messages
    listed = await tool(api, "admin")
    assert (listed["available"], listed["unavailable_reason"]) == (False, why)
    status, refused = await run_code(api, "admin", "print('ran unsandboxed')")
    assert (status, refused["message"]) == (403, f"run_python is unavailable: {why}")
    assert "run_python" not in await offered_to(api, upstream, "admin")
    assert "calculate" in await offered_to(api, upstream, "admin")


async def test_not_even_an_administrators_code_reads_the_servers_secrets(
    start_app: StartApp, upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    api = await start_app()
    data_dir = tmp_path / "app0"  # the first app's data directory (tools_e2e/conftest.py)
    secret = (data_dir / "secret.key").read_text().strip()
    database = data_dir / "switchboard.db"
    assert secret and database.exists()
    code = f"""
for path in {[str(data_dir / "secret.key"), str(database), str(data_dir)]!r}:
    try:
        print(path, open(path, 'rb').read()[:100])
    except OSError as exc:
        print(path, type(exc).__name__)
"""
    status, ran = await run_code(api, "admin", code)

    assert status == 200 and secret not in str(ran) and "SQLite format" not in str(ran)
    assert ran["data"]["data"]["stdout"].split() == [str(data_dir / "secret.key"), "FileNotFoundError",
                                                     str(database), "FileNotFoundError", str(data_dir),
                                                     "FileNotFoundError"]
