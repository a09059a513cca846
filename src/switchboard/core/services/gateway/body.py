"""What the gateway sends upstream and reads back, without I/O: the client's body with only the
model rewritten, usage switched on and, for a limited user or key, the answer's length capped to
what the call holds; and the few numbers accounting needs."""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json

from switchboard.core.ports.gateway import Multipart
from switchboard.core.ports.system import TokenCounter


def upstream_body(
    body: dict[str, Any], raw: bytes | Multipart, model: str, stream: bool, cap: dict[str, int] | None = None,
) -> bytes | Multipart:
    """`cap`: answer-length fields to set (answer_cap)."""
    if isinstance(raw, Multipart):
        return Multipart({**raw.fields, "model": model}, raw.files)
    options = body.get("stream_options")
    needs_usage = stream and not (isinstance(options, dict) and options.get("include_usage"))
    if raw and model == body.get("model") and not cap:
        if not needs_usage:
            return raw  # the common case: the client's bytes as they came
        if "stream_options" not in body:
            start = raw.find(b"{")  # splice the option in rather than re-encode a long conversation
            if start >= 0:
                return raw[:start + 1] + b'"stream_options":{"include_usage":true},' + raw[start + 1:]
    changed = {**body, "model": model, **(cap or {})}
    if needs_usage:
        changed["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
    return to_json(changed)


LIMIT_FIELDS = ("max_completion_tokens", "max_tokens")


def answer_cap(body: dict[str, Any], budget: int | None, field: str) -> dict[str, int]:
    """The length fields to send so the answer fits `budget` tokens (None: no cap): each limit the
    client gave, lowered to the budget, or else `field` set to it (`max_completion_tokens` for chat,
    which OpenAI's reasoning models require; `max_tokens` for legacy completions)."""
    if budget is None:
        return {}
    given = {name: _count(body.get(name)) for name in LIMIT_FIELDS if _count(body.get(name))}
    if not given:
        return {field: max(budget, 1)}
    return {name: max(budget, 1) for name, value in given.items() if value > budget}


def _count(value: Any) -> int:
    """A positive whole number as a client sends it, else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def prompt_estimate(counter: TokenCounter, body: dict[str, Any]) -> int:
    messages = body.get("messages")
    if isinstance(messages, list):
        return counter.count_messages([m for m in messages if isinstance(m, dict)])
    for name in ("prompt", "input"):
        value = body.get(name)
        if isinstance(value, str):
            return counter.count_text(value)
        if isinstance(value, list):
            return sum(counter.count_text(v) for v in value if isinstance(v, str)) or len(value)
    return 0


def answer_text(parsed: dict[str, Any]) -> str:
    for choice in parsed.get("choices") or ():
        if isinstance(choice, dict):
            message = choice.get("message")
            if isinstance(message, dict) and isinstance(message.get("content"), str):
                return str(message["content"])
            if isinstance(choice.get("text"), str):
                return str(choice["text"])
    return ""
