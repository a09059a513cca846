"""Serving one aiohttp low-level handler on a port until cancelled (the bench's own servers)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web_request, web_server
from aiohttp.web import StreamResponse

Handler = Callable[[web_request.BaseRequest], Awaitable[StreamResponse]]


async def listen(handler: Handler, host: str, port: int, ready: asyncio.Future[int] | None, banner: str) -> None:
    """`ready` receives the bound port (useful with port 0); without it, `banner` (with `{url}`) is printed."""
    server = web_server.Server(handler, access_log=None)
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(server, host, port, backlog=2048, reuse_address=True)
    bound = listener.sockets[0].getsockname()[1]
    if ready is not None:
        ready.set_result(bound)
    else:
        print(banner.format(url=f"http://{host}:{bound}"), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        listener.close()
        await server.shutdown(1.0)
