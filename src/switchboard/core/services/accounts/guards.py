"""Checks every service runs before acting for a principal (here, not in faces' handlers)."""

from __future__ import annotations

from switchboard.core.domain.errors import Forbidden
from switchboard.core.domain.users import Principal


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("administrator access required")
