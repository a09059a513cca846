"""uvicorn with one write per whole response (app/coalescing.py): the header block waits for the
body only until the end of the loop step, so a stream's or a HEAD answer's headers still go out
at once, and every byte goes out in uvicorn's order."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from switchboard.app.coalescing import CoalescingHttpToolsProtocol, HeaderHoldingTransport
from tests.support.fakes import eventually
from tests.support.serve_process import free_port


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = self.aborted = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def writelines(self, chunks: list[bytes]) -> None:
        self.writes.append(b"".join(chunks))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_extra_info(self, name: str) -> str:
        return f"info {name}"


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


def holding() -> tuple[HeaderHoldingTransport, FakeTransport]:
    real = FakeTransport()
    return HeaderHoldingTransport(real, asyncio.get_running_loop()), real  # type: ignore[arg-type]


async def test_headers_and_a_body_written_in_the_same_loop_step_go_out_in_one_write() -> None:
    transport, real = holding()
    transport.write(HEAD)
    transport.write(b"{}")
    assert real.writes == [HEAD + b"{}"]
    await asyncio.sleep(0)
    assert real.writes == [HEAD + b"{}"]


async def test_headers_alone_go_out_at_the_end_of_the_loop_step() -> None:
    transport, real = holding()
    transport.write(HEAD)
    assert real.writes == []
    await asyncio.sleep(0)
    assert real.writes == [HEAD]
    transport.write(b"data: 1\n\n")  # a stream's events pass straight through
    assert real.writes == [HEAD, b"data: 1\n\n"]


async def test_a_close_writes_the_held_headers_first_and_an_abort_drops_them() -> None:
    transport, real = holding()
    transport.write(HEAD)
    transport.close()
    assert (real.writes, real.closed) == ([HEAD], True)
    await asyncio.sleep(0)
    assert real.writes == [HEAD]

    transport, real = holding()
    transport.write(HEAD)
    transport.abort()
    await asyncio.sleep(0)
    assert (real.writes, real.aborted) == ([], True)


async def test_writelines_keeps_the_order_and_the_rest_is_the_real_transports() -> None:
    transport, real = holding()
    transport.write(HEAD)
    transport.writelines([b"a", b"b"])
    assert real.writes == [HEAD, b"ab"]
    assert transport.get_extra_info("peername") == "info peername"


async def test_headers_held_for_a_connection_closed_meanwhile_are_not_written() -> None:
    transport, real = holding()
    transport.write(HEAD)
    real.closed = True  # the client went away: uvloop's transport is closing
    await asyncio.sleep(0)
    assert real.writes == []


@pytest.fixture
async def server() -> AsyncIterator[tuple[int, asyncio.Event]]:
    """uvicorn on the coalescing protocol; `/stream` sends its headers, then its body once the
    test sets the event."""
    release = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/stream":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            await release.wait()
            await send({"type": "http.response.body", "body": b"late", "more_body": False})
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"11")]})
        await send({"type": "http.response.body", "body": b'{"ok":true}'})

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=CoalescingHttpToolsProtocol, loop="none",
                            log_level="error", lifespan="off")
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    await eventually(lambda: uv.started)
    try:
        yield port, release
    finally:
        uv.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def read_response(reader: asyncio.StreamReader, head_only: bool = False) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    if head_only:
        return head, b""
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    return head, await reader.readexactly(length)


async def test_uvicorn_answers_whole_responses_head_requests_and_streams_as_before(
    server: tuple[int, asyncio.Event],
) -> None:
    port, release = server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(2):  # keep-alive: the same connection answers again
            writer.write(b"GET /json HTTP/1.1\r\nhost: t\r\n\r\n")
            head, body = await read_response(reader)
            assert head.startswith(b"HTTP/1.1 200 OK\r\n") and body == b'{"ok":true}'
        writer.write(b"HEAD /json HTTP/1.1\r\nhost: t\r\n\r\n")  # headers only, never a body
        head, _ = await read_response(reader, head_only=True)
        assert b"content-length: 11" in head
        writer.write(b"GET /stream HTTP/1.1\r\nhost: t\r\n\r\n")
        head, _ = await read_response(reader, head_only=True)  # before the body exists
        assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"transfer-encoding: chunked" in head
        release.set()
        assert await reader.readuntil(b"0\r\n\r\n") == b"4\r\nlate\r\n0\r\n\r\n"
    finally:
        writer.close()
