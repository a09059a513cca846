"""The crawler's SSRF guard: which addresses a fetch may connect to.

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

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolve = Callable[[str], Awaitable[list[str]]]  # host name -> IP address strings
AddressPolicy = Callable[[IPAddress], bool]  # True when a fetch may connect there

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(OSError):
    """An OSError on purpose: aiohttp passes resolver OSErrors through as ClientConnectorDNSError,
    keeping this one as `os_error`, so the fetcher can report the refusal itself."""


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """IPv6 forms that carry an IPv4 address a packet may end up at."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(ip: IPAddress) -> bool:
    """The default policy: only globally routable unicast addresses."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and not is_public_address(inner):
            return False
    refused = (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast  # 224.0.0.0/4 counts as "global" in the ipaddress module
        or ip.is_reserved
        or ip.is_unspecified
    )
    return ip.is_global and not refused


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
