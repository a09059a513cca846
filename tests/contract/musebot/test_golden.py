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
]
_TIMES = ("updatetime", "create_time")


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: 0 if k in _TIMES else _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, str):
        return value.replace(sys.executable, "<python>").replace(str(TEST_SERVER_SCRIPT), "<mcp_test_server>")
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
    who = request.get("key", "admin")  # null: no credentials
    return await muse.client.request(
        request["method"], request["path"], params=request.get("query"), headers=muse.auth(who),
        json=_unscrub(request["json"]) if "json" in request else None, data=request.get("form"),
        content=request["body"].encode() if "body" in request else None,
    )


def _answer(response: httpx.Response) -> dict[str, Any]:
    kind = response.headers["content-type"].split(";")[0]
    body = _scrub(response.json()) if kind == "application/json" else response.text
    return {"status": response.status_code, "content_type": kind, "body": body}


async def test_every_route_answers_as_recorded(muse: Muse, upstream: ScriptedUpstream) -> None:
    upstream.push(Reply(text="Hello from the model", usage=(12, 4)))
    for name in ORDER:
        path = FIXTURES / f"{name}.json"
        golden = orjson.loads(path.read_bytes())
        actual = _answer(await _replay(muse, golden["request"]))
        if os.environ.get("UPDATE_GOLDEN"):
            golden["response"] = actual
            path.write_bytes(orjson.dumps(golden, option=orjson.OPT_INDENT_2) + b"\n")
        assert actual == golden["response"], f"{name} differs from its golden file"
        if golden["response"]["content_type"] == "application/json":
            body = golden["response"]["body"]
            assert set(body) == {"code", "message", "msg", "data"}, name
            assert golden["response"]["status"] == 200, name
