"""Byte-level relays for the gateway (core.ports.gateway.RelayProvider), on the provider's pool.

One attempt per call (`retries=0`): the gateway's router falls back to another provider instead
of waiting here. The reply hands out the body as it arrives, under the provider's first-byte
and idle timeouts; closing it early drops the connection, which stops the provider generating.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import aiohttp

from switchboard.adapters.providers.openai_media import Body
from switchboard.adapters.providers.silence import SilenceWatchdog
from switchboard.core.domain.errors import UpstreamError, UpstreamTimeout
from switchboard.core.ports.gateway import Multipart


class RelayedReply:
    __slots__ = ("_done", "_first_byte_at", "_idle", "_response", "_who", "content_type", "status")

    def __init__(self, response: aiohttp.ClientResponse, first_byte_at: float, idle: float, who: str) -> None:
        self._response = response
        self._first_byte_at = first_byte_at
        self._idle = idle
        self._who = who
        self._done = False
        self.status = response.status
        self.content_type = response.headers.get("Content-Type", "application/json")

    async def read(self) -> bytes:
        try:
            data = await self._response.read()
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"{self._who}: the answer broke off ({type(exc).__name__})") from exc
        except TimeoutError as exc:
            raise UpstreamTimeout(f"{self._who}: the answer took longer than the total timeout") from exc
        self._done = True
        self.close()
        return data

    async def chunks(self) -> AsyncIterator[bytes]:
        watchdog = SilenceWatchdog(self._response.content)
        patience = max(self._first_byte_at - asyncio.get_running_loop().time(), 0.0)
        message = f"{self._who}: no reply within the first byte timeout"
        try:
            while chunk := await watchdog.read(patience, message):
                yield chunk
                patience, message = self._idle, f"{self._who}: stream went silent for more than {self._idle:g} s"
            self._done = True
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"{self._who}: the stream broke off ({type(exc).__name__})") from exc
        except TimeoutError as exc:
            raise UpstreamTimeout(f"{self._who}: the answer took longer than the total timeout") from exc
        finally:
            watchdog.stop()

    def close(self) -> None:
        if self._done:
            self._response.release()  # the body was read to its end: the connection goes back to the pool
        else:
            self._response.close()


class OpenAIRelayMixin:
    """Needs from its host: `_who`, `_idle_timeout` and `_send(...)`."""

    _who: str
    _idle_timeout: float

    if TYPE_CHECKING:
        async def _send(
            self, method: str, path: str, body: Body, *, model: str | None, accept: str,
            retries: int | None = None,
        ) -> tuple[aiohttp.ClientResponse, float]: ...

    async def relay(self, path: str, body: bytes | Multipart, *, model: str, stream: bool) -> RelayedReply:
        payload: Body = body if isinstance(body, bytes) else _form(body)
        accept = "text/event-stream" if stream else "application/json"
        response, first_byte_at = await self._send("POST", path, payload, model=model, accept=accept, retries=0)
        return RelayedReply(response, first_byte_at, self._idle_timeout, self._who)


def _form(body: Multipart) -> Body:
    def build() -> aiohttp.FormData:
        form = aiohttp.FormData()
        for name, value in body.fields.items():
            form.add_field(name, value)
        for upload in body.files:
            form.add_field(upload.field, upload.data, filename=upload.filename, content_type=upload.mime)
        return form

    return build
