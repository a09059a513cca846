"""The crawler's SSRF guard: which addresses a fetch may connect to (the policy itself is
core/domain/network.is_public_address, shared with the chat engine's check of image URLs).

The check runs on the addresses the connection will really use. A hostname is resolved once, every
address is vetted, and exactly those addresses go to the HTTP client through `GuardedResolver`, so
a second DNS answer (rebinding) can never reach the socket. IP-literal URLs never touch a resolver,
so the fetcher also calls `check_host` for every hop before sending anything.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

from aiohttp.abc import AbstractResolver, ResolveResult

from switchboard.core.domain.network import IPAddress, is_public_address

__all__ = ["AddressPolicy", "AddressRefused", "GuardedResolver", "IPAddress", "NetGuard", "is_public_address"]

Resolve = Callable[[str], Awaitable[list[str]]]  # host name -> IP address strings
AddressPolicy = Callable[[IPAddress], bool]  # True when a fetch may connect there


class AddressRefused(OSError):
    """An OSError on purpose: aiohttp passes resolver OSErrors through as ClientConnectorDNSError,
    keeping this one as `os_error`, so the fetcher can report the refusal itself."""


def allow_every_address(ip: IPAddress) -> bool:
    """The policy when an admin lets tools reach the private network."""
    return True


async def system_resolve(host: str) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    # sockaddr[0] is the address text for both families; keep the order, drop duplicates
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


class NetGuard:
    def __init__(self, *, resolve: Resolve = system_resolve, is_allowed: AddressPolicy = is_public_address):
        self._resolve = resolve
        self._is_allowed = is_allowed

    def check_address(self, host: str, ip: IPAddress) -> None:
        if not self._is_allowed(ip):
            where = host if parse_ip(host) == ip else f"{host} ({ip})"
            raise AddressRefused(f"refused to connect to {where}: a private or reserved network address")

    def check_host(self, host: str) -> None:
        """Vets an IP-literal host now; names are vetted when the connection resolves them."""
        ip = parse_ip(host)
        if ip is not None:
            self.check_address(host, ip)

    async def vetted_addresses(self, host: str) -> list[IPAddress]:
        """Resolves a name and refuses it when ANY of its addresses is not allowed: a client may
        try them in any order, so one bad address is enough to be dangerous."""
        literal = parse_ip(host)
        if literal is not None:
            self.check_address(host, literal)
            return [literal]
        try:
            texts = await self._resolve(host)
        except OSError as exc:
            raise OSError(f"cannot resolve {host}: {exc}") from exc
        addresses = [ip for ip in (parse_ip(text) for text in texts) if ip is not None]
        if not addresses:
            raise OSError(f"cannot resolve {host}: no addresses")
        for ip in addresses:
            self.check_address(host, ip)
        return addresses


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that hands the connector only addresses the guard has just vetted."""

    def __init__(self, guard: NetGuard) -> None:
        self._guard = guard

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results: list[ResolveResult] = []
        for ip in await self._guard.vetted_addresses(host):
            ip_family = socket.AF_INET if ip.version == 4 else socket.AF_INET6
            if family not in (socket.AF_UNSPEC, ip_family):
                continue
            results.append(
                ResolveResult(
                    hostname=host,
                    host=str(ip),
                    port=port,
                    family=ip_family,
                    proto=0,
                    flags=socket.AI_NUMERICHOST,
                )
            )
        if not results:
            raise OSError(f"cannot resolve {host}: no address of the requested family")
        return results

    async def close(self) -> None:
        return None
