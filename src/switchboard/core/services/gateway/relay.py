"""The OpenAI-compatible gateway: any OpenAI client, one place for keys, quotas, routing and usage.

    principal = await gateway.authenticate(token)            # cached a few seconds: the hot path
    answer = await gateway.call(principal, CHAT, body, raw)  # body parsed by the face, raw as sent

Rules, in order (the face has checked the `chat` scope its routes declare): a key's allowed models, then its requests-
and tokens-per-minute limits; the user's quota is held (limited users: one atomic conditional
UPDATE for a block of their allowance, a quota lease, from which many calls' holds are cut in
memory (quotas.leases); unlimited users are metered without one; a key with a token quota of its
own is held per call against the key and the user); providers are tried in the router's order, the
next one when an attempt fails before its first byte. The client's JSON goes upstream as sent,
with only `model` rewritten, `stream_options.include_usage` switched on and, when the call holds a
limited number of tokens, the answer's length capped to the hold (body.answer_cap); the
provider's bytes come back unchanged (see stream), except that a stream running past the cap is
ended with finish_reason "length". Usage is settled once, after the answer, off the request path
(usage), never overdrawing an allowance or a key's quota; with `log_content` the exchange is
stored as a conversation.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from pydantic_core import from_json

from switchboard.core.domain.errors import (
    Forbidden,
    InvalidInput,
    RateLimited,
    Unauthenticated,
    UpstreamError,
    UpstreamTimeout,
)
from switchboard.core.domain.quotas import UsageEntry
from switchboard.core.domain.users import Principal
from switchboard.core.ports.gateway import Multipart, ProviderRouter, RateLimiter, RelayProvider, RelayReply
from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.ports.system import Clock, TokenCounter
from switchboard.core.services.accounts.auth import AccountService
from switchboard.core.services.gateway import legacy
from switchboard.core.services.gateway.body import answer_cap, answer_text, prompt_estimate, upstream_body
from switchboard.core.services.gateway.content_log import exchange_of
from switchboard.core.services.gateway.stream import StreamScanner, first_events, length_stop, usage_numbers
from switchboard.core.services.gateway.usage import Settlement, UsageSettler
from switchboard.core.services.quotas.allowances import STREAM_SLACK_EVENTS, Hold, QuotaService, metered_key
from switchboard.core.services.quotas.leases import QuotaLeases


@dataclass(frozen=True, slots=True)
class GatewayPolicy:
    log_content: bool = False
    lease_tokens: int = 20_000  # quota lease block per limited user; 0: one reservation per call
    lease_idle_seconds: float = 5.0  # an unused lease goes back to the database after this long


@dataclass(frozen=True, slots=True)
class Endpoint:
    path: str  # under the provider's base URL
    source: str  # the usage ledger's name for it
    streams: bool = False


CHAT = Endpoint("/chat/completions", "chat", streams=True)
COMPLETIONS = Endpoint("/completions", "completion", streams=True)
EMBEDDINGS = Endpoint("/embeddings", "embedding")
IMAGES = Endpoint("/images/generations", "image")
IMAGE_EDITS = Endpoint("/images/edits", "image")
SPEECH = Endpoint("/audio/speech", "speech")
TRANSCRIPTIONS = Endpoint("/audio/transcriptions", "audio")


@dataclass(slots=True)
class Answer:
    """A provider's answer: the whole body, or a stream of SSE bytes to relay as they come."""

    content_type: str
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    provider: str = ""


@dataclass(slots=True)
class _Flight:
    """One call in the air: what settling it needs."""

    principal: Principal
    endpoint: Endpoint
    model: str
    hold: Hold
    body: dict[str, Any]
    started: float  # monotonic, for the time to the first token


class GatewayService:
    def __init__(
        self, accounts: AccountService, uow: UnitOfWork, router: ProviderRouter, limiter: RateLimiter | None,
        quotas: QuotaService, counter: TokenCounter, clock: Clock, policy: GatewayPolicy,
        *, monotonic: Callable[[], float] = time.monotonic, settle_interval: float = 0.05,
    ) -> None:
        self._accounts = accounts
        self._uow = uow
        self._router = router
        self._limiter = limiter
        self._quotas = quotas
        self._counter = counter
        self._clock = clock
        self.policy = policy
        self._monotonic = monotonic
        self._telemetry = quotas.telemetry  # the runtime's, which the quota service carries
        self.settler = UsageSettler(uow, limiter, interval=settle_interval, telemetry=quotas.telemetry)
        self.leases = QuotaLeases(
            uow, quotas, block=policy.lease_tokens, idle_seconds=policy.lease_idle_seconds, monotonic=monotonic,
            writing=self.settler.writing,
        ) if policy.lease_tokens > 0 else None

    async def authenticate(self, token: str | None) -> Principal:
        """A bearer credential (an API key, or a JWT) -> its Principal, with the key's limits and
        the user's quota kind; resolved once per `auth_cache_seconds` (accounts.principal_from_token)."""
        if not token:
            raise Unauthenticated("missing credentials: send 'Authorization: Bearer <API key>'")
        return await self._accounts.principal_from_token(token)

    async def call(self, principal: Principal, endpoint: Endpoint, body: dict[str, Any],
                   raw: bytes | Multipart) -> Answer:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise InvalidInput("you must provide a model parameter", param="model")
        if principal.allowed_models and model not in principal.allowed_models:
            raise Forbidden(f"this API key may not use the model '{model}'", param="model")
        rpm, tpm = principal.rpm_limit, principal.tpm_limit
        if self._limiter is not None and (rpm or tpm):
            wait = await self._limiter.acquire(_rate_key(principal), rpm=rpm, tpm=tpm)
            if wait is not None:
                limit = f"{rpm} requests" if rpm else f"{tpm} tokens"
                raise RateLimited(f"rate limit of this API key reached ({limit} per minute)", retry_after=wait)
        stream = endpoint.streams and body.get("stream") is True
        hold = await self._hold(principal, body)
        flight = _Flight(principal, endpoint, model, hold, body, self._monotonic())
        try:
            return await self._answer(flight, raw, stream)
        except BaseException:
            if hold.tokens:
                await (self.leases if hold.leased and self.leases else self._quotas).release(hold)
            raise

    async def flush(self) -> None:
        """Write the usage queued so far and give the quota leases back (tests, shutdown)."""
        await self.settler.flush()
        if self.leases is not None:
            await self.leases.return_all()

    async def close(self) -> None:
        if self.leases is not None:
            await self.leases.close()
        await self.settler.close()
        if self._limiter is not None:
            await self._limiter.close()

    # -- the call -----------------------------------------------------------------------------
    async def _answer(self, flight: _Flight, raw: bytes | Multipart, stream: bool) -> Answer:
        endpoint, budget = flight.endpoint, flight.hold.completion_budget
        try:
            reply, provider = await self._open(flight.model, endpoint, flight.body, raw, stream, budget)
        except UpstreamError as exc:
            if endpoint is not COMPLETIONS or exc.status not in (404, 405):
                raise
            # the provider has no legacy completions API: ask its chat API instead
            chat = legacy.chat_body(flight.body)
            reply, provider = await self._open(flight.model, CHAT, chat, b"", stream, budget)
            if stream:
                relayed = self._relay(flight, reply, bool(legacy.wants_usage(flight.body)), provider, chat_shaped=True)
                return Answer("text/event-stream", stream=legacy.completion_chunks(relayed), provider=provider)
            answer = await self._whole(flight, reply, provider)
            answer.body = legacy.completion_from_chat(answer.body)
            return answer
        if stream:
            asked = bool((flight.body.get("stream_options") or {}).get("include_usage"))
            relayed = self._relay(flight, reply, asked, provider, chat_shaped=endpoint is CHAT)
            return Answer("text/event-stream", stream=relayed, provider=provider)
        return await self._whole(flight, reply, provider)

    async def _open(
        self, model: str, endpoint: Endpoint, body: dict[str, Any], raw: bytes | Multipart, stream: bool,
        budget: int | None,
    ) -> tuple[RelayReply, str]:
        last: UpstreamError | None = None
        media = endpoint.source not in ("chat", "completion")
        field = "max_completion_tokens" if endpoint is CHAT else "max_tokens"
        cap = None if media else answer_cap(body, budget, field)
        for provider, upstream_model in await self._router.candidates(model, media=media):
            payload = upstream_body(body, raw, upstream_model, stream, cap)
            try:
                reply = await provider.relay(endpoint.path, payload, model=upstream_model, stream=stream)
            except UpstreamError as exc:
                self._telemetry.provider_failed(provider.name, exc.code)
                if not _worth_another(exc):
                    raise  # the request itself is wrong: another provider would refuse it too
                self._router.report(provider.name, False, exc.message)
                last = exc
                continue
            self._router.report(provider.name, True)
            return reply, provider.name
        assert last is not None  # the router never returns an empty list
        raise last

    async def _whole(self, flight: _Flight, reply: RelayReply, provider: str) -> Answer:
        body = await reply.read()
        usage = None
        if "json" in reply.content_type:
            try:
                parsed = from_json(body)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                usage = usage_numbers(parsed.get("usage"))
                text = answer_text(parsed) if self.policy.log_content else None
                self._settle(flight, usage, 0, text)
                return Answer(reply.content_type, body, provider=provider)
        self._settle(flight, usage, 0, None)
        return Answer(reply.content_type, body, provider=provider)

    async def _relay(
        self, flight: _Flight, reply: RelayReply, client_asked_usage: bool, provider: str, *, chat_shaped: bool
    ) -> AsyncIterator[bytes]:
        scanner = StreamScanner(strip_usage=not client_asked_usage, collect_text=self.policy.log_content)
        budget = flight.hold.completion_budget
        cut = None if budget is None else budget + STREAM_SLACK_EVENTS
        self._telemetry.stream_opened()
        try:
            async for chunk in reply.chunks():
                before = scanner.events
                ready = scanner.feed(chunk)
                if not before and scanner.events:  # the answer's first event: the client waited this long
                    self._telemetry.first_token(flight.model, self._monotonic() - flight.started)
                if scanner.error is not None:
                    if ready:
                        yield ready
                    self._telemetry.provider_failed(provider, "upstream_error")
                    raise UpstreamError(f"the provider failed mid-stream: {scanner.error}")
                if cut is not None and scanner.events > cut and scanner.usage is None:
                    # the provider ignored the cap: pass on what fits and end the answer here
                    yield first_events(ready, cut - before) + length_stop(chat_shaped)
                    return
                if ready:
                    yield ready
            tail = scanner.flush()
            if tail:
                yield tail
        finally:
            self._telemetry.stream_closed()
            reply.close()  # before the end of the body this stops the provider generating
            text = "".join(scanner.texts) if self.policy.log_content else None
            self._settle(flight, usage_numbers(scanner.usage), scanner.events, text)

    # -- accounting ---------------------------------------------------------------------------
    async def _hold(self, principal: Principal, body: dict[str, Any]) -> Hold:
        estimate = prompt_estimate(self._counter, body)
        limit = body.get("max_completion_tokens") or body.get("max_tokens")
        limit = limit if isinstance(limit, int) and limit > 0 else None
        if metered_key(principal) is None:
            if principal.unlimited:  # metered, never refused: no reservation to make
                return Hold(principal.user_id, 0, estimate, None)
            if self.leases is not None:
                return await self.leases.hold(principal, estimate, limit)
        return await self._quotas.reserve(principal, estimate, limit)  # a key's own quota: held per call

    def _settle(self, flight: _Flight, usage: tuple[int, int] | None, events: int, text: str | None) -> None:
        """Never awaits: runs in a stream's `finally`, possibly while the task is being cancelled."""
        estimated = usage is None
        prompt, completion = usage if usage is not None else (flight.hold.prompt_estimate, max(events - 1, 0))
        principal = flight.principal
        entry = UsageEntry(
            user_id=principal.user_id, tokens_prompt=prompt, tokens_completion=completion, model=flight.model,
            created_at=self._clock.now(), key_id=principal.key_id, source=flight.endpoint.source,
            estimated=estimated,
        )
        exchange = exchange_of(principal, flight.model, flight.body, text, entry.created_at) if (
            text is not None) else None
        rate_key = _rate_key(principal) if principal.tpm_limit else None
        hold = flight.hold
        reserved = self.leases.finish(hold, prompt + completion) if self.leases is not None and hold.leased else None
        self.settler.settle(Settlement(hold, entry, rate_key, exchange, reserved))


def _rate_key(principal: Principal) -> str:
    """Whose per-minute counters a call counts against: its API key's, else its user's."""
    return principal.key_id or f"user:{principal.user_id}"


def _worth_another(error: UpstreamError) -> bool:
    """Failures that say nothing about the request: connect errors, 429, 5xx, a timeout before the
    first byte, or a provider refusing its own key."""
    return error.retryable or isinstance(error, UpstreamTimeout) or error.status in (401, 403)


__all__ = ["CHAT", "COMPLETIONS", "EMBEDDINGS", "IMAGES", "IMAGE_EDITS", "SPEECH", "TRANSCRIPTIONS", "Answer",
           "Endpoint", "GatewayPolicy", "GatewayService", "RelayProvider"]
