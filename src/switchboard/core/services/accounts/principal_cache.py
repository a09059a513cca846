"""A few seconds of memory for resolved credentials, so a busy client does not pay a database
read per request. Changes made through this process (logout, key revoked, user deactivated or
demoted) forget the affected entries at once; with an `announcer` (several workers on Redis) the
other workers forget them too, else they see the change within `ttl` seconds.
An API key with a token quota of its own is kept at most `METERED_KEY_TTL`: its remaining
tokens travel on the Principal, and a second of calls is as far as it may overrun."""

from __future__ import annotations

import time
from collections.abc import Callable

from switchboard.core.domain.users import Principal
from switchboard.core.ports.push import ChangeAnnouncer

MAX_ENTRIES = 10_000
METERED_KEY_TTL = 1.0


class PrincipalCache:
    def __init__(self, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, Principal]] = {}
        self.announcer: ChangeAnnouncer | None = None

    def get(self, credential: str) -> Principal | None:
        entry = self._entries.get(credential)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._entries[credential]
            return None
        return entry[1]

    def put(self, credential: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()  # crude, but bounded; entries are cheap to rebuild
        ttl = self.ttl if principal.key_tokens_left is None else min(self.ttl, METERED_KEY_TTL)
        self._entries[credential] = (self._clock() + ttl, principal)

    def forget(self, *, user_id: int | None = None, key_id: str | None = None, token_id: str | None = None,
               announce: bool = True) -> None:
        """`announce=False` for a change another worker announced (telling it back would echo forever)."""
        def matches(p: Principal) -> bool:
            return (user_id is not None and p.user_id == user_id) or (
                key_id is not None and p.key_id == key_id) or (token_id is not None and p.token_id == token_id)

        for credential in [c for c, (_, p) in self._entries.items() if matches(p)]:
            del self._entries[credential]
        if announce and self.announcer is not None:
            self.announcer.announce("principals", user_id=user_id, key_id=key_id, token_id=token_id)
