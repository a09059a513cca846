"""Golden exchanges in the OpenAI API's own wire format, one file per capability in fixtures/.

A file is `{"exchanges": [...]}`, replayed in order against one fresh gateway (user alice and
her key, one scripted upstream serving `gpt-test`). An exchange:

    "upstream":          [Reply fields, ...]    what the provider answers, in order (optional;
                                                 "path" picks the route, default chat completions)
    "upstream_stream":   "name.sse"             or a recorded provider stream under fixtures/, as is
    "request":           {"method", "path", "json" | "raw", "headers"?, "key"?}
    "response":          {"status", "headers"?, "json"? | "sse"?: "name.sse"}   a header "<seconds>": 1-60
    "upstream_received": {...}                  the JSON body the provider got, exactly

`key` is "alice" (the default), "none" (no credentials), a literal credential, or a named key
made on first use: "files_only" (scope file only), "other_models" (may use only gpt-other),
"one_rpm" (one request per minute), "poor" (a user with a 10-token allowance). Responses compare
exactly: JSON by value, streams byte for byte (the gateway relays the provider's own bytes).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson

from switchboard.core.domain.users import Scope
from tests.support.gateway import Gateway
from tests.support.upstream import CHAT_PATH, Reply, ScriptedUpstream

FIXTURES = Path(__file__).parent / "fixtures"
_NAMED_KEYS: dict[str, dict[str, Any]] = {
    "files_only": {"scopes": frozenset({Scope.FILE})},
    "other_models": {"allowed_models": ("gpt-other",)},
    "one_rpm": {"rpm_limit": 1},
}


class Replayer:
    def __init__(self, gw: Gateway, upstream: ScriptedUpstream, client: httpx.AsyncClient) -> None:
        self.gw = gw
        self.upstream = upstream
        self.client = client
        self.keys: dict[str, str] = {"alice": gw.key}

    async def replay(self, name: str) -> None:
        for number, exchange in enumerate(orjson.loads((FIXTURES / name).read_bytes())["exchanges"]):
            await self._exchange(f"{name} #{number}", exchange)

    async def _exchange(self, label: str, exchange: dict[str, Any]) -> None:
        for spec in exchange.get("upstream", []):
            spec = dict(spec)
            path = spec.pop("path", CHAT_PATH)
            if isinstance(spec.get("usage"), list):
                spec["usage"] = tuple(spec["usage"])
            self.upstream.push(Reply(**spec), path=path)
        if "upstream_stream" in exchange:
            self.upstream.push(Reply(raw_stream=(FIXTURES / exchange["upstream_stream"]).read_bytes()))
        seen = len(self.upstream.requests)
        request, expected = exchange["request"], exchange["response"]
        response = await self.client.request(
            request["method"], request["path"], headers=await self._headers(request),
            content=orjson.dumps(request["json"]) if "json" in request else request.get("raw", "").encode() or None,
        )
        label = f"{label} ({request['method']} {request['path']})"
        assert response.status_code == expected["status"], f"{label}: {response.status_code} {response.text}"
        for header, value in expected.get("headers", {}).items():
            actual = response.headers.get(header)
            if value == "<seconds>":  # a wait that depends on the clock
                assert actual is not None and 1 <= int(actual) <= 60, f"{label}: {header} is {actual!r}"
            else:
                assert actual == value, f"{label}: {header} is {actual!r}"
        if "json" in expected:
            assert response.json() == expected["json"], f"{label}: {response.text}"
        if "sse" in expected:
            assert response.text == (FIXTURES / expected["sse"]).read_text(), f"{label}: {response.text}"
        if "upstream_received" in exchange:
            assert len(self.upstream.requests) > seen, f"{label}: the provider was not called"
            received = self.upstream.last.json
            assert received == exchange["upstream_received"], f"{label}: the provider got {received}"

    async def _headers(self, request: dict[str, Any]) -> dict[str, str]:
        headers = {"Content-Type": "application/json", **request.get("headers", {})}
        key = request.get("key", "alice")
        if key != "none":
            headers.setdefault("Authorization", f"Bearer {await self._key(key)}")
        return headers

    async def _key(self, name: str) -> str:
        if name not in self.keys:
            if name == "poor":
                self.keys[name] = await self.gw.new_key(await self.gw.new_user("poor", allowance=10))
            elif name in _NAMED_KEYS:
                self.keys[name] = await self.gw.new_key(**_NAMED_KEYS[name])
            else:
                return name  # a literal credential
        return self.keys[name]
