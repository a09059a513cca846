"""The do-nothing relay: the floor any Python gateway pays for one extra hop.

    python -m bench.relay --port 9101 --upstream http://127.0.0.1:9100

Forwards every request (method, path, query, body, content-type/authorization/accept) to the
upstream over one pooled aiohttp session and copies the response bytes back as they arrive.
No parsing, no auth, no storage: whatever Switchboard costs beyond this is its own work.
"""

from __future__ import annotations

import argparse
import asyncio

import aiohttp
from aiohttp import web

from bench.listen import listen

_FORWARDED = ("Content-Type", "Authorization", "Accept")


class Relay:
    def __init__(self, upstream: str, max_connections: int = 1024) -> None:
        self._upstream = upstream.rstrip("/")
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(limit=self._max_connections, limit_per_host=self._max_connections)
            self._session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=None),
                                                  auto_decompress=False)
        return self._session

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        headers = {k: request.headers[k] for k in _FORWARDED if k in request.headers}
        body = await request.read()
        async with self.session().request(request.method, self._upstream + request.path_qs, data=body,
                                          headers=headers) as upstream:
            response = web.StreamResponse(status=upstream.status, headers={
                "Content-Type": upstream.headers.get("Content-Type", "application/octet-stream")})
            await response.prepare(request)
            async for data in upstream.content.iter_any():
                await response.write(data)
            await response.write_eof()
            return response

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


async def serve(host: str, port: int, upstream: str, ready: asyncio.Future[int] | None = None) -> None:
    relay = Relay(upstream)
    try:
        await listen(relay.handle, host, port, ready, "relay on {url} -> " + upstream)
    finally:
        await relay.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="do-nothing aiohttp relay (the benchmark's reference hop)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9101)
    parser.add_argument("--upstream", default="http://127.0.0.1:9100")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost") or not args.upstream.startswith(("http://127.0.0.1",
                                                                                    "http://localhost")):
        parser.error("the benchmark's servers use 127.0.0.1 only")
    import uvloop

    uvloop.run(serve(args.host, args.port, args.upstream))


if __name__ == "__main__":
    main()
