"""A real OpenAI-compatible HTTP server on 127.0.0.1, scripted per test (pytest plugin).

    async def test_something(upstream):
        upstream.models = ["gpt-test"]
        upstream.push(Reply(text="Hello world", usage=(10, 2)))
        upstream.push(Reply(status=429, headers={"Retry-After": "0"}))  # queued after the first
        ... point a provider at upstream.base_url ...
        assert upstream.requests[-1].json["model"] == "gpt-test"

Replies are consumed in order, one queue per route (`push(reply, path=...)`); an empty queue
answers with a default reply ("Echo: <last user message>"). Outside pytest (the benchmark):

    async with ScriptedUpstream() as up: ...

New endpoints are one handler each: write `async def handler(upstream, request, reply) ->
web.StreamResponse` and register it with `upstream.route("POST", "/v1/things/{id}", handler)` (or
add it to `ScriptedUpstream.ROUTES`); a `{name}` path segment matches any one segment, and that
route's queue is addressed by the pattern (`push(reply, path="/v1/videos/{id}")`).

Scripted beyond chat: /v1/completions (legacy, plain and streamed), /v1/embeddings (float or
base64), /v1/images/generations and /v1/images/edits (b64_json, or a `url` served by the upstream
itself), /v1/audio/transcriptions (multipart; `Reply.text` is the transcript), /v1/audio/speech,
and the asynchronous video API: POST /v1/videos -> job, GET /v1/videos/{id} advances the job
(`video_steps` polls to complete), GET /v1/videos/{id}/content -> bytes. `Reply.json_body`
replaces any JSON answer wholesale, `Reply.raw_stream` a streamed chat answer (recorded bytes).
Multipart requests are recorded in `Received.form`.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import struct
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import orjson
import pytest_asyncio
from aiohttp import web

from tests.support.upstream_wire import (
    PNG_PIXEL,
    SPEECH_BYTES,
    VIDEO_BYTES,
    Chunks,
    FormFile,
    Received,
    Reply,
    ToolCallReply,
    completion_body,
    dumps,
    echo_text,
    embedding_of,
    error_response,
    finish_reason_of,
    openai_error_body,
    pieces,
    read_form,
    sse,
    usage_of,
)

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"


RECEIVED = web.RequestKey("received", Received)  # what a handler reads the request body from
Handler = Callable[["ScriptedUpstream", web.Request, Reply], Awaitable[web.StreamResponse]]


class ScriptedUpstream:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.models: list[str] = ["gpt-test"]
        self.requests: list[Received] = []
        self.disconnects = 0  # streams the client abandoned before they ended
        self.disconnected = asyncio.Event()
        self.video_steps = 2  # status polls before a video job completes
        # answer at most max_completion_tokens / max_tokens chunks (a token each), finish "length",
        # as real providers do; off by default: a scripted reply is answered as scripted
        self.obey_max_tokens = False
        self.videos: dict[str, dict[str, Any]] = {}
        self._queues: dict[str, deque[Reply]] = defaultdict(deque)
        self._routes: dict[tuple[str, str], Handler] = {}
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._closing = False
        for method, path, handler in self.ROUTES:
            self.route(method, path, handler)

    # -- scripting --------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    @property
    def last(self) -> Received:
        return self.requests[-1]

    def push(self, *replies: Reply, path: str = CHAT_PATH) -> None:
        self._queues[path].extend(replies)

    def reset(self) -> None:
        """Forget the script and what was received (a server shared by several tests)."""
        self._queues.clear()
        self.requests.clear()
        self.disconnects = 0
        self.disconnected.clear()
        self.obey_max_tokens = False

    def route(self, method: str, path: str, handler: Handler) -> None:
        self._routes[(method.upper(), path)] = handler

    async def wait_disconnect(self, within: float = 5.0) -> None:
        """Returns once a client abandoned a stream; TimeoutError if none did `within` seconds."""
        async with asyncio.timeout(within):
            await self.disconnected.wait()

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> ScriptedUpstream:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        # cancel handlers whose client went away, so a sleeping stream notices at once
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self._closing = True
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ScriptedUpstream:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- dispatch -----------------------------------------------------------------------------
    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        form = await read_form(request) if request.content_type == "multipart/form-data" else None
        body = b"" if form is not None else await request.read()
        payload = orjson.loads(body) if body and request.content_type == "application/json" else None
        peer = request.transport.get_extra_info("peername") if request.transport else None
        received = Received(request.method, request.path, dict(request.headers), payload, peer, form)
        self.requests.append(received)
        request[RECEIVED] = received  # handlers read the body from here (requests may interleave)
        route = self._match(request.method, request.path)
        if route is None:
            return error_response(404, f"no scripted route for {request.method} {request.path}")
        pattern, handler = route
        queue = self._queues[pattern]
        reply = queue.popleft() if queue else Reply(text=echo_text(payload) if pattern == CHAT_PATH else "")
        try:
            if reply.first_byte_delay:
                await asyncio.sleep(reply.first_byte_delay)
            if reply.status >= 400:
                body = reply.error_body or openai_error_body(reply.status)
                return web.json_response(body, status=reply.status, headers=reply.headers, dumps=dumps)
            return await handler(self, request, reply)
        except (asyncio.CancelledError, ConnectionResetError):
            if not self._closing:
                self.disconnects += 1
                self.disconnected.set()
            raise

    def _match(self, method: str, path: str) -> tuple[str, Handler] | None:
        handler = self._routes.get((method, path))
        if handler is not None:
            return path, handler
        segments = path.split("/")
        for (route_method, pattern), handler in self._routes.items():
            parts = pattern.split("/")
            if route_method == method and len(parts) == len(segments) and all(
                p == s or (p.startswith("{") and p.endswith("}")) for p, s in zip(parts, segments, strict=True)
            ):
                return pattern, handler
        return None

    # -- routes -------------------------------------------------------------------------------
    async def _models(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "scripted"} for m in self.models]
        return web.json_response({"object": "list", "data": data}, dumps=dumps)

    async def _chat(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        body = request[RECEIVED].json or {}
        reply = self._capped(reply, body) if self.obey_max_tokens else reply
        completion_id = f"chatcmpl-{next(self._ids)}"
        model = reply.model or body.get("model") or "gpt-test"
        calls = [(c.id or f"call_{next(self._ids)}", c) for c in reply.tool_calls]
        if not body.get("stream"):
            if reply.json_body is not None:
                return web.json_response(reply.json_body, dumps=dumps)
            return web.json_response(completion_body(completion_id, model, reply, body, calls), dumps=dumps)
        if reply.raw_stream is not None:
            return await self._write_stream(request, reply, [reply.raw_stream])
        stream = Chunks(completion_id, model)
        events = [stream.delta({"role": "assistant", "content": ""})]
        events += [stream.delta({"reasoning_content": p}) for p in pieces(reply.reasoning, reply.chunks)]
        events += [stream.delta({"content": p}) for p in pieces(reply.text, reply.chunks)]
        for index, (call_id, call) in enumerate(calls):
            head = {"index": index, "id": call_id, "type": "function",
                    "function": {"name": call.name, "arguments": ""}}
            events.append(stream.delta({"tool_calls": [head]}))
            for piece in pieces(call.arguments, 3):
                more = {"index": index, "function": {"arguments": piece}}
                events.append(stream.delta({"tool_calls": [more]}))
        if reply.stream_error is not None:
            events.append(sse({"error": {"message": reply.stream_error, "type": "server_error"}}))
        else:
            events.append(stream.finish(finish_reason_of(reply)))
            usage = usage_of(reply, body)
            if usage and (body.get("stream_options") or {}).get("include_usage"):
                events.append(stream.usage(usage))
            events.append(b"data: [DONE]\n\n")
        return await self._write_stream(request, reply, events)

    @staticmethod
    def _capped(reply: Reply, body: dict[str, Any]) -> Reply:
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        texts = pieces(reply.text, reply.chunks)
        if not isinstance(limit, int) or len(texts) <= limit:
            return reply
        usage = (reply.usage[0], min(reply.usage[1], limit)) if isinstance(reply.usage, tuple) else reply.usage
        return replace(reply, text="".join(texts[:limit]), chunks=texts[:limit], finish_reason="length", usage=usage)

    async def _write_stream(
        self, request: web.Request, reply: Reply, events: list[bytes]
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", **reply.headers})
        await response.prepare(request)
        for sent, event in enumerate(events):
            if reply.fail_after_chunks is not None and sent > reply.fail_after_chunks:
                assert request.transport is not None
                request.transport.close()  # the chunked body never ends: a broken stream
                return response
            if reply.chunk_delay and sent:
                await asyncio.sleep(reply.chunk_delay)
            if reply.gate is not None and sent == reply.gate_after:
                await reply.gate.wait()
            if reply.keepalive:
                event = b": keep-alive\n\n" + event
            step = reply.write_size or len(event)
            for start in range(0, len(event), step):
                await response.write(event[start:start + step])
                if reply.write_size:
                    await asyncio.sleep(0.002)  # lets each piece leave as its own segment
        await response.write_eof()
        return response

    async def _completions(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        body = request[RECEIVED].json or {}
        prompt = body.get("prompt")
        prompt = " ".join(prompt) if isinstance(prompt, list) else str(prompt or "")
        text = reply.text or f"Echo: {prompt}"
        base = {"id": f"cmpl-{next(self._ids)}", "object": "text_completion", "created": int(time.time()),
                "model": reply.model or body.get("model") or "gpt-test"}
        usage = usage_of(Reply(text=text, chunks=reply.chunks, usage=reply.usage), {"messages": [prompt]})
        if reply.json_body is not None or not body.get("stream"):
            choice = {"text": text, "index": 0, "logprobs": None, "finish_reason": finish_reason_of(reply)}
            out = reply.json_body or {**base, "choices": [choice], **({"usage": usage} if usage else {})}
            return web.json_response(out, dumps=dumps)
        events = [sse({**base, "choices": [{"text": p, "index": 0, "logprobs": None, "finish_reason": None}]})
                  for p in pieces(text, reply.chunks)]
        last = {"text": "", "index": 0, "logprobs": None, "finish_reason": finish_reason_of(reply)}
        events.append(sse({**base, "choices": [last]}))
        if usage and (body.get("stream_options") or {}).get("include_usage"):
            events.append(sse({**base, "choices": [], "usage": usage}))
        events.append(b"data: [DONE]\n\n")
        return await self._write_stream(request, reply, events)

    async def _embeddings(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        body = request[RECEIVED].json or {}
        inputs = body.get("input")
        inputs = inputs if isinstance(inputs, list) else [inputs]
        data = []
        for index, text in enumerate(inputs):
            vector = embedding_of(str(text))
            encoded: Any = vector
            if body.get("encoding_format") == "base64":
                encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        prompt = reply.usage[0] if isinstance(reply.usage, tuple) else sum(len(str(t).split()) for t in inputs)
        out = {"object": "list", "data": data, "model": body.get("model"),
               "usage": {"prompt_tokens": prompt, "total_tokens": prompt}}
        return web.json_response(reply.json_body or out, dumps=dumps)

    async def _images(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        received = request[RECEIVED]
        fields = received.json or received.form or {}
        count = int(fields.get("n") or 1)
        if fields.get("response_format") == "url":
            items = [{"url": f"http://{self.host}:{self.port}/v1/generated/{next(self._ids)}.png"}] * count
        else:
            items = [{"b64_json": base64.b64encode(PNG_PIXEL).decode(), "revised_prompt": fields.get("prompt")}]
            items *= count
        out = {"created": int(time.time()), "data": items}
        return web.json_response(reply.json_body or out, dumps=dumps)

    async def _generated(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        return web.Response(body=PNG_PIXEL, content_type="image/png")

    async def _transcription(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        form = request[RECEIVED].form or {}
        text = reply.text or "scripted transcript"
        if form.get("response_format") == "text":
            return web.Response(text=text, content_type="text/plain")
        return web.json_response(reply.json_body or {"text": text}, dumps=dumps)

    async def _speech(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        return web.Response(body=SPEECH_BYTES, content_type="audio/mpeg")

    async def _video_create(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        body = request[RECEIVED].json or request[RECEIVED].form or {}
        job = {"id": f"video_{next(self._ids)}", "object": "video", "status": "queued", "progress": 0,
               "model": body.get("model"), "seconds": body.get("seconds"), "size": body.get("size"),
               "created_at": int(time.time())}
        self.videos[job["id"]] = job
        return web.json_response(reply.json_body or job, dumps=dumps)

    async def _video_status(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        job = self.videos.get(request.path.rsplit("/", 1)[-1])
        if job is None:
            return error_response(404, "no such video")
        if reply.json_body is not None:
            job.update(reply.json_body)
        elif job["status"] in ("queued", "in_progress"):
            job["progress"] = min(100, job["progress"] + 100 // max(self.video_steps, 1))
            job["status"] = "completed" if job["progress"] >= 100 else "in_progress"
        return web.json_response(job, dumps=dumps)

    async def _video_content(self, request: web.Request, reply: Reply) -> web.StreamResponse:
        job = self.videos.get(request.path.split("/")[-2])
        if job is None or job["status"] != "completed":
            return error_response(404, "the video is not ready")
        return web.Response(body=VIDEO_BYTES, content_type="video/mp4")

    ROUTES: list[tuple[str, str, Handler]] = [
        ("POST", CHAT_PATH, _chat),
        ("GET", MODELS_PATH, _models),
        ("POST", "/v1/completions", _completions),
        ("POST", "/v1/embeddings", _embeddings),
        ("POST", "/v1/images/generations", _images),
        ("POST", "/v1/images/edits", _images),
        ("GET", "/v1/generated/{name}", _generated),
        ("POST", "/v1/audio/transcriptions", _transcription),
        ("POST", "/v1/audio/speech", _speech),
        ("POST", "/v1/videos", _video_create),
        ("GET", "/v1/videos/{id}", _video_status),
        ("GET", "/v1/videos/{id}/content", _video_content),
    ]


@pytest_asyncio.fixture
async def upstream() -> AsyncIterator[ScriptedUpstream]:
    async with ScriptedUpstream() as server:
        yield server


# the scripted upstream's whole vocabulary, for tests to import from one place
__all__ = ["CHAT_PATH", "PNG_PIXEL", "RECEIVED", "SPEECH_BYTES", "VIDEO_BYTES", "FormFile", "Received", "Reply",
           "ScriptedUpstream", "ToolCallReply", "embedding_of", "upstream"]
