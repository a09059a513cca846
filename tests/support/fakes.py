"""In-memory stand-ins for the core's ports, handed to services through their constructors.

    provider = ScriptedProvider([TextDelta("Hi"), Finish("stop"), Usage(5, 1)])
    catalog = InMemoryCatalog({"m": provider})

The database's stand-in (InMemoryUnitOfWork) is in tests/support/fake_storage.py.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from switchboard.core.domain.chat import ModelInfo, ProviderCall
from switchboard.core.domain.errors import NotFound, Unauthenticated, UnknownModel
from switchboard.core.domain.events import ProviderEvent
from switchboard.core.domain.tools import ToolContext, ToolOutcome, ToolSpec
from switchboard.core.ports.system import AccessToken

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


async def eventually(condition: Callable[[], object], within: float = 5.0, step: float = 0.005) -> None:
    """Wait until `condition()` is truthy (something another task does); TimeoutError after `within`."""
    for _ in range(max(int(within / step), 1)):
        if condition():
            return
        await asyncio.sleep(step)
    raise TimeoutError(f"condition still false after {within} s")


class FixedClock:
    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


class PlainPasswordHasher:
    """Not a hash at all: tests need speed, not secrecy."""

    async def hash(self, password: str) -> str:
        return "plain$" + password

    async def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == "plain$" + password


class FakeTokenIssuer:
    """Opaque tokens `tok-<n>` that expire `ttl` after issue, by the given clock."""

    def __init__(self, clock: FixedClock, ttl: timedelta = timedelta(hours=1)) -> None:
        self._clock = clock
        self._ttl = ttl
        self._issued: dict[str, AccessToken] = {}
        self._ids = itertools.count(1)

    def issue(self, user_id: int) -> AccessToken:
        n = next(self._ids)
        now = self._clock.now()
        token = AccessToken(f"tok-{n}", f"jti-{n}", user_id, now + self._ttl, now)
        self._issued[token.token] = token
        return token

    def read(self, token: str) -> AccessToken:
        access = self._issued.get(token)
        if access is None:
            raise Unauthenticated("the access token is invalid")
        if access.expires_at <= self._clock.now():
            raise Unauthenticated("the access token has expired")
        return access


class WordCounter:
    """One token per whitespace-separated word; one more per message. Easy to predict in asserts."""

    def count_text(self, text: str) -> int:
        return len(text.split())

    def count_messages(self, messages: list[dict[str, Any]]) -> int:
        return sum(1 + self.count_text(str(m.get("content") or "")) for m in messages)


# -- providers ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Pause:
    seconds: float


Hook = Callable[[ProviderCall], Awaitable[None]]
Step = ProviderEvent | list[ProviderEvent] | BaseException | Pause | Hook


class ScriptedProvider:
    """A ChatProvider that plays one scripted round per call: an event is yielded as a list of its
    own, a list of events as one list (as if one network read brought them), exceptions raised,
    `Pause`s slept, and hooks (async callables taking the ProviderCall) awaited in place."""

    def __init__(self, *rounds: list[Step], name: str = "scripted") -> None:
        self.name = name
        self.rounds = list(rounds)
        self.calls: list[ProviderCall] = []
        self.abandoned = 0  # streams closed or cancelled before their script ended

    async def stream(self, call: ProviderCall) -> AsyncIterator[list[ProviderEvent]]:
        self.calls.append(copy.deepcopy(call))
        script = self.rounds.pop(0) if self.rounds else []
        try:
            for step in script:
                if isinstance(step, BaseException):
                    raise step
                if isinstance(step, Pause):
                    await asyncio.sleep(step.seconds)
                elif callable(step):
                    await step(call)
                elif isinstance(step, list):
                    yield step
                else:
                    yield [step]
        except (GeneratorExit, asyncio.CancelledError):
            self.abandoned += 1
            raise

    async def list_models(self) -> list[str]:
        return []

    async def close(self) -> None:
        return None


class InMemoryCatalog:
    def __init__(self, providers: dict[str, ScriptedProvider], default: str | None = None) -> None:
        self.providers = providers
        self._default = default or next(iter(providers))
        self.cold = False
        self.resolved = 0  # calls of resolve (the awaited way)

    @property
    def default_model(self) -> str:
        return self._default

    async def models(self) -> list[ModelInfo]:
        return [ModelInfo(m, p.name, p.name) for m, p in self.providers.items()]

    async def resolve(self, model: str) -> tuple[ScriptedProvider, str]:
        self.resolved += 1
        if model not in self.providers:
            raise UnknownModel(f"unknown model '{model}'", param="model")
        return self.providers[model], "up-" + model

    def resolve_cached(self, model: str) -> tuple[ScriptedProvider, str] | None:
        """As a listing catalog: nothing is known without I/O while `cold` (a listing expired)."""
        if self.cold or model not in self.providers:
            return None
        return self.providers[model], "up-" + model


class ScriptedToolHost:
    """Tools by name -> async handler(arguments) returning a ToolOutcome (or raising)."""

    def __init__(self, tools: dict[str, Callable[[dict[str, Any]], Awaitable[ToolOutcome]]]) -> None:
        self.tools = tools
        self.calls: list[tuple[str, dict[str, Any], ToolContext]] = []

    async def specs(self) -> list[ToolSpec]:
        schema = {"type": "object", "properties": {}}
        return [ToolSpec(name, f"the {name} tool", schema, "test") for name in self.tools]

    async def call(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        if name not in self.tools:
            raise NotFound(f"no tool '{name}'")
        self.calls.append((name, arguments, ctx))
        return await self.tools[name](arguments)


class InMemoryBlobStore:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    async def put(self, key: str, data: bytes) -> None:
        self.blobs[key] = data

    async def get(self, key: str) -> bytes:
        if key not in self.blobs:
            raise NotFound("no such blob")
        return self.blobs[key]

    async def delete(self, key: str) -> None:
        self.blobs.pop(key, None)
