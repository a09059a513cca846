"""What the gateway sends upstream and reads back, without I/O: the client's body with only the
model rewritten and usage switched on, and the few numbers accounting needs."""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json

from switchboard.core.ports.gateway import Multipart
from switchboard.core.ports.system import TokenCounter


def upstream_body(body: dict[str, Any], raw: bytes | Multipart, model: str, stream: bool) -> bytes | Multipart:
    if isinstance(raw, Multipart):
        return Multipart({**raw.fields, "model": model}, raw.files)
    options = body.get("stream_options")
    needs_usage = stream and not (isinstance(options, dict) and options.get("include_usage"))
    if raw and model == body.get("model"):
        if not needs_usage:
            return raw  # the common case: the client's bytes as they came
        if "stream_options" not in body:
            start = raw.find(b"{")  # splice the option in rather than re-encode a long conversation
            if start >= 0:
                return raw[:start + 1] + b'"stream_options":{"include_usage":true},' + raw[start + 1:]
    changed = {**body, "model": model}
    if needs_usage:
        changed["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
    return to_json(changed)


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
