"""How many answers of the model one user may have running at once over long-lived sockets.

A socket can start a turn per frame without waiting for the last one; without a cap one client
could make a hundred upstream calls at once. Counted per worker (in memory): with several workers a
user can have this many running on each, which still bounds what one connection can do.
"""

from __future__ import annotations

from switchboard.core.domain.errors import RateLimited


class TurnSlots:
    def __init__(self, per_user: int) -> None:
        self.per_user = per_user
        self._running: dict[int, int] = {}  # user id -> answers running

    def acquire(self, user_id: int) -> None:
        """Takes one of the user's slots; RateLimited when all are taken. Pair with `release`."""
        running = self._running.get(user_id, 0)
        if running >= self.per_user:
            raise RateLimited(f"too many answers running at once for this account (at most {self.per_user})")
        self._running[user_id] = running + 1

    def release(self, user_id: int) -> None:
        left = self._running.get(user_id, 0) - 1
        if left > 0:
            self._running[user_id] = left
        else:
            self._running.pop(user_id, None)
