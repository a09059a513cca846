"""Replays golden request/response fixtures (seed-004 wire format) against an app.

A fixture is `{"steps": [{"request": ..., "response": ..., "save": ...}]}`:

    request   {"method", "path", "as"?: "alice", "json"? | "raw"?, "params"?, "headers"?}
    response  {"status", "json"? | "sse"?: "<file under fixtures/>", "headers"?}
    save      {"conv": "data.id"}            dotted path into the response body

Expected values may hold placeholders: "<id>" (int or non-empty string), "<int>", "<str>",
"<timestamp>" (ISO 8601), "<jwt>", "<api_key>", "<any>"; and "{name}" for a saved value (alone:
the value itself, any type; inside a longer string: substituted as text). Objects must have
exactly the expected keys, lists exactly the expected length.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

FIXTURES = Path(__file__).parent / "fixtures"
_VAR = re.compile(r"\{(\w+)\}")


def _is_timestamp(value: Any) -> bool:
    try:
        return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


PLACEHOLDERS = {
    "<id>": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, str) and bool(v)),
    "<int>": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "<str>": lambda v: isinstance(v, str) and bool(v),
    "<timestamp>": _is_timestamp,
    "<jwt>": lambda v: isinstance(v, str) and v.count(".") == 2 and len(v) > 20,
    "<api_key>": lambda v: isinstance(v, str) and v.startswith("sb-") and len(v) > 20,
    "<any>": lambda v: True,
}


def substitute(template: Any, saved: dict[str, Any]) -> Any:
    if isinstance(template, dict):
        return {k: substitute(v, saved) for k, v in template.items()}
    if isinstance(template, list):
        return [substitute(v, saved) for v in template]
    if isinstance(template, str):
        whole = _VAR.fullmatch(template)
        if whole:
            return saved[whole.group(1)]
        return _VAR.sub(lambda m: str(saved[m.group(1)]), template)
    return template


def match(expected: Any, actual: Any, saved: dict[str, Any], where: str = "$") -> None:
    if isinstance(expected, str) and expected in PLACEHOLDERS:
        assert PLACEHOLDERS[expected](actual), f"{where}: {actual!r} is not {expected}"
        return
    expected = substitute(expected, saved) if isinstance(expected, str) else expected
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        assert set(actual) == set(expected), f"{where}: keys {sorted(actual)} != expected {sorted(expected)}"
        for key, value in expected.items():
            match(value, actual[key], saved, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r} vs {expected!r}"
        for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
            match(e, a, saved, f"{where}[{index}]")
    else:
        assert actual == expected and type(actual) is type(expected), f"{where}: {actual!r} != {expected!r}"


def dig(body: Any, path: str) -> Any:
    for part in path.split("."):
        body = body[int(part)] if isinstance(body, list) else body[part]
    return body


def parse_sse(raw: str) -> list[tuple[str, Any]]:
    """SSE text -> [(event, data)]; comments (heartbeats) are left out."""
    frames = []
    for block in raw.replace("\r\n", "\n").strip().split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        name = next((line[6:].strip() for line in lines if line.startswith("event:")), "message")
        data = "\n".join(line[5:].strip() for line in lines if line.startswith("data:"))
        frames.append((name, orjson.loads(data)))
    return frames


async def replay(name: str, client: httpx.AsyncClient, saved: dict[str, Any]) -> None:
    fixture = orjson.loads((FIXTURES / name).read_bytes())
    for number, step in enumerate(fixture["steps"]):
        request, expected = substitute(step["request"], saved), step["response"]
        headers = dict(request.get("headers", {}))
        if "as" in request:
            headers["Authorization"] = f"Bearer {saved[request['as'] + '_token']}"
        content = request["raw"].encode() if "raw" in request else None
        if content is not None:
            headers.setdefault("Content-Type", "application/json")
        response = await client.request(
            request["method"], request["path"], json=request.get("json"), content=content,
            params=request.get("params"), headers=headers,
        )
        label = f"{name} step {number} ({request['method']} {request['path']})"
        assert response.status_code == expected["status"], f"{label}: {response.status_code} {response.text}"
        for header, value in expected.get("headers", {}).items():
            assert response.headers.get(header) == value, f"{label}: header {header}"
        if "json" in expected:
            match(expected["json"], response.json(), saved, label)
        if "sse" in expected:
            golden = parse_sse((FIXTURES / expected["sse"]).read_text())
            frames = parse_sse(response.text)
            assert [n for n, _ in frames] == [n for n, _ in golden], f"{label}: events {frames}"
            for index, ((_, want), (_, got)) in enumerate(zip(golden, frames, strict=True)):
                match(want, got, saved, f"{label} event {index}")
        for key, path in step.get("save", {}).items():
            saved[key] = dig(response.json(), path)
