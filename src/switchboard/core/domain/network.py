"""The SSRF policy: which network addresses the server (or a provider it hands a URL to) may reach.

One policy for both places it applies: the page-fetch tools vet every address they connect to
(adapters/tools/builtin/net_guard), and the chat engine vets the image URLs a user puts in a
message before a provider fetches them (`refuse_private_url`). A provider resolves names in its
own network, so the second check can only judge what the URL spells: IP literals in any form,
and names that only ever mean a private host (`localhost`, one-label names, `.internal` ...).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from switchboard.core.domain.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Ranges `ipaddress` counts as global although no fetch should reach them: 192.0.0.0/24 is the
# IETF protocol assignments block (192.0.0.8 is the "dummy" address of RFC 7600; 192.0.0.9 and
# .10 are anycast services), 192.88.99.0/24 the retired 6to4 relay anycast, fec0::/10 the
# deprecated IPv6 site-local block that some networks still route internally.
_NEVER = tuple(ipaddress.ip_network(net) for net in ("192.0.0.0/24", "192.88.99.0/24", "fec0::/10"))
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".localdomain",
                     ".corp", ".private")


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
    """Only globally routable unicast addresses."""
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
        or any(ip in net for net in _NEVER if net.version == ip.version)
    )
    return ip.is_global and not refused


def host_address(host: str) -> IPAddress | None:
    """The address an IP-literal host means, in every spelling a resolver accepts (`[::1]`,
    `2130706433`, `0x7f.1`, `127.1`); None for a name."""
    text = host.strip("[]")
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if text and all(c in "0123456789abcdefxABCDEFX." for c in text) and text[0].isdigit():
        try:  # the BSD forms getaddrinfo still understands
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def refuse_private_url(url: str, *, what: str = "url") -> None:
    """InvalidInput unless `url` is a `data:` URI or an http(s) URL whose host may be public."""
    if url.startswith("data:"):
        return
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").rstrip(".").lower()
    except ValueError:
        raise InvalidInput(f"the {what} is not a valid URL", param=what) from None
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidInput(f"the {what} must be an http(s) URL or a data: URI", param=what)
    address = host_address(host)
    private_name = address is None and (
        "." not in host or host == "localhost" or host.endswith(_PRIVATE_SUFFIXES)
    )
    if private_name or (address is not None and not is_public_address(address)):
        raise InvalidInput(f"the {what} points at a private or reserved network address", param=what)
