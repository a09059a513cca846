"""The opt-in for clients that send no credentials at all (MuseBot's admin console, the Mio-Chat
web app's fetches): a `TrustedCaller` lets such a call act as one configured API key, from listed
client addresses only. Each face reads its own `trusted_key` / `trusted_clients` settings; without
a key nothing is trusted, and a call without credentials is refused (the default)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
LOOPBACK = ("127.0.0.1/32", "::1/128")


def parse_networks(entries: Sequence[str]) -> tuple[Network, ...]:
    """`["10.0.0.0/8", "::1"]` -> networks; a typo raises ValueError (settings refuse it at start-up)."""
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries)


@dataclass(frozen=True, slots=True)
class TrustedCaller:
    """Calls without credentials from `networks` act as `key`."""

    key: str
    networks: tuple[Network, ...]

    @classmethod
    def of(cls, key: str | None, clients: Sequence[str]) -> TrustedCaller | None:
        if not key or not key.strip():
            return None
        return cls(key.strip(), parse_networks(clients))

    def admits(self, host: str | None) -> bool:
        try:
            address = ipaddress.ip_address(host or "")
        except ValueError:
            return False
        mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
        return any((mapped or address) in network for network in self.networks)
