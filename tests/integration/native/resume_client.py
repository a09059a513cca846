"""A native client that reads SSE with its event ids, leaves mid-answer and comes back (test helper)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import orjson


@dataclass(frozen=True)
class Frame:
    id: int
    name: str
    data: Any


def parse_frames(raw: str) -> list[Frame]:
    frames: list[Frame] = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        number, name, data = None, "message", []
        for line in block.split("\n"):
            if line.startswith("id:"):
                number = int(line[3:].strip())
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            assert number is not None, f"an event without an id: {block!r}"
            frames.append(Frame(number, name, orjson.loads("\n".join(data))))
    return frames


async def start_and_leave(client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any],
                          texts_before_leaving: int) -> list[Frame]:
    """Starts a streamed answer and closes the connection after that many text events."""
    frames: list[Frame] = []
    async with client.stream("POST", "/api/messages/stream", json=body, headers=headers) as response:
        assert response.status_code == 200
        block: list[str] = []
        async for line in response.aiter_lines():
            if line:
                block.append(line)
                continue
            frames.extend(parse_frames("\n".join(block)))
            block = []
            if sum(f.name == "text" for f in frames) >= texts_before_leaving:
                break  # leaving the block closes the connection mid-answer
    return frames


async def resume(client: httpx.AsyncClient, headers: dict[str, str], message_id: int,
                 last_event_id: int | None) -> tuple[httpx.Response, list[Frame]]:
    wanted = dict(headers)
    if last_event_id is not None:
        wanted["Last-Event-ID"] = str(last_event_id)
    async with client.stream("GET", f"/api/messages/{message_id}/stream", headers=wanted) as response:
        raw = (await response.aread()).decode()
    return response, parse_frames(raw) if response.status_code == 200 else []


def text_of(frames: list[Frame]) -> str:
    return "".join(f.data["delta"] for f in frames if f.name == "text")
