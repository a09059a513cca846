"""Server-sent events decoded for the token loop: network chunks in, `data` payloads out.

OpenAI-compatible servers put one JSON document on each `data:` line, so every data line is one
payload (multi-line data fields, which no such server sends, are not joined). Comments
(`: keep-alive`), `event:`/`id:`/`retry:` lines and blank separators carry nothing a provider
adapter needs and are dropped. A line may arrive split across several network chunks; the
unfinished tail is kept until its newline arrives.
"""

from __future__ import annotations

DONE = b"[DONE]"


class SSEDecoder:
    __slots__ = ("_tail",)

    def __init__(self) -> None:
        self._tail = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """The payloads of every line completed by `chunk`, in order."""
        data = self._tail + chunk if self._tail else chunk
        lines = data.split(b"\n")
        self._tail = lines.pop()  # no newline yet: wait for the rest of it
        if b"\r" not in data:
            # what nearly every read is: `data: ` lines and blank separators only, taken in one
            # comprehension; any other line (a comment, `event:`, a bare JSON error) reads line by line
            payloads = [line[6:] for line in lines if line[:6] == b"data: "]
            if len(payloads) + lines.count(b"") == len(lines):
                return payloads
        payloads = []
        for line in lines:
            # the line nearly every chunk is, without a function call; blank separators skipped
            if line.startswith(b"data: ") and not line.endswith(b"\r"):
                payloads.append(line[6:])
            elif line and (payload := _payload(line)) is not None:
                payloads.append(payload)
        return payloads

    def flush(self) -> list[bytes]:
        """The payload of a last line the server ended without a newline."""
        tail, self._tail = self._tail, b""
        payload = _payload(tail) if tail else None
        return [] if payload is None else [payload]


def _payload(line: bytes) -> bytes | None:
    if line.endswith(b"\r"):
        line = line[:-1]
    if line.startswith(b"data:"):
        payload = line[5:]
        return payload[1:] if payload.startswith(b" ") else payload
    if line.startswith(b"{"):
        # a bare JSON line: some gateways answer an error this way even on a 200 stream
        return line
    return None
