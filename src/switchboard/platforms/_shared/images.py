"""Images a platform message points at, as bytes: inline (`base64://…`, `data:…;base64,…`) or
downloaded from the URL the implementation gives (QQ's media servers), within a size limit.

A URL in a message is anyone's to write, so downloads are vetted against SSRF when the loader is
given an `AddressVetting` (the composition root builds it from the crawler's NetGuard, which this
layer may not import): an IP-literal host is checked before sending, a name is resolved by a
resolver that hands the connection only allowed addresses, and each redirect hop is checked again.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from switchboard.core.domain.errors import InvalidInput, PayloadTooLarge

MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class AddressVetting:
    check_host: Callable[[str], None]  # raises OSError for a refused IP-literal host
    resolver: Callable[[], AbstractResolver]  # resolves names to allowed addresses only, else OSError


class ImageLoader:
    def __init__(self, max_bytes: int, timeout_seconds: float = 30.0, vetting: AddressVetting | None = None) -> None:
        self.max_bytes = max_bytes
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._vetting = vetting

    async def load(self, source: str) -> bytes:
        if source.startswith("base64://"):
            return self._decode(source[len("base64://"):])
        if source.startswith("data:"):
            return self._decode(source.partition(",")[2])
        if source.startswith(("http://", "https://")):
            return await self._download(source)
        raise InvalidInput("the image is neither inline nor at an http(s) URL")

    def _decode(self, text: str) -> bytes:
        if len(text) * 3 // 4 > self.max_bytes:
            raise PayloadTooLarge(f"the image is larger than {self.max_bytes} bytes")
        try:
            return base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("the image is not valid base64") from None

    async def _download(self, url: str) -> bytes:
        connector = aiohttp.TCPConnector(resolver=self._vetting.resolver(), use_dns_cache=False) \
            if self._vetting is not None else None
        try:
            async with aiohttp.ClientSession(timeout=self._timeout, connector=connector) as http:
                data = await self._follow(http, URL(url))
        except OSError as exc:  # a refused address, as the guard words it
            raise InvalidInput(f"the image could not be fetched: {_refusal(exc)}") from None
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise InvalidInput("the image could not be fetched") from None
        if len(data) > self.max_bytes:
            raise PayloadTooLarge(f"the image is larger than {self.max_bytes} bytes")
        return data

    async def _follow(self, http: aiohttp.ClientSession, url: URL) -> bytes:
        for _ in range(MAX_REDIRECTS + 1):
            if url.scheme not in ("http", "https"):
                raise InvalidInput("the image redirects away from http(s)")
            if self._vetting is not None:
                self._vetting.check_host(url.raw_host or "")  # IP literals never reach the resolver
            async with http.get(url, allow_redirects=False) as response:
                if response.status in (301, 302, 303, 307, 308) and "Location" in response.headers:
                    url = url.join(URL(response.headers["Location"]))
                    continue
                if response.status != 200:
                    raise InvalidInput(f"the image could not be fetched (HTTP {response.status})")
                return await response.content.read(self.max_bytes + 1)
        raise InvalidInput("the image redirects too often")


def _refusal(exc: OSError) -> str:
    """aiohttp wraps a resolver's OSError (ClientConnectorDNSError.os_error); the guard's words are inside."""
    inner = getattr(exc, "os_error", None)
    return str(inner if isinstance(inner, OSError) else exc) or type(exc).__name__
