"""Replays golden Mio-Chat frame sequences over a real WebSocket.

A fixture is `{"upstream": [Reply fields ...], "steps": [{"send": frame, "expect": [frames]}]}`:
the upstream replies are queued first; each step sends its frame and reads the frames that carry
one of the fixture's request_ids until as many as expected arrived (pushes and other requests'
frames are skipped), matching each with the native golden placeholders ("<int>", "<str>", ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from tests.contract.native.golden import match
from tests.integration.miochat.conftest import MioWs
from tests.support.upstream import Reply, ScriptedUpstream, ToolCallReply

FIXTURES = Path(__file__).parent / "fixtures"


def _reply(spec: dict[str, Any]) -> Reply:
    calls = [ToolCallReply(**call) for call in spec.pop("tool_calls", [])]
    return Reply(tool_calls=calls, **spec)


async def replay(name: str, ws: MioWs, upstream: ScriptedUpstream) -> list[dict[str, Any]]:
    fixture = orjson.loads((FIXTURES / name).read_bytes())
    upstream.push(*(_reply(dict(spec)) for spec in fixture.get("upstream", [])))
    ids = {step["send"].get("request_id") for step in fixture["steps"] if isinstance(step["send"], dict)}
    ids |= {frame.get("request_id") for step in fixture["steps"] for frame in step["expect"]}
    received: list[dict[str, Any]] = []
    for number, step in enumerate(fixture["steps"]):
        await ws.send(step["send"])
        got: list[dict[str, Any]] = []
        while len(got) < len(step["expect"]):
            frame = await ws.recv()
            if frame.get("request_id") in ids:
                got.append(frame)
        for index, (want, frame) in enumerate(zip(step["expect"], got, strict=True)):
            match(want, frame, {}, f"{name} step {number} frame {index}")
        received.extend(got)
    return received
