"""The legacy completions API (`prompt` in, `text` out) served by a provider's chat API, for
providers that no longer offer /completions. Pure functions over the OpenAI wire shapes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

# request fields both APIs share; the rest of a completions body has no chat equivalent
_SHARED = ("model", "max_tokens", "temperature", "top_p", "n", "stream", "stream_options", "stop",
           "presence_penalty", "frequency_penalty", "seed", "user", "logit_bias")


def wants_usage(body: dict[str, Any]) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and bool(options.get("include_usage"))


def chat_body(body: dict[str, Any]) -> dict[str, Any]:
    prompt = body.get("prompt")
    text = "\n".join(str(p) for p in prompt) if isinstance(prompt, list) else str(prompt or "")
    chat = {name: body[name] for name in _SHARED if name in body}
    chat["messages"] = [{"role": "user", "content": text}]
    return chat


def completion_from_chat(raw: bytes) -> bytes:
    chat = json.loads(raw)
    out = {
        "id": str(chat.get("id", "")).replace("chatcmpl", "cmpl", 1), "object": "text_completion",
        "created": chat.get("created"), "model": chat.get("model"),
        "choices": [_choice(c, (c.get("message") or {}).get("content")) for c in chat.get("choices") or ()],
    }
    if chat.get("usage"):
        out["usage"] = chat["usage"]
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode()


async def completion_chunks(chat_sse: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Re-shapes every chat chunk (this path is rare, so it may parse each one)."""
    try:
        async for ready in chat_sse:
            out = []
            for event in ready.split(b"\n\n"):
                payload = event.strip()[5:].strip() if event.strip().startswith(b"data:") else b""
                if not payload:
                    continue
                if payload == b"[DONE]":
                    out.append(b"data: [DONE]\n\n")
                    continue
                chunk = json.loads(payload)
                shaped = {
                    "id": str(chunk.get("id", "")).replace("chatcmpl", "cmpl", 1), "object": "text_completion",
                    "created": chunk.get("created"), "model": chunk.get("model"),
                    "choices": [_choice(c, (c.get("delta") or {}).get("content") or "")
                                for c in chunk.get("choices") or ()],
                }
                if chunk.get("usage"):
                    shaped["usage"] = chunk["usage"]
                elif not _has_news(chunk):
                    continue  # the opening role-only chunk has nothing to say in this API
                out.append(b"data: " + json.dumps(shaped, ensure_ascii=False).encode() + b"\n\n")
            if out:
                yield b"".join(out)
    finally:
        await chat_sse.aclose()  # type: ignore[attr-defined]


def _has_news(chunk: dict[str, Any]) -> bool:
    return any((c.get("delta") or {}).get("content") or c.get("finish_reason") for c in chunk.get("choices") or ())


def _choice(choice: dict[str, Any], text: Any) -> dict[str, Any]:
    return {"text": text or "", "index": choice.get("index", 0), "logprobs": None,
            "finish_reason": choice.get("finish_reason")}
