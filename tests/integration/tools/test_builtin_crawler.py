"""fetch_page / find_in_page against real local HTTP servers, and the SSRF guard in front of them."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from switchboard.adapters.tools.builtin.net_guard import GuardedResolver, IPAddress, NetGuard, is_public_address
from switchboard.adapters.tools.builtin.web_fetch import FetchLimits
from switchboard.adapters.tools.builtin_host import BuiltinToolHost
from switchboard.core.domain.tools import ToolContext

CTX = ToolContext(user_id=1)
PAGE = """<!doctype html><html><head><title> Test  Page </title>
<style>body { color: red }</style><script>var secret = "do not show";</script></head>
<body><nav>Home | Menu | Sitemap</nav>
<h1>Switchboard crawler</h1><p>The quick brown fox jumps over the lazy dog.</p>
<p>A second paragraph mentions the fox again, far from the first.</p>
<a href="/about">About us</a> <a href="https://example.org/x#frag">Elsewhere</a>
<a href="mailto:someone@example.org">Mail</a> <a href="/about">About again</a>
</body></html>"""


class Site:
    """A small real web site on 127.0.0.1 with a random port, counting the requests it gets."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        app = web.Application(middlewares=[self._count])
        fixed = {
            "/page": lambda _request: web.Response(text=PAGE, content_type="text/html"),
            "/plain": lambda _request: web.Response(text="just text, no markup"),
            "/redirect": lambda _request: self._redirect("/page"),
            "/loop": lambda _request: self._redirect("/loop"),
            "/to": lambda request: self._redirect(request.query["target"]),
            "/missing": lambda _request: web.Response(status=404, text="nope"),
            "/binary": lambda _request: web.Response(body=b"\x00\x01", content_type="image/png"),
        }
        for path, make in fixed.items():
            app.router.add_get(path, self._answer(make))
        app.router.add_get("/big", self._big)
        app.router.add_get("/slow", self._slow)
        self.server = TestServer(app, host="127.0.0.1", port=0)

    @web.middleware
    async def _count(self, request: web.Request, handler):  # type: ignore[no-untyped-def]
        self.hits.append(request.path)
        return await handler(request)

    @staticmethod
    def _answer(make: Callable[[web.Request], web.Response]) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            return make(request)

        return handler

    async def _big(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        await response.prepare(request)
        for _ in range(300):  # 3 MB in all, far over the test's limit
            await response.write(b"<p>" + b"a" * 10_000 + b"</p>")
        return response

    async def _slow(self, _request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.Response(text="late")

    @staticmethod
    def _redirect(location: str) -> web.Response:
        return web.Response(status=302, headers={"Location": location})

    @property
    def port(self) -> int:
        assert self.server.port is not None
        return self.server.port

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    site = Site()
    await site.server.start_server()
    yield site
    await site.server.close()


@pytest.fixture
async def open_host() -> AsyncIterator[BuiltinToolHost]:
    """The admin has allowed the private network, so the local site is reachable."""
    host = BuiltinToolHost(
        allow_private_network=True, fetch_limits=FetchLimits(max_bytes=50_000, timeout_s=1.0, max_redirects=3)
    )
    yield host
    await host.close()


@pytest.fixture
async def guarded_host() -> AsyncIterator[BuiltinToolHost]:
    host = BuiltinToolHost(fetch_limits=FetchLimits(timeout_s=2.0))
    yield host
    await host.close()


async def test_fetch_page_returns_title_readable_text_and_absolute_links(site: Site, open_host) -> None:
    outcome = await open_host.call("fetch_page", {"url": site.url("/page")}, CTX)
    assert not outcome.is_error, outcome.content
    assert outcome.data["title"] == "Test Page"
    text = outcome.data["text"]
    assert "Switchboard crawler\nThe quick brown fox jumps over the lazy dog." in text
    assert "do not show" not in text and "color: red" not in text and "Sitemap" not in text
    links = [link["url"] for link in outcome.data["links"]]
    assert links == [site.url("/about"), "https://example.org/x"]  # absolute, deduplicated, http(s) only
    assert "About us: " + site.url("/about") in outcome.content


async def test_fetch_page_plain_text_and_max_chars(site: Site, open_host) -> None:
    outcome = await open_host.call("fetch_page", {"url": site.url("/plain")}, CTX)
    assert outcome.data["text"] == "just text, no markup"
    outcome = await open_host.call("fetch_page", {"url": site.url("/big"), "max_chars": 200}, CTX)
    assert len(outcome.data["text"]) == 200 and "text cut at 200 of" in outcome.content


async def test_response_size_is_capped(site: Site, open_host) -> None:
    outcome = await open_host.call("fetch_page", {"url": site.url("/big"), "max_chars": 50_000}, CTX)
    assert not outcome.is_error
    assert "larger than the download limit" in outcome.content
    assert len(outcome.data["text"]) <= 50_000


async def test_slow_server_hits_the_time_limit(site: Site, open_host) -> None:
    started = asyncio.get_running_loop().time()
    outcome = await open_host.call("fetch_page", {"url": site.url("/slow")}, CTX)
    assert outcome.is_error and "timed out after 1s" in outcome.content
    assert asyncio.get_running_loop().time() - started < 3


async def test_redirects_are_followed_and_bounded(site: Site, open_host) -> None:
    outcome = await open_host.call("fetch_page", {"url": site.url("/redirect")}, CTX)
    assert outcome.data["url"] == site.url("/page")
    outcome = await open_host.call("fetch_page", {"url": site.url("/loop")}, CTX)
    assert outcome.is_error and "too many redirects" in outcome.content


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/missing", "HTTP 404"), ("/binary", "image/png")],
)
async def test_http_errors_and_binary_content_are_error_outcomes(site: Site, open_host, path, expected) -> None:
    outcome = await open_host.call("fetch_page", {"url": site.url(path)}, CTX)
    assert outcome.is_error and expected in outcome.content


@pytest.mark.parametrize("url", ["ftp://example.org/file", "file:///etc/passwd", "javascript:alert(1)", "/relative"])
async def test_only_http_and_https(open_host, url: str) -> None:
    outcome = await open_host.call("fetch_page", {"url": url}, CTX)
    assert outcome.is_error and "http" in outcome.content


async def test_find_in_page_returns_snippets_with_context(site: Site, open_host) -> None:
    arguments = {"url": site.url("/page"), "phrase": "FOX", "context_chars": 20}
    outcome = await open_host.call("find_in_page", arguments, CTX)
    assert not outcome.is_error
    assert outcome.data["matches"] == 2
    assert "quick brown fox jumps" in outcome.data["snippets"][0]
    assert outcome.content.startswith("2 match(es) for 'FOX'")
    sensitive = await open_host.call(
        "find_in_page", {"url": site.url("/page"), "phrase": "FOX", "case_sensitive": True}, CTX
    )
    assert not sensitive.is_error and sensitive.data["matches"] == 0 and "No match" in sensitive.content


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/page",  # the site really is there: only the guard stops it
        "http://localhost:{port}/page",  # a name that resolves to loopback
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]:{port}/page",
        "http://[::ffff:127.0.0.1]:{port}/page",
        "http://0.0.0.0:{port}/page",
        "http://224.0.0.1/",
        "http://2130706433:{port}/page",  # 127.0.0.1 spelled as one number
        "http://0x7f.1:{port}/page",
    ],
)
async def test_guard_refuses_private_addresses(site: Site, guarded_host, url: str) -> None:
    outcome = await guarded_host.call("fetch_page", {"url": url.format(port=site.port)}, CTX)
    refused = "refused to connect" in outcome.content or "not a canonical IPv4" in outcome.content
    assert outcome.is_error and refused, outcome.content
    assert site.hits == []


async def test_context_can_allow_the_private_network(site: Site, guarded_host) -> None:
    ctx = ToolContext(user_id=1, allow_private_network=True)
    outcome = await guarded_host.call("fetch_page", {"url": site.url("/page")}, ctx)
    assert not outcome.is_error and outcome.data["title"] == "Test Page"


# In the tests below 127.0.0.1 plays a public address: DNS and the policy are injected, so a
# redirect from an allowed site to a private one can be exercised for real.
NAMES = {"public.example": ["127.0.0.1"], "internal.example": ["10.1.2.3"], "mixed.example": ["127.0.0.1", "10.0.0.5"]}


async def fake_dns(host: str) -> list[str]:
    if host not in NAMES:
        raise OSError(f"unknown host {host}")
    return NAMES[host]


def loopback_is_public(ip: IPAddress) -> bool:
    return ip == ipaddress.ip_address("127.0.0.1") or is_public_address(ip)


@pytest.fixture
async def pretend_public_host() -> AsyncIterator[BuiltinToolHost]:
    host = BuiltinToolHost(resolve=fake_dns, address_policy=loopback_is_public)
    yield host
    await host.close()


async def test_an_allowed_name_connects_to_its_vetted_address(site: Site, pretend_public_host) -> None:
    outcome = await pretend_public_host.call("fetch_page", {"url": site.url("/page", host="public.example")}, CTX)
    assert not outcome.is_error, outcome.content
    assert outcome.data["title"] == "Test Page"


@pytest.mark.parametrize(
    "target",
    ["http://169.254.169.254/latest/meta-data", "http://internal.example/admin", "http://[::1]/", "http://10.0.0.1/"],
)
async def test_every_redirect_hop_is_checked_again(site: Site, pretend_public_host, target: str) -> None:
    url = site.url("/to", host="public.example") + "?target=" + target
    outcome = await pretend_public_host.call("fetch_page", {"url": url}, CTX)
    assert outcome.is_error and "refused to connect" in outcome.content, outcome.content
    assert site.hits == ["/to"]  # the first hop was served; the second never left the guard


async def test_a_name_with_any_private_address_is_refused(site: Site, pretend_public_host) -> None:
    outcome = await pretend_public_host.call("fetch_page", {"url": site.url("/page", host="mixed.example")}, CTX)
    assert outcome.is_error and "10.0.0.5" in outcome.content
    assert site.hits == []


async def test_resolver_hands_the_connector_only_vetted_addresses() -> None:
    resolver = GuardedResolver(NetGuard(resolve=fake_dns, is_allowed=loopback_is_public))
    results = await resolver.resolve("public.example", 8080)
    assert [(result["host"], result["port"]) for result in results] == [("127.0.0.1", 8080)]
    with pytest.raises(OSError, match="refused"):
        await resolver.resolve("internal.example", 80)
