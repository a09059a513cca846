"""A minimal, fast OpenAI-wire server for the benchmark (its own process; 127.0.0.1 only).

    python -m bench.fake_upstream --port 9100

Routes: POST /v1/chat/completions (plain and `stream: true`), GET /v1/models. The answer's shape
comes from the model name, so a client needs no special headers:

    bench-<chunks>            that many content chunks, as fast as possible
    bench-<chunks>-<ms>ms     paced: chunk i is sent at start + i * ms (no drift)

Headers `x-bench-chunks` and `x-bench-pace-ms` override the name. Every chunk carries the same
short token, so answers are built once per (model, chunks) and reused as prebuilt bytes. Usage
is reported in plain answers always and in streams when `stream_options.include_usage` is set
(prompt tokens: request bytes / 4, a stable stand-in). Uses aiohttp's low-level server (no
router, no middleware) on uvloop.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from dataclasses import dataclass

import orjson
from aiohttp import web

from bench.listen import listen

TOKEN = "tok "
DEFAULT_CHUNKS = 20
_NAME = re.compile(r"bench-(\d+)(?:-(\d+(?:\.\d+)?)ms)?$")
_MAX_CHUNKS = 100_000
_CACHE_LIMIT = 256
BENCH_MODELS = ("bench-20", "bench-200", "bench-200-10ms")


@dataclass(frozen=True, slots=True)
class Answer:
    """Prebuilt bytes of one answer: the streamed frames (role chunk, content chunks, finish)
    and the plain JSON body without usage (added per request)."""

    head: bytes
    frame: bytes
    finish: bytes
    plain_prefix: bytes


def shape(model: str, headers: dict[str, str] | None = None) -> tuple[int, float]:
    """(content chunks, pause between chunks in seconds) asked for by a model name or headers."""
    chunks, pace_ms = DEFAULT_CHUNKS, 0.0
    match = _NAME.search(model)
    if match:
        chunks = int(match.group(1))
        pace_ms = float(match.group(2) or 0)
    if headers:
        if "x-bench-chunks" in headers:
            chunks = int(headers["x-bench-chunks"])
        if "x-bench-pace-ms" in headers:
            pace_ms = float(headers["x-bench-pace-ms"])
    return max(0, min(chunks, _MAX_CHUNKS)), max(pace_ms, 0.0) / 1000


def build_answer(model: str, chunks: int) -> Answer:
    def data(payload: dict[str, object]) -> bytes:
        return b"data: " + orjson.dumps(payload) + b"\n\n"

    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 0, "model": model}
    head = data({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                      "finish_reason": None}]})
    frame = data({**base, "choices": [{"index": 0, "delta": {"content": TOKEN}, "finish_reason": None}]})
    finish = data({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    plain = orjson.dumps({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": TOKEN * chunks},
                     "finish_reason": "stop"}],
    })
    return Answer(head, frame, finish, plain[:-1])  # without the closing brace: usage follows


def usage_bytes(prompt: int, completion: int) -> bytes:
    return orjson.dumps({"prompt_tokens": prompt, "completion_tokens": completion,
                         "total_tokens": prompt + completion})


class FakeUpstream:
    def __init__(self) -> None:
        self._answers: dict[tuple[str, int], Answer] = {}
        self._models = orjson.dumps({"object": "list", "data": [
            {"id": m, "object": "model", "created": 0, "owned_by": "bench"} for m in BENCH_MODELS
        ]})

    def answer(self, model: str, chunks: int) -> Answer:
        key = (model, chunks)
        built = self._answers.get(key)
        if built is None:
            if len(self._answers) >= _CACHE_LIMIT:
                self._answers.clear()
            built = self._answers[key] = build_answer(model, chunks)
        return built

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.path == "/v1/chat/completions" and request.method == "POST":
            return await self._chat(request)
        if request.path == "/v1/models" and request.method == "GET":
            return web.Response(body=self._models, content_type="application/json")
        return web.Response(status=404, body=b'{"error":{"message":"not found"}}', content_type="application/json")

    async def _chat(self, request: web.BaseRequest) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = orjson.loads(raw)
            model = str(body.get("model") or "bench")
        except (orjson.JSONDecodeError, AttributeError):
            return web.Response(status=400, body=b'{"error":{"message":"bad JSON"}}', content_type="application/json")
        chunks, pace = shape(model, dict(request.headers) if "x-bench-chunks" in request.headers
                             or "x-bench-pace-ms" in request.headers else None)
        answer = self.answer(model, chunks)
        prompt = max(1, len(raw) // 4)
        if not body.get("stream"):
            payload = answer.plain_prefix + b',"usage":' + usage_bytes(prompt, chunks) + b"}"
            return web.Response(body=payload, content_type="application/json")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        await response.write(answer.head)
        if pace:
            loop = asyncio.get_running_loop()
            start = loop.time()
            for i in range(1, chunks + 1):
                delay = start + i * pace - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                await response.write(answer.frame)
        else:
            frame = answer.frame
            for _ in range(chunks):
                await response.write(frame)
        tail = answer.finish
        options = body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            tail += b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":0,"choices":[],' \
                    b'"usage":' + usage_bytes(prompt, chunks) + b"}\n\n"
        await response.write(tail + b"data: [DONE]\n\n")
        await response.write_eof()
        return response


async def serve(host: str, port: int, ready: asyncio.Future[int] | None = None) -> None:
    """Serves until cancelled; `ready` receives the bound port (useful with port 0)."""
    await listen(FakeUpstream().handle, host, port, ready, "fake upstream on {url}/v1")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="fast fake OpenAI-wire upstream for the benchmark")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost"):
        parser.error("the benchmark's servers listen on 127.0.0.1 only")
    import uvloop

    uvloop.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
