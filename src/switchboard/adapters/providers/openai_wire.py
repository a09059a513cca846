"""The OpenAI chat-completions wire format, read without I/O: stream chunks (or a whole unstreamed
answer) -> provider events, and HTTP failures -> DomainErrors. Pure functions, so they are tested
without a server."""

from __future__ import annotations

from typing import Any

import orjson

from switchboard.core.domain.errors import UpstreamError
from switchboard.core.domain.events import (
    Finish,
    ProviderEvent,
    ReasoningDelta,
    TextDelta,
    ToolCallDelta,
    Usage,
)


class ChunkReader:
    """Turns the JSON payloads of one stream into events; remembers the latest usage, whether the
    model said why it stopped, and how the stream failed. Plain dict access on purpose: this runs
    once per token."""

    __slots__ = ("failure", "finished", "provider", "usage")

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self.usage: Usage | None = None
        self.finished = False
        self.failure: UpstreamError | None = None  # set: nothing after it is read

    def read(self, payloads: list[bytes]) -> list[ProviderEvent]:
        """The events of these payloads, in order: all that one network read brought, so the
        layers above handle one list per read instead of one event per token. A malformed or
        error payload sets `failure` and ends the list: the events before it still count."""
        events: list[ProviderEvent] = []
        for payload in payloads:
            try:
                chunk = orjson.loads(payload)
            except orjson.JSONDecodeError:
                self.failure = UpstreamError(f"provider '{self.provider}' sent a malformed stream chunk")
                break
            if not isinstance(chunk, dict):
                continue
            error = chunk.get("error")
            if error:
                self.failure = UpstreamError(f"provider '{self.provider}' failed mid-stream: {error_message(error)}")
                break
            usage = chunk.get("usage")
            if usage:
                self.usage = read_usage(usage)
            for choice in chunk.get("choices") or ():
                if choice.get("index", 0) != 0:
                    continue  # n > 1 is not supported: follow the first choice only
                delta = choice.get("delta")
                if delta:
                    _read_delta(delta, events)
                reason = choice.get("finish_reason")
                if reason:
                    self.finished = True
                    events.append(Finish(reason))
        return events


def read_answer(provider: str, body: bytes) -> list[ProviderEvent]:
    """The events of a whole (unstreamed) chat completion, as a stream would have brought them:
    reasoning, text, each tool call whole (index = its position, as the assembler expects), the
    finish reason, usage last. A malformed body, an error object or no first choice is an
    UpstreamError: nothing of the answer counts then."""
    who = f"provider '{provider}'"
    try:
        answer = orjson.loads(body)
        if not isinstance(answer, dict):
            raise TypeError("not an object")
        if error := answer.get("error"):
            raise UpstreamError(f"{who} failed: {error_message(error)}")
        choice = next((c for c in answer.get("choices") or () if c.get("index", 0) == 0), None)
        if choice is None:
            raise UpstreamError(f"{who} sent an answer without a choice")
        events: list[ProviderEvent] = []
        # the message has a stream delta's fields (content, reasoning, tool_calls)
        if message := choice.get("message"):
            _read_delta(message, events)
        if reason := choice.get("finish_reason"):
            events.append(Finish(reason))
        if usage := answer.get("usage"):
            events.append(read_usage(usage))
    except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError) as exc:
        raise UpstreamError(f"{who} sent a malformed answer") from exc
    return events


def _read_delta(delta: dict[str, Any], events: list[ProviderEvent]) -> None:
    # DeepSeek, vLLM and most gateways say reasoning_content; OpenRouter and Ollama say reasoning
    reasoning = delta.get("reasoning_content") or delta.get("reasoning")
    if reasoning and isinstance(reasoning, str):
        events.append(ReasoningDelta(reasoning))
    content = delta.get("content")
    if content and isinstance(content, str):
        events.append(TextDelta(content))
    tool_calls = delta.get("tool_calls")
    if tool_calls:
        for position, call in enumerate(tool_calls):
            function = call.get("function") or {}
            events.append(ToolCallDelta(
                index=call.get("index", position),
                id=call.get("id") or None,
                name=function.get("name") or None,
                arguments=function.get("arguments") or "",
            ))


def read_usage(usage: dict[str, Any]) -> Usage:
    prompt = int(usage.get("prompt_tokens") or 0)
    completion = usage.get("completion_tokens")
    if completion is None:  # a few servers only report the total
        completion = max(int(usage.get("total_tokens") or 0) - prompt, 0)
    return Usage(prompt_tokens=prompt, completion_tokens=int(completion))


def error_message(error: Any) -> str:
    """The human part of an OpenAI-style error object (or whatever the server sent instead)."""
    if isinstance(error, dict):
        message = error.get("message") or error.get("error") or error.get("detail")
        if isinstance(message, dict | list):
            return error_message(message)
        if message:
            return str(message)
        return orjson.dumps(error).decode()[:300]
    if isinstance(error, list) and error:
        return error_message(error[0])
    return str(error)[:300]


def body_message(body: bytes) -> str:
    """The error message in an HTTP error body: OpenAI's {"error": {"message"}}, or the text."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace").strip()[:300] or "no details"
    if isinstance(parsed, dict) and "error" in parsed:
        return error_message(parsed["error"])
    return error_message(parsed)


def status_error(
    provider: str, status: int, body: bytes, *, model: str | None = None, retry_after: str | None = None,
) -> UpstreamError:
    """One clear DomainError for each kind of HTTP failure. The provider's own message is kept
    where it helps the user fix the request, never for authentication failures."""
    who = f"provider '{provider}'"
    if status in (401, 403):
        return UpstreamError(f"{who}: provider rejected the API key (HTTP {status})", status=status)
    if status == 429:
        return UpstreamError(f"{who}: rate limited by provider", status=status, retryable=True,
                             retry_after=_seconds(retry_after))
    detail = body_message(body)
    if status >= 500:
        return UpstreamError(f"{who}: provider failed (HTTP {status}): {detail}", status=status,
                             retryable=True)
    # the request itself was refused: the provider's param and code travel on (clients act on
    # codes such as context_length_exceeded)
    param, code = _error_fields(body)
    if status == 404:
        subject = f"model '{model}'" if model else "endpoint"
        return UpstreamError(f"{who}: {subject} not found (HTTP 404): {detail}", status=status, param=param,
                             provider_code=code)
    return UpstreamError(f"{who}: request refused (HTTP {status}): {detail}", status=status, param=param,
                         provider_code=code)


def _seconds(retry_after: str | None) -> float | None:
    try:
        return max(float(retry_after), 0.0) if retry_after else None
    except ValueError:
        return None  # an HTTP date: no hint then


def _error_fields(body: bytes) -> tuple[str | None, str | None]:
    try:
        error = orjson.loads(body).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        return None, None
    if not isinstance(error, dict):
        return None, None
    param, code = error.get("param"), error.get("code")
    return (param if isinstance(param, str) else None), (str(code) if isinstance(code, str | int) else None)
