"""Images a platform message points at, as bytes: inline (`base64://…`, `data:…;base64,…`) or
downloaded from the URL the implementation gives (QQ's media servers), within a size limit."""

from __future__ import annotations

import base64
import binascii

import aiohttp

from switchboard.core.domain.errors import InvalidInput, PayloadTooLarge


class ImageLoader:
    def __init__(self, max_bytes: int, timeout_seconds: float = 30.0) -> None:
        self.max_bytes = max_bytes
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)

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
        try:
            async with aiohttp.ClientSession(timeout=self._timeout) as http, http.get(url) as response:
                if response.status != 200:
                    raise InvalidInput(f"the image could not be fetched (HTTP {response.status})")
                data = await response.content.read(self.max_bytes + 1)
        except (aiohttp.ClientError, TimeoutError):
            raise InvalidInput("the image could not be fetched") from None
        if len(data) > self.max_bytes:
            raise PayloadTooLarge(f"the image is larger than {self.max_bytes} bytes")
        return data
