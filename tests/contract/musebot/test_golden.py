"""Golden request/response pairs in MuseBot's wire format, one file per route in fixtures/.

Each file holds the request to replay and the answer expected (status, content type, body), with
times replaced by 0. Files are replayed in the order below on one fresh server, so ids are stable.
Run with `UPDATE_GOLDEN=1` to rewrite the expected answers (read the diff before committing it).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.integration.musebot.harness import Muse
from tests.support.mcp_servers import TEST_SERVER_SCRIPT
from tests.support.upstream import Reply, ScriptedUpstream

FIXTURES = Path(__file__).parent / "fixtures"
ORDER = [
    "communicate_missing_prompt", "communicate_no_key", "communicate_chat", "api_communicate_help",
    "communicate_mode_set", "user_token_add", "user_token_add_bad", "user_list", "user_update_mode",
    "record_list", "record_list_deleted", "conf_get", "conf_update", "conf_update_bad_type",
    "conf_update_unknown_key", "command_get", "mcp_update", "mcp_get", "mcp_disable", "mcp_sync", "mcp_delete",
    "mcp_delete_unknown",
    # issue 17: the requests MuseBot's admin console (admin/controller/*.go) and web client really send;
    # each file's "source" names where in MuseBot's code the request comes from
    "pong", "console_conf_get_no_credentials", "console_conf_get_basic", "console_command_get_key_as_user",
    "console_conf_get_wrong_key", "console_conf_update_top_p", "console_conf_update_token_per_user",
    "console_conf_update_read_only", "console_command_get", "console_user_mode_update", "console_communicate",
    "console_communicate_photo", "console_communicate_video", "console_communicate_unknown_command",
    "communicate_without_user_id", "console_admin_chat_records", "console_user_records", "record_list_bad_type",
    "console_user_list", "user_list_bad_paging", "console_token_add_negative", "console_user_list_held",
    "console_mcp_update_typed", "console_mcp_get", "console_mcp_disable", "console_mcp_sync", "console_mcp_delete",
    "console_mcp_delete_unknown",
]
_TIMES = ("updatetime", "create_time")


def _scrub(value: Any, muse: Muse) -> Any:
    """Times become 0; the paths, the server's address and the admin's key their placeholders."""
    if isinstance(value, dict):
        return {k: 0 if k in _TIMES else _scrub(v, muse) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, muse) for v in value]
    if isinstance(value, str):
        value = value.replace(sys.executable, "<python>").replace(str(TEST_SERVER_SCRIPT), "<mcp_test_server>")
        return value.replace(muse.client.base_url.netloc.decode(), "<bot address>").replace(muse.keys["admin"], "<key>")
    return value


def _unscrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unscrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unscrub(v) for v in value]
    if isinstance(value, str):
        return value.replace("<python>", sys.executable).replace("<mcp_test_server>", str(TEST_SERVER_SCRIPT))
    return value


async def _replay(muse: Muse, request: dict[str, Any]) -> httpx.Response:
    """`key`: whose key goes in a Bearer header (null: none); `auth.basic`: [user, password] of the
    bot address's userinfo, as Go's client sends it (`<key>` is the admin's key)."""
    who = request.get("key", "admin")
    basic = request.get("auth", {}).get("basic")
    auth = tuple(muse.keys["admin"] if part == "<key>" else part for part in basic) if basic else None
    return await muse.client.request(
        request["method"], request["path"], params=request.get("query"),
        headers={**muse.auth(who), **request.get("headers", {})}, auth=auth,  # type: ignore[arg-type]
        json=_unscrub(request["json"]) if "json" in request else None, data=request.get("form"),
        content=_unscrub(request["body"]).encode() if "body" in request else None,
    )


def _answer(response: httpx.Response, muse: Muse) -> dict[str, Any]:
    kind = response.headers["content-type"].split(";")[0]
    body = _scrub(response.json(), muse) if kind == "application/json" else _scrub(response.text, muse)
    return {"status": response.status_code, "content_type": kind, "body": body}


async def test_every_route_answers_as_recorded(muse: Muse, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="Hello from the model", usage=(12, 4)), Reply(text="Hi, console", usage=(10, 3)),
                  Reply(text="Frobnicated, as asked", usage=(11, 4)), Reply(text="Hello, web user", usage=(9, 3)))
    upstream.video_steps = 2
    for name in ORDER:
        path = FIXTURES / f"{name}.json"
        golden = orjson.loads(path.read_bytes())
        actual = _answer(await _replay(muse, golden["request"]), muse)
        if os.environ.get("UPDATE_GOLDEN"):
            golden["response"] = actual
            path.write_bytes(orjson.dumps(golden, option=orjson.OPT_INDENT_2) + b"\n")
        assert actual == golden["response"], f"{name} differs from its golden file"
        if golden["response"]["content_type"] == "application/json":
            body = golden["response"]["body"]
            assert set(body) == {"code", "message", "msg", "data"}, name
            assert golden["response"]["status"] == 200, name
