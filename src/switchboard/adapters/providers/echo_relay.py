"""The offline `echo` demo model behind the gateway's byte-level relay port: it answers in the
OpenAI wire format (a chat.completion, or chat.completion.chunk SSE lines), so OpenAI SDKs can
try Switchboard with no provider configured. Still a demo: it repeats the last user message."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import orjson

from switchboard.adapters.providers.echo import ECHO_MODEL, EchoProvider
from switchboard.core.domain.chat import ProviderCall
from switchboard.core.domain.errors import InvalidInput
from switchboard.core.domain.events import TextDelta, Usage
from switchboard.core.domain.ids import new_id
from switchboard.core.ports.gateway import Multipart


class EchoRelay:
    def __init__(self, echo: EchoProvider) -> None:
        self.name = "echo"
        self._echo = echo

    async def relay(self, path: str, body: bytes | Multipart, *, model: str, stream: bool) -> _EchoReply:
        if not path.endswith("/chat/completions") or isinstance(body, Multipart):
            raise InvalidInput("the offline echo model only answers chat completions", param="model")
        request = orjson.loads(body)
        call = ProviderCall(ECHO_MODEL, list(request.get("messages") or []))
        include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
        return _EchoReply(self._echo, call, stream=stream, include_usage=include_usage)


class _EchoReply:
    status = 200

    def __init__(self, echo: EchoProvider, call: ProviderCall, *, stream: bool, include_usage: bool) -> None:
        self.content_type = "text/event-stream" if stream else "application/json"
        self._echo = echo
        self._call = call
        self._include_usage = include_usage
        self._id = new_id("chatcmpl")
        self._created = int(time.time())

    async def read(self) -> bytes:
        text: list[str] = []
        usage = Usage(0, 0)
        async for events in self._echo.stream(self._call):
            for event in events:
                if isinstance(event, TextDelta):
                    text.append(event.text)
                elif isinstance(event, Usage):
                    usage = event
        message = {"role": "assistant", "content": "".join(text)}
        return orjson.dumps({
            **self._head("chat.completion"),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": _usage(usage),
        })

    async def chunks(self) -> AsyncIterator[bytes]:
        first = True
        async for events in self._echo.stream(self._call):
            for event in events:
                if isinstance(event, TextDelta):
                    delta: dict[str, Any] = {"content": event.text}
                    if first:
                        delta["role"], first = "assistant", False
                    yield self._chunk([{"index": 0, "delta": delta, "finish_reason": None}])
                elif isinstance(event, Usage):
                    yield self._chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}])
                    if self._include_usage:
                        yield self._chunk([], usage=_usage(event))
        yield b"data: [DONE]\n\n"

    def close(self) -> None:
        return None

    def _head(self, kind: str) -> dict[str, Any]:
        return {"id": self._id, "object": kind, "created": self._created, "model": ECHO_MODEL}

    def _chunk(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        return b"data: " + orjson.dumps({**self._head("chat.completion.chunk"), "choices": choices, **extra}) + b"\n\n"


def _usage(usage: Usage) -> dict[str, int]:
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.prompt_tokens + usage.completion_tokens}
