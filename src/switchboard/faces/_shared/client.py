"""Who is on the other end of a connection, for limits that count per client address."""

from __future__ import annotations

from starlette.requests import HTTPConnection


def client_address(connection: HTTPConnection) -> str | None:
    """The peer's IP address (the proxy's X-Forwarded-For client when uvicorn trusts the proxy,
    see `forwarded_allow_ips`); None when the server does not know it (in-process test clients)."""
    return connection.client.host if connection.client is not None else None
