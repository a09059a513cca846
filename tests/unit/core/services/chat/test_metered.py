"""The metered provider passes a turn's stream through unchanged while it times the first token,
counts failures, and keeps the open-stream count true however the stream ends (early close
included, which must still stop the provider's own stream)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from switchboard.core.domain.chat import ProviderCall
from switchboard.core.domain.errors import UpstreamTimeout
from switchboard.core.domain.events import Finish, TextDelta, Usage
from switchboard.core.services.chat.metered import MeteredProvider
from tests.support.fakes import ScriptedProvider

CALL = ProviderCall("up-model", [{"role": "user", "content": "hi"}])


@dataclass
class Recorded:
    """A Telemetry that keeps what it was told."""

    events: list[tuple[object, ...]] = field(default_factory=list)
    open: int = 0

    def first_token(self, model: str, seconds: float) -> None:
        self.events.append(("first_token", model, seconds))

    def tokens(self, model: str, prompt: int, completion: int) -> None:
        self.events.append(("tokens", model, prompt, completion))

    def stream_opened(self) -> None:
        self.open += 1

    def stream_closed(self) -> None:
        self.open -= 1

    def provider_failed(self, provider: str, error: str) -> None:
        self.events.append(("provider_failed", provider, error))

    def cooldown_started(self, provider: str) -> None:
        self.events.append(("cooldown", provider))

    def quota_refused(self, reason: str) -> None:
        self.events.append(("quota", reason))


def ticking() -> Callable[[], float]:
    ticks = itertools.count()
    return lambda: float(next(ticks))


async def test_the_first_token_is_timed_once_and_events_pass_unchanged() -> None:
    inner = ScriptedProvider([Usage(3, 0), TextDelta("a"), TextDelta("b"), Finish("stop")], name="up")
    telemetry = Recorded()
    metered = MeteredProvider(inner, telemetry, "gpt-test", monotonic=ticking())
    batches = [events async for events in metered.stream(CALL)]
    assert batches == [[Usage(3, 0)], [TextDelta("a")], [TextDelta("b")], [Finish("stop")]]
    assert telemetry.events == [("first_token", "gpt-test", 1.0)]  # the usage event is no token
    assert telemetry.open == 0 and metered.name == "up"


async def test_an_unstreamed_call_has_no_first_token_to_time() -> None:
    inner = ScriptedProvider([[TextDelta("whole"), Finish("stop"), Usage(3, 1)]], name="up")
    telemetry = Recorded()
    whole = ProviderCall("up-model", [{"role": "user", "content": "hi"}], streamed=False)
    batches = [events async for events in MeteredProvider(inner, telemetry, "gpt-test").stream(whole)]
    assert batches == [[TextDelta("whole"), Finish("stop"), Usage(3, 1)]]
    assert telemetry.events == [] and telemetry.open == 0


async def test_a_failure_is_counted_by_provider_and_code() -> None:
    inner = ScriptedProvider([TextDelta("a"), UpstreamTimeout("slow")], name="up")
    telemetry = Recorded()
    metered = MeteredProvider(inner, telemetry, "gpt-test")
    with pytest.raises(UpstreamTimeout):
        async for _ in metered.stream(CALL):
            pass
    assert telemetry.events[-1] == ("provider_failed", "up", "upstream_timeout")
    assert telemetry.open == 0


async def test_closing_early_closes_the_provider_stream_too() -> None:
    inner = ScriptedProvider([TextDelta("a"), TextDelta("b"), TextDelta("c")], name="up")
    telemetry = Recorded()
    stream = MeteredProvider(inner, telemetry, "gpt-test").stream(CALL)
    assert await anext(stream) == [TextDelta("a")]
    assert telemetry.open == 1
    await stream.aclose()  # type: ignore[attr-defined]
    assert telemetry.open == 0 and inner.abandoned == 1
