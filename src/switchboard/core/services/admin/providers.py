"""The providers as routing sees them (healthy, cooling down, why they failed), for administrators."""

from __future__ import annotations

from switchboard.core.domain.chat import ProviderStatus
from switchboard.core.domain.users import Principal
from switchboard.core.ports.providers import ProviderMonitor
from switchboard.core.services.accounts.guards import require_admin


class ProviderAdminService:
    def __init__(self, monitor: ProviderMonitor) -> None:
        self._monitor = monitor

    def statuses(self, principal: Principal) -> list[ProviderStatus]:
        require_admin(principal)
        return self._monitor.statuses()
