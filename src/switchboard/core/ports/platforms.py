"""The administrator's handle on the IM platforms this worker runs: change them while the server runs.

The registry's in-memory entries are authoritative; saving them is the admin service's job."""

from __future__ import annotations

from typing import Protocol

from switchboard.core.domain.platform_settings import PlatformSettings
from switchboard.core.domain.platforms import ImBot


class PlatformRegistry(Protocol):
    def entries(self) -> dict[str, PlatformSettings]:
        """Every configured platform, enabled or not, secrets included, by id."""
        ...

    def states(self) -> list[ImBot]:
        """Every configured platform with its live state (secrets masked); a disabled one is `disabled`."""
        ...

    async def put(self, settings: PlatformSettings) -> ImBot:
        """Adds or replaces a platform: the old one (if any) is stopped and its connections closed,
        the new one started if enabled. Returns at once; connecting happens in the background."""
        ...

    async def remove(self, platform_id: str) -> None:
        """Stops the platform, closes its connections and forgets it."""
        ...
