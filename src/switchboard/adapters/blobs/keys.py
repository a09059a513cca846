"""The keys every blob store accepts: file ids, never paths (no `/`, no leading dot)."""

from __future__ import annotations

import re

from switchboard.core.domain.errors import NotFound

_SAFE_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")


def checked_key(key: str) -> str:
    """The key itself, or NotFound: an unsafe key names nothing that could have been stored."""
    if not _SAFE_KEY.match(key) or key.startswith("."):
        raise NotFound("file not found")
    return key
