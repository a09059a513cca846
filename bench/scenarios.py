"""What the benchmark runs: the targets, the scenarios and the targets' pass marks.

Extending it (e.g. the /v1 gateway): add a target to `build_targets` (an `OpenAITarget` on
`stack.switchboard.url + "/v1"` with `stack.api_key`), list it in a scenario's `targets`, and add
`Check`s comparing it with "direct". Every scenario's first target is its reference ("direct").
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from bench.harness import Stack
from bench.litellm import MASTER_KEY
from bench.load import Kind, LoadResult, NativeTarget, OpenAITarget, Target

NATIVE = ("direct", "relay", "switchboard-native")
# the OpenAI-compatible gateway against both references (and LiteLLM's proxy, when BENCH_LITELLM names one)
GATEWAY = ("direct", "relay", "switchboard-v1", "litellm")


def build_targets(stack: Stack) -> dict[str, Target]:
    """Every target this stack can serve; a scenario's targets missing here are left out."""
    targets: dict[str, Target] = {
        "direct": OpenAITarget("direct", stack.upstream.url + "/v1"),
        "relay": OpenAITarget("relay", stack.relay.url + "/v1"),
        "switchboard-native": NativeTarget("switchboard-native", stack.switchboard.url, stack.token),
        "switchboard-v1": OpenAITarget("switchboard-v1", stack.switchboard.url + "/v1", stack.api_key),
    }
    # conversations of 200 prior messages, kept for the whole run: the turn's cost with a long history
    targets["switchboard-native-long"] = NativeTarget("switchboard-native-long", stack.switchboard.url, stack.token,
                                                      turns_per_conversation=10**9, prior_turns=100)
    if stack.litellm is not None:
        targets["litellm"] = OpenAITarget("litellm", stack.litellm.url + "/v1", MASTER_KEY)
    return targets


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
    blocks: int = 1  # >1: the targets take turns, this many blocks each (bench/run.py)

    def tiny(self) -> Scenario:
        """The smoke-test size: a handful of requests, a second or two. A paced answer keeps its
        chunks but comes 1 ms apart: still paced, in 0.1-0.2 s instead of 1-5 s (the smoke test's
        wall time went mostly to waiting for paced answers)."""
        return replace(self, concurrency=min(self.concurrency, 4), max_requests=min(self.max_requests, 8),
                       seconds=min(self.seconds, 2.0), warmup=0, blocks=min(self.blocks, 2),
                       model=re.sub(r"-\d+ms$", "-1ms", self.model))


SCENARIOS: list[Scenario] = [
    Scenario("plain-c1", "plain", "bench-20", 1, 3000, 6, warmup=20,
             about="non-streaming, one client: the latency one hop adds"),
    # and the gateway in the same run: issue 20 sets the stored turn's req/s against the gateway's
    Scenario("plain-c16", "plain", "bench-20", 16, 40000, 6, (*NATIVE, "switchboard-v1"), warmup=32,
             about="non-streaming, 16 clients"),
    Scenario("plain-c64", "plain", "bench-20", 64, 40000, 6, warmup=64, about="non-streaming, 64 clients"),
    Scenario("plain-long-c1", "plain", "bench-20", 1, 3000, 6,
             ("direct", "switchboard-native", "switchboard-native-long"), warmup=20,
             about="non-streaming, one client, conversations of 200 prior messages vs short ones"),
    Scenario("stream-c64", "stream", "bench-200", 64, 20000, 8, expected_tokens=200, warmup=64,
             about="200-chunk answers as fast as they come, 64 clients: chunks/s"),
    Scenario("stream-paced-c16", "stream", "bench-200-10ms", 16, 64, 15, expected_tokens=200, warmup=16,
             about="200 chunks paced 10 ms (a 2 s answer), 16 clients: time to first token, total time"),
    Scenario("gw-plain-c1", "plain", "bench-20", 1, 3000, 6, GATEWAY, warmup=20, blocks=3,
             about="gateway /v1, non-streaming, one client: the latency the gateway adds"),
    Scenario("gw-plain-c16", "plain", "bench-20", 16, 40000, 6, GATEWAY, warmup=32, blocks=3,
             about="gateway /v1, non-streaming, 16 clients: requests/s against the do-nothing relay"),
    # The added TTFT is a difference of two medians near 11 ms that each swing by a millisecond
    # or two with whatever else the machine does (one target after another, the relay's own added
    # TTFT ranged 0.2-2.5 ms over five runs). So: 24 rounds, in 8 blocks, the targets taking turns.
    Scenario("gw-stream-paced-c16", "stream", "bench-100-10ms", 16, 384, 24, GATEWAY, expected_tokens=100,
             warmup=16, blocks=8, about="gateway /v1, 100 chunks paced 10 ms, 16 clients: TTFT and total time"),
    Scenario("gw-stream-paced-c64", "stream", "bench-100-10ms", 64, 1536, 24, GATEWAY, expected_tokens=100,
             warmup=64, blocks=8, about="gateway /v1, 100 chunks paced 10 ms, 64 clients: TTFT and total time"),
    # the relay shows the floor: what any Python hop's 1,000 cold upstream connections cost the burst
    Scenario("gw-streams-1000", "stream", "bench-100-50ms", 1000, 1000, 30, ("direct", "relay", "switchboard-v1"),
             expected_tokens=100, about="gateway /v1, 1,000 streams open at once (5 s answers): TTFT, peak RSS"),
    Scenario("gw-stream-c200", "stream", "bench-200", 200, 10**6, 45, ("direct", "relay", "switchboard-v1"),
             expected_tokens=200, warmup=200,
             about="gateway /v1, 200 clients for 45 s, 200-chunk answers as fast as they come: TTFT p99 vs p50"),
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
    versus: str = ""  # a second reference ("relay"): then measure(result, reference, that one's result)

    def evaluate(self, result: LoadResult, reference: LoadResult,
                 runs: dict[str, LoadResult] | None = None) -> tuple[float, bool]:
        if self.versus:
            value = self.measure(result, reference, (runs or {})[self.versus])  # type: ignore[call-arg]
        else:
            value = self.measure(result, reference)
        return value, (value <= self.limit) if self.at_most else (value >= self.limit)


def _added_ttft(result: LoadResult, reference: LoadResult) -> float:
    return (result.ttft_p50_ms or 0.0) - (reference.ttft_p50_ms or 0.0)


def _total_ratio(result: LoadResult, reference: LoadResult) -> float:
    return result.p50_ms / reference.p50_ms if reference.p50_ms else float("inf")


def _chunks_ratio(result: LoadResult, reference: LoadResult) -> float:
    return (result.chunks_per_s or 0.0) / reference.chunks_per_s if reference.chunks_per_s else 0.0


def _ttft_ratio(result: LoadResult, reference: LoadResult) -> float:
    return (result.ttft_p50_ms or 0.0) / reference.ttft_p50_ms if reference.ttft_p50_ms else float("inf")


def _ttft_tail(result: LoadResult, reference: LoadResult) -> float:
    """p99 over p50 of the target's own time to first token (the reference is not used)."""
    return (result.ttft_p99_ms or 0.0) / result.ttft_p50_ms if result.ttft_p50_ms else float("inf")


def _added_p50(result: LoadResult, reference: LoadResult) -> float:
    return result.p50_ms - reference.p50_ms


def _rps_vs(result: LoadResult, reference: LoadResult, other: LoadResult) -> float:
    return result.rps / other.rps if other.rps else 0.0


def _added_ttft_vs(result: LoadResult, reference: LoadResult, other: LoadResult) -> float:
    """The gateway's added TTFT as a multiple of what the do-nothing relay adds (floored at 0.1 ms)."""
    return _added_ttft(result, reference) / max(_added_ttft(other, reference), 0.1)


def _hop_cpu(result: LoadResult, reference: LoadResult) -> float:
    """The hop process's CPU ms per request (bench/run.py); infinite when nothing was measured."""
    return float(result.extra.get("hop_cpu_ms_per_request") or math.inf)


def _added_hop_cpu_vs(result: LoadResult, reference: LoadResult, other: LoadResult) -> float:
    return _hop_cpu(result, reference) - _hop_cpu(other, reference)


# What a 200-message conversation may add to a turn's CPU (issue 20: "the turn's cost does not grow
# with history length beyond the provider payload itself"). `python -m bench.payload_cost` measures
# that payload — the history as provider messages, its token estimate and its JSON — for the newest
# 100 messages (`history_messages`) against the short conversations' 9 on average: 124-127 µs more
# per turn (2026-12-06, load average 3.6). The limit is twice that: the same again for sending the
# ~10 KB larger body and for the spread of two hop-CPU figures taken one after the other in a run.
LONG_HISTORY_ALLOWANCE_MS = 0.25

CHECKS: list[Check] = [
    # issue 20's targets for the stored (native) turn
    Check("hop CPU per stored plain turn, c1", "plain-c1", "switchboard-native", _hop_cpu, 1.5,
          at_most=True, unit="ms"),
    Check("hop CPU per stored plain turn, c16", "plain-c16", "switchboard-native", _hop_cpu, 1.5,
          at_most=True, unit="ms"),
    Check("stored turn req/s vs the gateway's, plain, c16", "plain-c16", "switchboard-native", _rps_vs, 0.35,
          at_most=False, unit="x", versus="switchboard-v1"),
    Check("added hop CPU per turn, 200-message history vs short", "plain-long-c1", "switchboard-native-long",
          _added_hop_cpu_vs, LONG_HISTORY_ALLOWANCE_MS, at_most=True, unit="ms", versus="switchboard-native"),
    Check("streamed chunks/s vs direct, unpaced, c64", "stream-c64", "switchboard-native",
          _chunks_ratio, 0.50, at_most=False, unit="x"),
    Check("added time to first token p50, paced, c16", "stream-paced-c16", "switchboard-native",
          _added_ttft, 5.0, at_most=True, unit="ms"),
    # the foundation's, not restated by issue 20
    Check("total time p50 vs direct, paced, c16", "stream-paced-c16", "switchboard-native",
          _total_ratio, 1.10, at_most=True, unit="x"),
    # the gateway's (the OpenAI issue)
    Check("gateway added p50 latency, plain, c1", "gw-plain-c1", "switchboard-v1", _added_p50, 1.5,
          at_most=True, unit="ms"),
    Check("gateway req/s vs the do-nothing relay, plain, c16", "gw-plain-c16", "switchboard-v1", _rps_vs, 0.60,
          at_most=False, unit="x", versus="relay"),
    # restated by issue 20: at most 2x the relay's added TTFT in at least 2 of 3 runs, which is the
    # median of 3 runs (`--runs 3`, bench/report.py)
    Check("gateway added TTFT p50 vs relay's added, paced, c16", "gw-stream-paced-c16", "switchboard-v1",
          _added_ttft_vs, 2.0, at_most=True, unit="x", versus="relay"),
    Check("gateway added TTFT p50 vs relay's added, paced, c64", "gw-stream-paced-c64", "switchboard-v1",
          _added_ttft_vs, 1.5, at_most=True, unit="x", versus="relay"),
    Check("gateway total time p50 vs direct, paced, c16", "gw-stream-paced-c16", "switchboard-v1",
          _total_ratio, 1.05, at_most=True, unit="x"),
    Check("gateway total time p50 vs direct, paced, c64", "gw-stream-paced-c64", "switchboard-v1",
          _total_ratio, 1.05, at_most=True, unit="x"),
    # issue 20's: the 1,000-stream burst and the tail under 200 streams
    Check("gateway TTFT p50 vs direct, 1,000 streams at once", "gw-streams-1000", "switchboard-v1",
          _ttft_ratio, 2.0, at_most=True, unit="x"),
    Check("gateway TTFT p99 over its p50, 200 streams for 45 s", "gw-stream-c200", "switchboard-v1",
          _ttft_tail, 3.0, at_most=True, unit="x"),
]


def models_used(scenarios: list[Scenario]) -> list[str]:
    return list(dict.fromkeys(s.model for s in scenarios))
