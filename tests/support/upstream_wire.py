"""What the scripted upstream (tests/support/upstream.py) hears and says: the scripted replies,
the recorded requests, and the OpenAI wire shapes its handlers build."""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import BodyPartReader, web


@dataclass
class ToolCallReply:
    name: str
    arguments: str = "{}"  # JSON text, streamed in several pieces
    id: str | None = None  # default: call_<n>


@dataclass
class Reply:
    """One scripted answer. Defaults give a plain, successful streamed reply."""

    text: str = ""
    chunks: int | list[str] | None = None  # None: word by word; int: that many pieces; list: as given
    reasoning: str = ""  # streamed as reasoning_content deltas before the text
    tool_calls: list[ToolCallReply] = field(default_factory=list)
    usage: tuple[int, int] | str | None = "auto"  # (prompt, completion); None: never report usage
    finish_reason: str | None = None  # default: "tool_calls" with tool calls, else "stop"
    chunk_delay: float = 0.0  # pause between streamed chunks (the opening role chunk goes at once)
    # hold the stream after this many chunks (role chunk counted) until `gate` is set: lets a
    # test see what reached the client mid-answer without any timing
    gate: asyncio.Event | None = None
    gate_after: int = 2
    first_byte_delay: float = 0.0  # pause before the response starts (status line included)
    status: int = 200
    error_body: dict[str, Any] | None = None  # body of an error status; default: OpenAI's shape
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"Retry-After": "1"}
    fail_after_chunks: int | None = None  # cut the connection after this many chunks (role chunk not counted)
    stream_error: str | None = None  # an in-stream {"error": ...} object after the chunks
    keepalive: bool = False  # interleave ": keep-alive" comments, as some gateways do
    write_size: int | None = None  # split every write into pieces this many bytes long
    model: str | None = None  # default: the requested model
    json_body: Any = None  # answer exactly this JSON (non-chat routes, or a non-streamed chat)
    raw_stream: bytes | None = None  # a streamed chat answer exactly as given (a recorded provider stream)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    json: Any  # parsed body, None for a GET
    peer: tuple[str, int] | None = None  # the client's address: same port = same pooled connection
    form: dict[str, Any] | None = None  # multipart fields: str, or FormFile for uploaded files


@dataclass
class FormFile:
    filename: str | None
    content_type: str
    data: bytes


class Chunks:
    """chat.completion.chunk events of one stream."""

    def __init__(self, completion_id: str, model: str) -> None:
        self.base = {"id": completion_id, "object": "chat.completion.chunk", "created": int(time.time()),
                     "model": model}

    def delta(self, delta: dict[str, Any]) -> bytes:
        return sse({**self.base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})

    def finish(self, reason: str) -> bytes:
        return sse({**self.base, "choices": [{"index": 0, "delta": {}, "finish_reason": reason}]})

    def usage(self, usage: dict[str, int]) -> bytes:
        return sse({**self.base, "choices": [], "usage": usage})


def completion_body(completion_id: str, model: str, reply: Reply, body: dict[str, Any],
                calls: list[tuple[str, ToolCallReply]]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.reasoning:
        message["reasoning_content"] = reply.reasoning
    if calls:
        message["tool_calls"] = [
            {"id": call_id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for call_id, c in calls
        ]
    out: dict[str, Any] = {
        "id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason_of(reply)}],
    }
    usage = usage_of(reply, body)
    if usage:
        out["usage"] = usage
    return out


# the smallest valid PNG (1x1, transparent), and recognisable stand-ins for audio and video
PNG_PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
SPEECH_BYTES = b"ID3\x04\x00scripted-speech"
VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42scripted-video"


def embedding_of(text: str, dimensions: int = 8) -> list[float]:
    """A deterministic vector per text, so tests can tell inputs apart."""
    seed = sum(text.encode()) or 1
    return [((seed * (i + 3)) % 97) / 97 for i in range(dimensions)]


async def read_form(request: web.Request) -> dict[str, Any]:
    form: dict[str, Any] = {}
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or part.name is None:
            continue
        data = await part.read()
        if part.filename is None:
            form[part.name] = data.decode()
        else:
            form[part.name] = FormFile(part.filename, part.headers.get("Content-Type", ""), bytes(data))
    return form


def pieces(text: str, chunks: int | list[str] | None) -> list[str]:
    if not text:
        return []
    if isinstance(chunks, list):
        return chunks
    if chunks is None:
        words = text.split(" ")
        return [w + " " for w in words[:-1]] + [words[-1]] if len(words) > 1 else [text]
    size = max(-(-len(text) // max(chunks, 1)), 1)
    return [text[i:i + size] for i in range(0, len(text), size)]


def finish_reason_of(reply: Reply) -> str:
    return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")


def usage_of(reply: Reply, body: dict[str, Any]) -> dict[str, int] | None:
    if reply.usage is None:
        return None
    if isinstance(reply.usage, tuple):
        prompt, completion = reply.usage
    else:  # "auto": rough but deterministic
        prompt = len(orjson.dumps(body.get("messages") or [])) // 4 + 1
        completion = len(pieces(reply.text, reply.chunks)) + len(pieces(reply.reasoning, reply.chunks))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def echo_text(body: Any) -> str:
    messages = body.get("messages") if isinstance(body, dict) else None
    for message in reversed(messages or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(p.get("text", "") for p in content if p.get("type") == "text")
            return f"Echo: {content}"
    return "Echo:"


def openai_error_body(status: int) -> dict[str, Any]:
    kinds = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
             429: "rate_limit_error"}
    return {"error": {"message": f"scripted error {status}", "type": kinds.get(status, "server_error"),
                      "param": None, "code": None}}


def error_response(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": "invalid_request_error"}}, status=status)


def sse(obj: Any) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()
