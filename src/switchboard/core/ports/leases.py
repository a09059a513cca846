"""Leases: something only one worker may do at a time (an IM platform's outbound connection), held
for a time-to-live and renewed while the holder lives, so a dead holder's lease simply expires and
another worker takes it.

    if await leases.take("platform:tg", ttl_seconds=15):   # ours now (or still ours)
        ...
        await leases.renew("platform:tg", 15)              # False: lost (expired and taken); stop at once
        await leases.release("platform:tg")                # only ever our own
"""

from __future__ import annotations

from typing import Protocol


class Leases(Protocol):
    holder: str  # this worker's token: unique per process, so nobody renews or releases another's lease

    async def take(self, name: str, ttl_seconds: float) -> bool:
        """True when the lease is free (taken now) or ours already (renewed); False when another holds it."""
        ...

    async def renew(self, name: str, ttl_seconds: float) -> bool:
        """Extends our lease; False when it is no longer ours (it expired, maybe another took it)."""
        ...

    async def release(self, name: str) -> None:
        """Gives up our lease so another worker takes it at once; nothing when it is not ours."""
        ...

    async def holder_of(self, name: str) -> str | None:
        """Whose lease it is now, or None when nobody holds it."""
        ...
