"""The token loop of the gateway: relays a provider's SSE bytes and learns only what accounting needs.

Network chunks are passed on whole once their events are complete (an event ends with a blank
line), so nothing is re-serialised. Only events whose bytes show a usage object or an error are
parsed; the usage-only chunk the gateway asked for on the client's behalf is dropped when the
client did not ask for it itself. Counting `data:` lines gives an estimate of the answer's length
for streams that end before the provider reports usage (a client that left).
"""

from __future__ import annotations

from typing import Any

from pydantic_core import from_json

_USAGE_MARK = b'"usage":{'
_USAGE_MARK_SPACED = b'"usage": {'
_ERROR_MARK = b'"error"'


class StreamScanner:
    __slots__ = ("_collect", "_strip_usage", "_tail", "error", "events", "finish_reason", "texts", "usage")

    def __init__(self, *, strip_usage: bool, collect_text: bool = False) -> None:
        self._strip_usage = strip_usage
        self._collect = collect_text
        self._tail = b""
        self.events = 0  # data events seen (about one token each)
        self.usage: dict[str, Any] | None = None
        self.error: str | None = None
        self.texts: list[str] = []  # the answer's text, only with collect_text (content logging)
        self.finish_reason: str | None = None

    def feed(self, chunk: bytes) -> bytes:
        """What may be sent on now (complete events only); b"" when an event is still partial."""
        data = self._tail + chunk if self._tail else chunk
        end = data.rfind(b"\n\n")
        if end < 0:
            end = data.rfind(b"\r\n\r\n")
            if end < 0:
                self._tail = data
                return b""
            cut = end + 4
        else:
            cut = end + 2
        ready, self._tail = (data, b"") if cut == len(data) else (data[:cut], data[cut:])
        return self._scan(ready)

    def flush(self) -> bytes:
        """A last event the provider ended without its blank line."""
        tail, self._tail = self._tail, b""
        return self._scan(tail + b"\n\n") if tail.strip() else b""

    def _scan(self, ready: bytes) -> bytes:
        self.events += ready.count(b"data:")
        if self._collect or _worth_parsing(ready):
            return self._inspect(ready)
        return ready

    def _inspect(self, ready: bytes) -> bytes:
        kept: list[bytes] = []
        for event in ready.replace(b"\r\n", b"\n").split(b"\n\n"):
            if not event.strip():
                continue
            if not (self._collect or _worth_parsing(event)):  # e.g. the finish chunk beside the usage
                kept.append(event + b"\n\n")
                continue
            payload = _payload(event)
            chunk = _load(payload) if payload and payload != b"[DONE]" else None
            if isinstance(chunk, dict):
                if chunk.get("error"):
                    self.error = _error_text(chunk["error"])
                    break  # nothing after a provider's error is relayed
                if isinstance(chunk.get("usage"), dict):
                    self.usage = chunk["usage"]
                    if self._strip_usage and not chunk.get("choices"):
                        continue
                if self._collect:
                    self._read_text(chunk)
            kept.append(event + b"\n\n")
        return b"".join(kept)

    def _read_text(self, chunk: dict[str, Any]) -> None:
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            text = delta.get("content") if isinstance(delta, dict) else None
            text = text if isinstance(text, str) else choice.get("text")  # legacy completions
            if isinstance(text, str) and text:
                self.texts.append(text)
            if choice.get("finish_reason"):
                self.finish_reason = str(choice["finish_reason"])


def _worth_parsing(data: bytes) -> bool:
    return _ERROR_MARK in data or _USAGE_MARK in data or _USAGE_MARK_SPACED in data


def usage_numbers(usage: dict[str, Any] | None) -> tuple[int, int] | None:
    """(prompt, completion) from an OpenAI usage object; chat, completions and embeddings alike."""
    if not usage:
        return None
    prompt = int(usage.get("prompt_tokens") or usage.get("input_tokens") or 0)
    completion = usage.get("completion_tokens", usage.get("output_tokens"))
    if completion is None:
        completion = max(int(usage.get("total_tokens") or 0) - prompt, 0)
    return prompt, int(completion)


def _payload(event: bytes) -> bytes | None:
    for line in event.split(b"\n"):
        if line.startswith(b"data:"):
            return line[5:].strip()
        if line.startswith(b"{"):
            return line  # a bare JSON error line, as some gateways send
    return None


def _load(payload: bytes) -> Any:
    try:
        return from_json(payload)
    except ValueError:
        return None


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("type") or "the provider failed mid-stream")
    return str(error)[:300]

_CHAT_STOP = (b'data: {"id":"chatcmpl-capped","object":"chat.completion.chunk","created":0,'
              b'"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}\n\ndata: [DONE]\n\n')
_COMPLETION_STOP = (b'data: {"id":"cmpl-capped","object":"text_completion","created":0,'
                    b'"choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"length"}]}\n\n'
                    b'data: [DONE]\n\n')


def first_events(ready: bytes, count: int) -> bytes:
    """The first `count` data events of complete events (comments between them kept)."""
    kept: list[bytes] = []
    for event in ready.replace(b"\r\n", b"\n").split(b"\n\n"):
        if count <= 0:
            break
        if event.strip():
            kept.append(event + b"\n\n")
            count -= event.count(b"data:")
    return b"".join(kept)


def length_stop(chat: bool) -> bytes:
    """The end the gateway gives a stream it cut at the hold: finish_reason "length", as a
    provider ends an answer that reached max_tokens."""
    return _CHAT_STOP if chat else _COMPLETION_STOP
