"""Any OpenAI-compatible chat-completions API (OpenAI, DeepSeek, vLLM, Ollama, OpenRouter ...),
streamed over one pooled aiohttp session per provider; asked unstreamed when the caller takes the
whole answer at once (`ProviderCall.streamed` False): one JSON body, one list of events.

Failures become DomainErrors that name the provider and never the API key. Retries (connect
errors, 429, 5xx) happen only before the response has started, so nothing the consumer already
received is ever repeated. Closing the event iterator early closes the HTTP connection, which is
how the upstream learns that nobody is listening any more.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import orjson

from switchboard.adapters.providers.openai_media import Body, OpenAIMediaMixin
from switchboard.adapters.providers.openai_relay import OpenAIRelayMixin
from switchboard.adapters.providers.openai_wire import ChunkReader, read_answer, status_error
from switchboard.adapters.providers.silence import SilenceWatchdog
from switchboard.adapters.providers.sse import DONE, SSEDecoder
from switchboard.core.domain.chat import ProviderCall
from switchboard.core.domain.correlation import REQUEST_ID
from switchboard.core.domain.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable
from switchboard.core.domain.events import ProviderEvent

log = logging.getLogger(__name__)

_ERROR_BODY_LIMIT = 64 * 1024
_DRAIN_PATIENCE = 0.25  # after [DONE], how long to wait for the end of the body to keep the connection


class OpenAICompatProvider(OpenAIMediaMixin, OpenAIRelayMixin):
    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        api_key: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 600.0,
        connect_timeout: float = 10.0,
        first_byte_timeout: float = 120.0,
        idle_timeout: float = 120.0,
        max_retries: int = 2,
        max_connections: int = 256,
        retry_base_delay: float = 0.2,
        retry_after_cap: float = 30.0,
    ) -> None:
        self.name = name
        self._base_url = base_url.rstrip("/")
        self._api_key = api_key or None
        self._headers = dict(headers or {})
        if self._api_key:
            self._headers["Authorization"] = f"Bearer {self._api_key}"
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._first_byte_timeout = first_byte_timeout
        self._idle_timeout = idle_timeout
        self._max_retries = max(max_retries, 0)
        self._max_connections = max_connections
        self._retry_base_delay = retry_base_delay
        self._retry_after_cap = retry_after_cap
        self._client: aiohttp.ClientSession | None = None
        who = self._who = f"provider '{name}'"
        # timeout messages say which limit fired, so an operator knows which setting to raise
        self._idle_message = f"{who}: stream went silent for more than {idle_timeout:g} s (idle timeout)"
        self._first_byte_message = f"{who}: no reply within {first_byte_timeout:g} s (first byte timeout)"
        self._connect_message = f"{who}: could not connect within {connect_timeout:g} s (connect timeout)"
        self._total_message = f"{who}: the answer took longer than {timeout:g} s (total timeout)"

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAICompatProvider(name={self.name!r}, base_url={self.base_url!r})"

    @property
    def base_url(self) -> str:
        """The base URL as an administrator may see it: user info and query string left out, since
        some deployments put a key there."""
        parts = urlsplit(self._base_url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"  # an IPv6 address
        try:
            port = parts.port
        except ValueError:  # a malformed port: the host alone says enough
            port = None
        netloc = host + (f":{port}" if port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    async def stream(self, call: ProviderCall) -> AsyncIterator[list[ProviderEvent]]:
        if not call.streamed:
            if events := await self._whole(call):
                yield events
            return
        body = orjson.dumps(self._request_body(call))
        response, first_byte_at = await self._send(
            "POST", "/chat/completions", body, model=call.model, accept="text/event-stream"
        )
        loop = asyncio.get_running_loop()
        watchdog = SilenceWatchdog(response.content)
        decoder = SSEDecoder()
        reader = ChunkReader(self.name)
        clean = False
        try:
            chunk = await watchdog.read(max(first_byte_at - loop.time(), 0.0), self._first_byte_message)
            done = False
            while chunk:
                # one list per network read: the token loop's unit of work
                payloads = decoder.feed(chunk)
                if DONE in payloads:
                    done = True
                    payloads = payloads[:payloads.index(DONE)]
                events = reader.read(payloads)
                if events:
                    yield events
                if reader.failure is not None:
                    raise reader.failure
                if done:
                    break
                chunk = await watchdog.read(self._idle_timeout, self._idle_message)
            else:
                events = reader.read([payload for payload in decoder.flush() if payload != DONE])
                if events:
                    yield events
                if reader.failure is not None:
                    raise reader.failure
            if not (done or reader.finished):
                raise UpstreamError(f"{self._who}: the stream ended before the model finished")
            # give the connection back before the last event: a consumer may stop right after it
            clean = done and await _drained(watchdog)
            if clean:
                response.release()
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"{self._who}: the stream broke off ({type(exc).__name__})") from exc
        except TimeoutError as exc:  # aiohttp's total timeout
            raise UpstreamTimeout(self._total_message) from exc
        finally:
            watchdog.stop()
            if not clean:
                response.close()  # closing the socket tells the upstream to stop generating
        if reader.usage is not None:
            yield [reader.usage]

    async def _whole(self, call: ProviderCall) -> list[ProviderEvent]:
        """An unstreamed answer. Its headers come only once the whole answer is written, so they
        may take up to the total timeout (the first byte timeout is a stream's); as with the
        gateway's unstreamed relay, the body is read under the total timeout. Retries as a
        stream's: before anything was received."""
        body = orjson.dumps(self._request_body(call))
        response, _ = await self._send(
            "POST", "/chat/completions", body, model=call.model, accept="application/json", patience=self._timeout
        )
        read = False
        try:
            data = await response.read()
            read = True
        except aiohttp.ClientError as exc:
            raise UpstreamError(f"{self._who}: the answer broke off ({type(exc).__name__})") from exc
        except TimeoutError as exc:  # aiohttp's total timeout
            raise UpstreamTimeout(self._total_message) from exc
        finally:
            if read:
                response.release()
            else:
                response.close()  # cancelled or broken: the upstream learns that nobody is listening
        return read_answer(self.name, data)

    async def list_models(self) -> list[str]:
        response, _ = await self._send("GET", "/models", None, model=None, accept="application/json")
        try:
            async with asyncio.timeout(self._first_byte_timeout):
                payload = orjson.loads(await response.read())
        except (aiohttp.ClientError, TimeoutError, orjson.JSONDecodeError) as exc:
            raise UpstreamError(f"{self._who}: could not read the model list") from exc
        finally:
            response.release()
        entries = payload.get("data", payload.get("models")) if isinstance(payload, dict) else payload
        ids = [entry.get("id") or entry.get("name") if isinstance(entry, dict) else entry
               for entry in entries or ()]
        return [str(model_id) for model_id in ids if model_id]

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def _request_body(self, call: ProviderCall) -> dict[str, Any]:
        body: dict[str, Any] = dict(call.options)
        body["model"] = call.model
        body["messages"] = call.messages
        if call.streamed:
            body["stream"] = True
            body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
        else:  # an unstreamed answer carries its usage; OpenAI refuses stream_options without a stream
            body["stream"] = False
            body.pop("stream_options", None)
        if call.tools:
            body["tools"] = call.tools
        return body

    def _session(self) -> aiohttp.ClientSession:
        # created on first use, inside the running loop that will drive it
        if self._client is None or self._client.closed:
            limit = self._max_connections
            connector = aiohttp.TCPConnector(limit=limit, limit_per_host=limit)
            self._client = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=self._timeout, sock_connect=self._connect_timeout),
            )
        return self._client

    async def _send(
        self, method: str, path: str, body: Body, *, model: str | None, accept: str, retries: int | None = None,
        patience: float | None = None,
    ) -> tuple[aiohttp.ClientResponse, float]:
        """A response with a 2xx status, and the loop time by which its first byte is due.
        Retries connect failures, 429 and 5xx with exponential backoff (`retries` overrides how
        often: the gateway falls back to another provider instead). `patience` overrides how long
        the response's headers may take (the first byte timeout)."""
        session = self._session()
        url = self._base_url + path
        headers = {"Accept": accept}
        if (request_id := REQUEST_ID.get()) is not None:  # the provider's logs can be matched with ours
            headers["X-Request-Id"] = request_id
        if isinstance(body, bytes):
            headers["Content-Type"] = "application/json"
        max_retries = self._max_retries if retries is None else retries
        loop = asyncio.get_running_loop()
        attempt = 0
        while True:
            first_byte_at = loop.time() + (self._first_byte_timeout if patience is None else patience)
            retry_after: str | None = None
            try:
                async with asyncio.timeout_at(first_byte_at) as deadline:
                    data = body() if callable(body) else body
                    response = await session.request(method, url, data=data, headers=headers)
                if response.status < 300:
                    return response, first_byte_at
                error_body = await _read_error_body(response)
                retry_after = response.headers.get("Retry-After")
                response.release()
                error = status_error(self.name, response.status, self._scrub(error_body), model=model,
                                     retry_after=retry_after)
            except aiohttp.ConnectionTimeoutError:
                error = UpstreamTimeout(self._connect_message, retryable=True)
            except aiohttp.ClientConnectionError as exc:
                error = UpstreamUnavailable(
                    f"{self._who} is unreachable at {self.base_url} ({type(exc).__name__})",
                    retryable=True,
                )
            except aiohttp.ClientError as exc:
                raise UpstreamError(f"{self._who}: request failed ({type(exc).__name__})") from exc
            except TimeoutError as exc:
                first_byte = deadline.expired() and patience is None
                message = self._first_byte_message if first_byte else self._total_message
                raise UpstreamTimeout(message) from exc
            if not error.retryable or attempt >= max_retries:
                raise error
            delay = self._backoff(attempt, retry_after)
            log.warning("%s; retry %d/%d in %.2f s", error.message, attempt + 1, max_retries, delay)
            await asyncio.sleep(delay)
            attempt += 1

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        delay = self._retry_base_delay * 2**attempt + random.uniform(0, self._retry_base_delay)
        if retry_after:
            try:
                delay = max(delay, min(float(retry_after), self._retry_after_cap))
            except ValueError:
                pass  # an HTTP date: the exponential delay will do
        return delay

    def _scrub(self, body: bytes) -> bytes:
        # providers sometimes echo the key they were sent; it must not reach a user or a log
        return body.replace(self._api_key.encode(), b"***") if self._api_key else body


async def _read_error_body(response: aiohttp.ClientResponse) -> bytes:
    try:
        return await response.content.read(_ERROR_BODY_LIMIT)
    except aiohttp.ClientError:
        return b""


async def _drained(watchdog: SilenceWatchdog) -> bool:
    """Read what follows [DONE] (normally just the end of the chunked body) so the connection can
    be reused; a server that keeps the stream open after [DONE] only costs its connection."""
    try:
        while await watchdog.read(_DRAIN_PATIENCE, "drain"):
            pass
    except (UpstreamTimeout, aiohttp.ClientError):
        return False
    return True
