"""What the benchmark runs: the targets, the scenarios and the targets' pass marks.

Extending it (e.g. the /v1 gateway): add a target to `build_targets` (an `OpenAITarget` on
`stack.switchboard.url + "/v1"` with `stack.api_key`), list it in a scenario's `targets`, and add
`Check`s comparing it with "direct". Every scenario's first target is its reference ("direct").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from bench.harness import Stack
from bench.load import Kind, LoadResult, NativeTarget, OpenAITarget, Target

NATIVE = ("direct", "relay", "switchboard-native")


def build_targets(stack: Stack) -> dict[str, Target]:
    return {
        "direct": OpenAITarget("direct", stack.upstream.url + "/v1"),
        "relay": OpenAITarget("relay", stack.relay.url + "/v1"),
        "switchboard-native": NativeTarget("switchboard-native", stack.switchboard.url, stack.token),
    }


@dataclass(frozen=True)
class Scenario:
    name: str
    kind: Kind
    model: str  # the fake upstream reads the answer's shape from it (bench/fake_upstream.py)
    concurrency: int
    max_requests: int
    seconds: float  # stops after this long even if fewer requests were done
    targets: tuple[str, ...] = NATIVE
    expected_tokens: int | None = None  # a stream with another count is an error
    warmup: int = 0
    about: str = ""

    def tiny(self) -> Scenario:
        """The smoke-test size: a handful of requests, a second or two."""
        return replace(self, concurrency=min(self.concurrency, 4), max_requests=min(self.max_requests, 8),
                       seconds=min(self.seconds, 2.0), warmup=0)


SCENARIOS: list[Scenario] = [
    Scenario("plain-c1", "plain", "bench-20", 1, 3000, 6, warmup=20,
             about="non-streaming, one client: the latency one hop adds"),
    Scenario("plain-c16", "plain", "bench-20", 16, 40000, 6, warmup=32, about="non-streaming, 16 clients"),
    Scenario("plain-c64", "plain", "bench-20", 64, 40000, 6, warmup=64, about="non-streaming, 64 clients"),
    Scenario("stream-c64", "stream", "bench-200", 64, 20000, 8, expected_tokens=200, warmup=64,
             about="200-chunk answers as fast as they come, 64 clients: chunks/s"),
    Scenario("stream-paced-c16", "stream", "bench-200-10ms", 16, 64, 15, expected_tokens=200, warmup=16,
             about="200 chunks paced 10 ms (a 2 s answer), 16 clients: time to first token, total time"),
]


@dataclass(frozen=True)
class Check:
    """One pass mark: `measure(result, reference)` compared with `limit`."""

    description: str
    scenario: str
    target: str
    measure: Callable[[LoadResult, LoadResult], float]
    limit: float
    at_most: bool  # True: the value must be <= limit; False: >= limit
    unit: str = ""

    def evaluate(self, result: LoadResult, reference: LoadResult) -> tuple[float, bool]:
        value = self.measure(result, reference)
        return value, (value <= self.limit) if self.at_most else (value >= self.limit)


def _added_ttft(result: LoadResult, reference: LoadResult) -> float:
    return (result.ttft_p50_ms or 0.0) - (reference.ttft_p50_ms or 0.0)


def _total_ratio(result: LoadResult, reference: LoadResult) -> float:
    return result.p50_ms / reference.p50_ms if reference.p50_ms else float("inf")


def _chunks_ratio(result: LoadResult, reference: LoadResult) -> float:
    return (result.chunks_per_s or 0.0) / reference.chunks_per_s if reference.chunks_per_s else 0.0


CHECKS: list[Check] = [
    Check("added time to first token p50, paced, c16", "stream-paced-c16", "switchboard-native",
          _added_ttft, 10.0, at_most=True, unit="ms"),
    Check("total time p50 vs direct, paced, c16", "stream-paced-c16", "switchboard-native",
          _total_ratio, 1.10, at_most=True, unit="x"),
    Check("streamed chunks/s vs direct, unpaced, c64", "stream-c64", "switchboard-native",
          _chunks_ratio, 0.30, at_most=False, unit="x"),
]


def models_used(scenarios: list[Scenario]) -> list[str]:
    return list(dict.fromkeys(s.model for s in scenarios))
