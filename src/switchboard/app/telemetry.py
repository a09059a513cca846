"""The core's telemetry (core/ports/telemetry.py) as Prometheus metrics, in a registry of the
runtime's own that `GET /metrics` adds to the HTTP numbers (or, with `--workers`, in the
multiprocess files every worker writes and the scraped one sums).

Labels stay bounded: models are names the catalog resolved, providers come from the config, the
face is the one serving the request (`FACE`, set by the app for each request and inherited by
the tasks it starts; `other` outside a request, e.g. an IM platform's own loop)."""

from __future__ import annotations

from contextvars import ContextVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from switchboard.app.metrics import LabelledChildren

FACE: ContextVar[str] = ContextVar("switchboard_face", default="other")
_FIRST_TOKEN_BUCKETS = (0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 13, 20, 30, 60, 120)


class PrometheusTelemetry:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        self._first_token = Histogram(
            "switchboard_time_to_first_token_seconds", "From a model call to its first token (native turns) or "
            "first event (gateway streams), by face and model", ["face", "model"],
            buckets=_FIRST_TOKEN_BUCKETS, registry=registry)
        self._tokens = Counter("switchboard_tokens", "Tokens charged, by model and direction (in: prompt, "
                               "out: completion)", ["model", "direction"], registry=registry)
        self._streams = Gauge("switchboard_open_streams", "Model answers streaming now, by face", ["face"],
                              registry=registry, multiprocess_mode="livesum")
        self._provider_errors = Counter("switchboard_provider_errors", "Failed provider calls, by provider and "
                                        "error code", ["provider", "error"], registry=registry)
        self._cooldowns = Counter("switchboard_provider_cooldowns", "Cool-downs started (a provider left out "
                                  "after failing repeatedly), by provider", ["provider"], registry=registry)
        self._quota_refusals = Counter("switchboard_quota_refusals", "Calls refused for want of tokens, by face "
                                       "and whose quota (user or key)", ["face", "reason"], registry=registry)
        self._child = LabelledChildren()

    def first_token(self, model: str, seconds: float) -> None:
        self._child(self._first_token, FACE.get(), model).observe(seconds)

    def tokens(self, model: str, prompt: int, completion: int) -> None:
        self._child(self._tokens, model, "in").inc(prompt)
        self._child(self._tokens, model, "out").inc(completion)

    def stream_opened(self) -> None:
        self._child(self._streams, FACE.get()).inc()

    def stream_closed(self) -> None:
        self._child(self._streams, FACE.get()).dec()

    def provider_failed(self, provider: str, error: str) -> None:
        self._child(self._provider_errors, provider, error).inc()

    def cooldown_started(self, provider: str) -> None:
        self._child(self._cooldowns, provider).inc()

    def quota_refused(self, reason: str) -> None:
        self._child(self._quota_refusals, FACE.get(), reason).inc()
