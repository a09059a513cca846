"""ImageLoader with SSRF vetting (the crawler's NetGuard, as the composition root wires it): every
redirect hop is vetted, names are resolved to allowed addresses only; without vetting anything goes."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web

from switchboard.adapters.tools.builtin.net_guard import GuardedResolver, NetGuard
from switchboard.core.domain.errors import InvalidInput, PayloadTooLarge
from switchboard.platforms._shared.images import AddressVetting, ImageLoader

PNG = b"\x89PNG fake"
REFUSED = ipaddress.ip_address("127.0.0.1")  # stands for a private address; 127.0.0.2 for a public one


def vetting() -> AddressVetting:
    guard = NetGuard(is_allowed=lambda ip: ip != REFUSED, resolve=_resolve)
    return AddressVetting(guard.check_host, lambda: GuardedResolver(guard))


async def _resolve(host: str) -> list[str]:
    return {"public.test": ["127.0.0.2"], "private.test": ["127.0.0.1"]}.get(host, [])


@pytest_asyncio.fixture
async def port() -> AsyncIterator[int]:
    """One server on 127.0.0.1 and 127.0.0.2: /pic.png, and /to?url=… redirecting there."""
    async def pic(request: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    async def to(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["url"])

    app = web.Application()
    app.router.add_get("/pic.png", pic)
    app.router.add_get("/to", to)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    number: int = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await web.TCPSite(runner, "127.0.0.2", number).start()  # loopback only, yet two addresses
    yield number
    await runner.cleanup()


async def test_an_allowed_address_is_fetched_and_a_refused_one_is_not(port: int) -> None:
    loader = ImageLoader(1024, vetting=vetting())
    assert await loader.load(f"http://127.0.0.2:{port}/pic.png") == PNG
    assert await loader.load(f"http://public.test:{port}/pic.png") == PNG
    for url in (f"http://127.0.0.1:{port}/pic.png", f"http://private.test:{port}/pic.png"):
        with pytest.raises(InvalidInput, match="private or reserved"):
            await loader.load(url)


async def test_a_redirect_to_a_refused_address_is_refused(port: int) -> None:
    loader = ImageLoader(1024, vetting=vetting())
    assert await loader.load(f"http://127.0.0.2:{port}/to?url=/pic.png") == PNG
    for target in (f"http://127.0.0.1:{port}/pic.png", f"http://private.test:{port}/pic.png"):
        with pytest.raises(InvalidInput, match="private or reserved"):
            await loader.load(f"http://127.0.0.2:{port}/to?url={target}")


async def test_without_vetting_every_address_is_fetched_within_the_size_limit(port: int) -> None:
    assert await ImageLoader(1024).load(f"http://127.0.0.1:{port}/to?url=/pic.png") == PNG
    with pytest.raises(PayloadTooLarge):
        await ImageLoader(4).load(f"http://127.0.0.1:{port}/pic.png")

