"""Fetching one web page for the crawler tools, inside the SSRF guard and the size and time limits.

Redirects are followed by hand so every hop is checked again; the response body is streamed and cut
at `max_bytes`; one deadline covers the whole chain of requests.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
from yarl import URL

from switchboard.adapters.tools.builtin.base import ToolFailure
from switchboard.adapters.tools.builtin.net_guard import AddressRefused, GuardedResolver, NetGuard
from switchboard.core.domain.tools import ToolContext

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class FetchLimits:
    max_bytes: int = 2 * 1024 * 1024
    timeout_s: float = 15.0
    max_redirects: int = 5
    user_agent: str = "Switchboard-fetch/0.1"


@dataclass(frozen=True, slots=True)
class FetchedPage:
    url: str  # after redirects
    status: int
    content_type: str
    charset: str | None
    body: bytes
    truncated: bool  # the body was longer than max_bytes and was cut


def parse_web_url(text: str) -> URL:
    try:
        url = URL(text.strip())
    except ValueError as exc:
        raise ToolFailure(f"not a valid URL: {text!r}") from exc
    if url.scheme not in ("http", "https"):
        raise ToolFailure(f"only http and https URLs can be fetched, not {url.scheme or 'a relative URL'!r}")
    if not url.host:
        raise ToolFailure(f"the URL has no host: {text!r}")
    return url.with_fragment(None)


class GuardedFetcher:
    def __init__(self, *, guard: NetGuard, limits: FetchLimits) -> None:
        self._guard = guard
        self._limits = limits
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Its own connector: the guarded resolver decides where sockets go, and the DNS cache is off
        # so every new connection is vetted on a fresh answer.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(resolver=GuardedResolver(self._guard), use_dns_cache=False)
            self._session = aiohttp.ClientSession(
                connector=connector,
                trust_env=False,  # no proxy from the environment: it would bypass the guard
                cookie_jar=aiohttp.DummyCookieJar(),
                headers={"User-Agent": self._limits.user_agent},
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, url_text: str) -> FetchedPage:
        url = parse_web_url(url_text)
        limit = self._limits.timeout_s
        try:
            async with asyncio.timeout(limit):
                return await self._follow(url)
        except TimeoutError as exc:
            raise ToolFailure(f"fetching {url} timed out after {limit:g}s") from exc
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, AddressRefused):
                raise ToolFailure(str(exc.os_error)) from exc
            raise ToolFailure(f"cannot connect to {exc.host}: {exc.os_error}") from exc
        except AddressRefused as exc:
            raise ToolFailure(str(exc)) from exc
        except aiohttp.ClientError as exc:
            raise ToolFailure(f"fetching {url} failed: {exc}") from exc

    async def _follow(self, url: URL) -> FetchedPage:
        for _hop in range(self._limits.max_redirects + 1):
            self._guard.check_host(url.raw_host or "")
            async with self._client().get(url, allow_redirects=False) as response:
                location = response.headers.get("Location")
                if response.status in _REDIRECTS and location:
                    url = parse_web_url(str(url.join(URL(location))))
                    continue
                body, truncated = await self._read_capped(response)
                return FetchedPage(
                    url=str(url),
                    status=response.status,
                    content_type=response.content_type,
                    charset=response.charset,
                    body=body,
                    truncated=truncated,
                )
        raise ToolFailure(f"too many redirects (more than {self._limits.max_redirects})")

    async def _read_capped(self, response: aiohttp.ClientResponse) -> tuple[bytes, bool]:
        cap = self._limits.max_bytes
        chunks: list[bytes] = []
        size = 0
        while size <= cap:
            chunk = await response.content.read(_CHUNK)
            if not chunk:
                return b"".join(chunks), False
            chunks.append(chunk)
            size += len(chunk)
        # Stop reading; closing the response drops the connection instead of draining the rest.
        return b"".join(chunks)[:cap], True


class CrawlerNetwork:
    """Picks the fetcher for a call: the strict one unless an admin (globally, or for this call
    through the context) allows the private network."""

    def __init__(self, *, strict: GuardedFetcher, open_: GuardedFetcher, allow_private_network: bool) -> None:
        self._strict = strict
        self._open = open_
        self._allow_private = allow_private_network

    def fetcher_for(self, ctx: ToolContext) -> GuardedFetcher:
        return self._open if self._allow_private or ctx.allow_private_network else self._strict

    async def close(self) -> None:
        await self._strict.close()
        await self._open.close()
