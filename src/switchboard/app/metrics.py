"""`GET /metrics` in Prometheus' text format (prometheus-client): HTTP traffic by face, route
template and status, latency by face, requests and sockets open now, and at scrape time the
state of this worker's MCP servers and IM bots.

With `serve --workers N` each worker writes its numbers to PROMETHEUS_MULTIPROC_DIR (set by
`serve`) and whichever worker is scraped sums them all. Route labels are templates
(`/api/messages/{conversation_id}`), never raw paths, so the number of series stays bounded; an
unknown method counts as OTHER. The per-request cost is a few dictionary lookups: each label set's
child is looked up once and kept."""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.types import Scope

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "WS"})
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

StateReader = Callable[[], Awaitable[list[Metric]]]


class LabelledChildren:
    """Each metric's child for a label set, made by `.labels()` once and kept: the per-request
    cost is then one dictionary lookup."""

    def __init__(self) -> None:
        self._children: dict[tuple[str, ...], Any] = {}

    def __call__(self, metric: Any, *labels: str) -> Any:
        key = (metric._name, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child


class HttpMetrics:
    """The numbers every request adds to; one instance per app (its own registry)."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROCESS_DIR))
        self.registry = CollectorRegistry()
        self._requests = Counter("switchboard_http_requests", "HTTP requests and WebSockets, by face, route "
                                 "template, method and status", ["face", "route", "method", "status"],
                                 registry=self.registry)
        self._latency = Histogram("switchboard_http_request_duration_seconds", "Time from request to the end of "
                                  "the response (a stream: its whole length), by face", ["face"],
                                  buckets=_LATENCY_BUCKETS, registry=self.registry)
        self._open = Gauge("switchboard_open_requests", "Requests being answered now (streams included) and "
                           "open WebSockets, by face and kind", ["face", "kind"], registry=self.registry,
                           multiprocess_mode="livesum")
        self._child = LabelledChildren()

    def opened(self, face: str, kind: str) -> None:
        self._child(self._open, face, kind).inc()

    def closed(self, face: str, kind: str, scope: Scope, status: int | None, seconds: float) -> None:
        self._child(self._open, face, kind).dec()
        method = "WS" if kind == "websocket" else scope.get("method", "OTHER")
        route = scope.get("route")
        template = getattr(route, "path", None) or scope.get("switchboard.route") or "unmatched"
        self._child(self._requests, face, template, method if method in _METHODS else "OTHER",
                    str(status or 500)).inc()
        if kind == "http":
            self._child(self._latency, face).observe(seconds)

    def close(self) -> None:
        """A worker stopping: its open-request gauges leave the sum (counters stay counted)."""
        if self.multiprocess:
            mark_process_dead(os.getpid())

    async def exposition(self, read_state: StateReader, core: CollectorRegistry) -> bytes:
        """The scrape: every worker's numbers (multiprocess: the files hold the core's too) or this
        one's HTTP and `core` numbers, and the state now."""
        if self.multiprocess:
            scraped = [CollectorRegistry()]
            MultiProcessCollector(scraped[0])
        else:
            scraped = [self.registry, core]
        state = CollectorRegistry()
        state.register(_Snapshot(await read_state()))
        return b"".join(generate_latest(registry) for registry in [*scraped, state])


class _Snapshot:
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


def state_gauge(name: str, documentation: str, label: str, states: dict[str, str],
                all_states: tuple[str, ...]) -> GaugeMetricFamily:
    """One series per thing and possible state, 1 for the state it is in (the usual enum shape)."""
    family = GaugeMetricFamily(name, documentation, labels=[label, "state"])
    for thing, now in states.items():
        for state in all_states:
            family.add_metric([thing, state], 1.0 if state == now else 0.0)
    return family


def now() -> float:
    return time.perf_counter()
