"""The login throttle: password logins (and other guesses at a secret, such as a shared code) are
counted per account and per client address; past a limit, tries are refused with RateLimited until
the window that the first one opened has passed, so nobody is locked out for longer than a window.

    await throttle.attempt(username, address)     # counted BEFORE the check, refused when over a limit
    await throttle.succeeded(username, address)   # the right password: the account's count is cleared,
                                                  # the address's attempt is taken back

Counting first makes the limit hold under concurrency: 50 parallel guesses still get only `limit`
of them checked. A success takes back only its own attempt of the address, so an attacker who owns
one account cannot reset the count of the address that sprays other accounts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from switchboard.core.domain.errors import RateLimited
from switchboard.core.ports.system import AttemptCounter


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    window_seconds: float = 15 * 60
    per_account: int = 5  # failed logins for one account name, from anywhere (0: no limit)
    per_address: int = 20  # failed logins (and taken names at registration) from one address (0: no limit)


class LoginThrottle:
    def __init__(self, counter: AttemptCounter, policy: ThrottlePolicy) -> None:
        self._counter = counter
        self.policy = policy

    async def attempt(self, account: str | None, address: str | None) -> None:
        for key, limit in self._keys(account, address):
            count, left = await self._counter.add(key, 1, self.policy.window_seconds)
            if count > limit:
                raise RateLimited("too many failed attempts; try again later", retry_after=max(left, 1.0))

    async def succeeded(self, account: str | None, address: str | None) -> None:
        for key, _ in self._keys(account, address):
            if key.startswith("account:"):
                await self._counter.clear(key)
            else:
                await self._counter.add(key, -1, self.policy.window_seconds)

    async def close(self) -> None:
        await self._counter.close()

    def _keys(self, account: str | None, address: str | None) -> list[tuple[str, int]]:
        keys = []
        if account is not None and self.policy.per_account > 0:
            # hashed: a key of bounded length whatever the name, and no user names in Redis
            digest = hashlib.sha256(account.strip().casefold().encode()).hexdigest()[:32]
            keys.append((f"account:{digest}", self.policy.per_account))
        if address and self.policy.per_address > 0:
            keys.append((f"address:{address[:100]}", self.policy.per_address))
        return keys
