"""The load generator: closed-loop workers on one aiohttp client, bounded in requests and time.

A *target* knows how to phrase one request on its wire and how to count the tokens in what comes
back; a `Load` drives one target with `concurrency` workers until `max_requests` are done or
`seconds` have passed (then it waits at most `grace` more seconds for requests in flight and
cancels the rest: it always stops by itself). Targets must be on 127.0.0.1. A load may be driven
in several blocks, taking turns with other targets' loads, so that whatever else the machine does
at one moment falls on every target alike (bench/run.py interleaves them).

Measured per run: requests/s and latency p50/p99 for plain requests; for streams, time to first
token (the first network read that carries a content token), total time, and chunks/s (content
chunks received by all workers / wall time). Counting is done on whole network reads with
`bytes.count`, so the generator spends as little of the shared CPU as possible.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import aiohttp
import orjson

Kind = Literal["plain", "stream"]
PROMPT = "Say something for the benchmark."


class Target(Protocol):
    name: str
    base_url: str

    async def prepare(self, session: aiohttp.ClientSession, requests: int, concurrency: int) -> None:
        """Called before the timed part: create whatever `requests` requests by `concurrency`
        workers will need."""

    def request(self, kind: Kind, model: str, worker: int) -> tuple[str, bytes, dict[str, str]]:
        """(path, body, headers) of the next request of this worker."""

    def tokens(self, block: bytes) -> int:
        """How many content tokens complete SSE lines in `block` carry."""

    def failed(self, block: bytes) -> bool:
        """Whether complete SSE lines in `block` report an error."""


def local_only(url: str) -> str:
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost"):
        raise ValueError(f"the benchmark only targets 127.0.0.1, not {url}")
    return url.rstrip("/")


@dataclass
class OpenAITarget:
    """Anything speaking OpenAI's /v1/chat/completions: the upstream itself, the relay, a gateway."""

    name: str
    base_url: str  # ending in /v1
    api_key: str | None = None

    def __post_init__(self) -> None:
        self.base_url = local_only(self.base_url)
        self._headers = {"Content-Type": "application/json"}
        if self.api_key:
            self._headers["Authorization"] = f"Bearer {self.api_key}"
        self._bodies: dict[tuple[Kind, str], bytes] = {}

    async def prepare(self, session: aiohttp.ClientSession, requests: int, concurrency: int) -> None:
        return None

    def request(self, kind: Kind, model: str, worker: int) -> tuple[str, bytes, dict[str, str]]:
        body = self._bodies.get((kind, model))
        if body is None:
            payload: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": PROMPT}]}
            if kind == "stream":
                payload["stream"] = True
                payload["stream_options"] = {"include_usage": True}
            body = self._bodies[(kind, model)] = orjson.dumps(payload)
        return "/chat/completions", body, self._headers

    def tokens(self, block: bytes) -> int:
        # compact JSON (every server here uses orjson) or with a space after the colon
        return (block.count(b'"content":"') - block.count(b'"content":""')
                + block.count(b'"content": "') - block.count(b'"content": ""'))

    def failed(self, block: bytes) -> bool:
        return b'"error"' in block


@dataclass
class NativeTarget:
    """Switchboard's own API: POST /api/messages/ (plain) and /api/messages/stream (SSE) with a
    bearer token. Conversations grow with every turn, so each worker moves to another one every
    `turns_per_conversation` turns. They are created in `prepare`, before the clock starts (at
    most `max_conversations`; after that the workers cycle through them again)."""

    name: str
    base_url: str
    token: str
    turns_per_conversation: int = 10
    max_conversations: int = 600
    prior_turns: int = 0  # questions and answers each new conversation gets before the clock starts
    _ring: deque[str] = field(default_factory=deque)
    _current: dict[int, tuple[str, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.base_url = local_only(self.base_url)
        self._headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}

    async def prepare(self, session: aiohttp.ClientSession, requests: int, concurrency: int) -> None:
        wanted = min(math.ceil(requests / self.turns_per_conversation) + concurrency, self.max_conversations)
        semaphore = asyncio.Semaphore(8)

        async def create() -> None:
            async with semaphore, session.post(self.base_url + "/api/conversations", headers=self._headers,
                                               json={"title": "bench", "tools_enabled": False}) as response:
                payload = await response.json(loads=orjson.loads)
                if response.status != 201:
                    raise RuntimeError(f"{self.name}: could not create a conversation: {payload}")
                conversation = payload["data"]["id"]
            for _ in range(self.prior_turns):  # a long conversation: its history is read every turn
                async with session.post(self.base_url + "/api/messages/", headers=self._headers, json={
                        "conversation_id": conversation, "content": PROMPT, "model": "bench-20",
                        "tools_enabled": False}) as response:
                    if response.status != 200:
                        raise RuntimeError(f"{self.name}: a history turn failed: {await response.text()}")
            self._ring.append(conversation)

        await asyncio.gather(*(create() for _ in range(max(0, wanted - len(self._ring)))))
        self._current.clear()

    def request(self, kind: Kind, model: str, worker: int) -> tuple[str, bytes, dict[str, str]]:
        conversation, turns = self._current.get(worker, ("", self.turns_per_conversation))
        if turns >= self.turns_per_conversation:
            conversation, turns = self._ring.popleft(), 0
            self._ring.append(conversation)  # reused, with its history, once all were used
        self._current[worker] = (conversation, turns + 1)
        body = orjson.dumps({"conversation_id": conversation, "content": PROMPT, "model": model,
                             "tools_enabled": False})
        return ("/api/messages/stream" if kind == "stream" else "/api/messages/"), body, self._headers

    def tokens(self, block: bytes) -> int:
        return block.count(b"event: text\n")

    def failed(self, block: bytes) -> bool:
        return b"event: error\n" in block


@dataclass
class Outcome:
    ok: bool
    latency: float  # seconds from sending to the end of the body
    ttft: float | None = None  # seconds to the first content token (streams)
    tokens: int = 0


@dataclass
class LoadResult:
    target: str
    kind: Kind
    concurrency: int
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    ttft_p50_ms: float | None = None
    ttft_p99_ms: float | None = None
    chunks: int = 0
    chunks_per_s: float | None = None
    first_error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # filled by the runner (CPU, RSS ...)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


async def one_request(
    session: aiohttp.ClientSession, target: Target, kind: Kind, model: str, worker: int, expected: int | None,
) -> Outcome:
    path, body, headers = target.request(kind, model, worker)
    started = time.perf_counter()
    async with session.post(target.base_url + path, data=body, headers=headers) as response:
        if kind == "plain":
            await response.read()
            return Outcome(response.status == 200, time.perf_counter() - started)
        ttft: float | None = None
        tokens, tail, failed = 0, b"", response.status != 200
        async for data in response.content.iter_any():
            cut = data.rfind(b"\n")
            if cut < 0:
                tail += data
                continue
            block, tail = tail + data[: cut + 1], data[cut + 1:]
            found = target.tokens(block)
            if found:
                if ttft is None:
                    ttft = time.perf_counter() - started
                tokens += found
            elif target.failed(block):
                failed = True
        payload = tail
    ok = not failed and not (expected is not None and tokens != expected) and not target.failed(payload)
    return Outcome(ok, time.perf_counter() - started, ttft, tokens)


@dataclass
class Load:
    """One target's load, driven in one or several blocks on one client session (its connections
    stay open between blocks); `result()` summarises every block together."""

    target: Target
    kind: Kind
    model: str
    concurrency: int
    expected_tokens: int | None = None
    grace: float = 30.0
    outcomes: list[Outcome] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall: float = 0.0
    _session: aiohttp.ClientSession | None = None

    async def open(self, requests: int, warmup: int, seconds: float) -> None:
        connector = aiohttp.TCPConnector(limit=self.concurrency, limit_per_host=self.concurrency, force_close=False)
        timeout = aiohttp.ClientTimeout(total=seconds + self.grace)
        self._session = aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False)
        await self.target.prepare(self._session, requests + warmup, self.concurrency)
        # untimed: open every worker's connection and warm caches, `concurrency` at a time (one
        # after another, a paced stream's warm-up took minutes and opened a single connection)
        for start in range(0, warmup, self.concurrency):
            batch = range(start, min(start + self.concurrency, warmup))
            await asyncio.gather(*(one_request(self._session, self.target, self.kind, self.model,
                                               i % self.concurrency, None) for i in batch))

    async def drive(self, max_requests: int, seconds: float) -> None:
        """Closed loop: `concurrency` workers each send one request after another until
        `max_requests` are done or `seconds` have passed (then at most `grace` more)."""
        session = self._session
        assert session is not None, "open() first"
        issued = itertools.count()
        deadline = time.perf_counter() + seconds

        async def worker(index: int) -> None:
            while next(issued) < max_requests and time.perf_counter() < deadline:
                try:
                    self.outcomes.append(await one_request(session, self.target, self.kind, self.model, index,
                                                           self.expected_tokens))
                except (aiohttp.ClientError, TimeoutError) as exc:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                    self.outcomes.append(Outcome(False, 0.0))

        started = time.perf_counter()
        workers = [asyncio.create_task(worker(i)) for i in range(self.concurrency)]
        _, pending = await asyncio.wait(workers, timeout=seconds + self.grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self.wall += time.perf_counter() - started

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def result(self) -> LoadResult:
        good = [o for o in self.outcomes if o.ok]
        latencies = [o.latency for o in good]
        ttfts = [o.ttft for o in good if o.ttft is not None]
        chunks = sum(o.tokens for o in self.outcomes)
        bad = len(self.outcomes) - len(good)
        errors = self.errors or (["wrong status, error event or wrong token count"] if bad else [])
        wall, stream = self.wall, self.kind == "stream"
        return LoadResult(
            target=self.target.name, kind=self.kind, concurrency=self.concurrency, requests=len(good), errors=bad,
            seconds=round(wall, 3), rps=len(good) / wall if wall else 0.0,
            p50_ms=percentile(latencies, 0.5) * 1000, p99_ms=percentile(latencies, 0.99) * 1000,
            ttft_p50_ms=percentile(ttfts, 0.5) * 1000 if stream else None,
            ttft_p99_ms=percentile(ttfts, 0.99) * 1000 if stream else None,
            chunks=chunks, chunks_per_s=chunks / wall if stream and wall else None,
            first_error=errors[0] if errors else None,
        )
