"""The Bot API over HTTP: `{api_base}/bot{token}/{method}`, JSON in, `{"ok": …, "result": …}` out.

aiohttp directly rather than aiogram: the seven methods used here are one POST each, aiogram's
Dispatcher would bring its own polling loop and backoff next to the supervisor's, and aiohttp is
already a dependency. A 429 is waited out as Telegram asks (`parameters.retry_after`); a network
failure is `UpstreamUnavailable` for the caller (the supervisor retries polling with backoff). The
token is part of every URL, so nothing that reaches a log or an error carries it unmasked.

    api = BotApi("https://api.telegram.org", token)
    me = await api.call("getMe")
    await api.call("sendPhoto", {"chat_id": 1}, files={"photo": (b"...", "image/png")})
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
import orjson

from switchboard.core.domain.errors import UpstreamError, UpstreamUnavailable

log = logging.getLogger("switchboard.platforms")

MAX_RETRY_AFTER = 300.0  # a longer wait than this is an error for the caller, not a stalled answer


class ApiError(UpstreamError):
    """Telegram refused the call: `status` is its `error_code`, the message its `description`."""


class BotApi:
    def __init__(self, api_base: str, token: str, *, request_timeout: float = 30.0, retries_429: int = 3) -> None:
        self.api_base = api_base.rstrip("/")
        self._token = token
        self._timeout = request_timeout
        self._retries_429 = retries_429
        self._http: aiohttp.ClientSession | None = None

    def masked(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def file_url(self, file_path: str) -> str:
        """Where getFile's `file_path` is downloaded; carries the token, so never log it."""
        return f"{self.api_base}/file/bot{self._token}/{file_path}"

    async def call(self, method: str, params: dict[str, Any] | None = None, *,
                   files: dict[str, tuple[bytes, str]] | None = None, limit: float | None = None) -> Any:
        """`limit`: seconds the whole request may take (a long poll needs more than the default)."""
        for attempt in range(self._retries_429 + 1):
            status, body = await self._post(method, params or {}, files, limit or self._timeout)
            if not isinstance(body, dict):
                raise UpstreamError(f"Telegram {method}: not a Bot API answer (HTTP {status})", status=status)
            if body.get("ok") is True:
                return body.get("result")
            code = body.get("error_code") if isinstance(body.get("error_code"), int) else status
            description = self.masked(str(body.get("description") or f"HTTP {status}"))
            parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
            retry_after = parameters.get("retry_after")
            if code == 429 and isinstance(retry_after, int | float) and attempt < self._retries_429:
                if retry_after > MAX_RETRY_AFTER:
                    raise ApiError(f"Telegram {method}: {description}", status=code, retry_after=retry_after)
                log.info("Telegram %s: flood control, retrying in %g s", method, retry_after)
                await asyncio.sleep(retry_after)
                continue
            raise ApiError(f"Telegram {method}: {description}", status=code,
                           retry_after=float(retry_after) if isinstance(retry_after, int | float) else None)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _post(self, method: str, params: dict[str, Any], files: dict[str, tuple[bytes, str]] | None,
                    limit: float) -> tuple[int, Any]:
        url = f"{self.api_base}/bot{self._token}/{method}"
        data: aiohttp.FormData | bytes
        headers: dict[str, str] = {}
        if files:
            data = aiohttp.FormData()
            for key, value in params.items():
                data.add_field(key, value if isinstance(value, str) else orjson.dumps(value).decode())
            for key, (content, mime) in files.items():
                data.add_field(key, content, filename=f"{key}.{mime.rpartition('/')[2]}", content_type=mime)
        else:
            data = orjson.dumps(params)
            headers["Content-Type"] = "application/json"
        try:
            async with self._session().post(url, data=data, headers=headers,
                                            timeout=aiohttp.ClientTimeout(total=limit)) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            # aiohttp's messages may name the URL, and with it the token
            raise UpstreamUnavailable(self.masked(f"Telegram {method}: {type(exc).__name__}: {exc}")) from None
        try:
            return status, orjson.loads(raw)
        except orjson.JSONDecodeError:
            return status, None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
