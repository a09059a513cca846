"""Run an ASGI app on a real uvicorn server on 127.0.0.1 (random port), inside the test's loop.

    async with LiveServer(create_app(settings)) as base_url:       # lifespan runs too
        async with httpx.AsyncClient(base_url=base_url) as client: ...

Or as a fixture (import it into a conftest.py, or list this module in `pytest_plugins`):

    async def test_x(serve):
        base_url = await serve(app)          # stopped after the test
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest_asyncio
import uvicorn
from starlette.types import ASGIApp


class LiveServer:
    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", shutdown_grace: float = 2.0) -> None:
        self.app = app
        self.host = host
        self.port = 0
        self._grace = shutdown_grace
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def __aenter__(self) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))  # the port is ours before uvicorn starts: no race for it
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, lifespan="on", log_level="warning", access_log=False,
            timeout_graceful_shutdown=self._grace,
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():  # startup failed (lifespan error ...): show why
                sock.close()
                await self._task
                raise RuntimeError("the live server stopped during startup")
            await asyncio.sleep(0.005)
        return self.base_url

    async def __aexit__(self, *exc_info: object) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        try:
            async with asyncio.timeout(self._grace + 5):
                await self._task
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


Serve = Callable[[ASGIApp], Awaitable[str]]


@pytest_asyncio.fixture
async def serve() -> AsyncIterator[Serve]:
    """`base_url = await serve(app)`: any number of apps, all stopped when the test ends."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(app: ASGIApp) -> str:
            return await stack.enter_async_context(LiveServer(app))

        yield start
