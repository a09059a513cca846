"""The id of the request being served, for every log line it causes and every upstream call it
makes (the `X-Request-Id` a client, the logs and a provider's own logs can be matched by).

Set by the app for each HTTP request and WebSocket; a task started while serving a request
inherits it (asyncio copies the context), so a detached answer keeps its request's id. None
outside a request (start-up, IM platforms' own loops)."""

from __future__ import annotations

from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("switchboard_request_id", default=None)
