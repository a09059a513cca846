"""Identifiers: unguessable, sortable by creation time, with a prefix saying what they name."""

from __future__ import annotations

import secrets
import time


def new_id(prefix: str) -> str:
    """`conv_0192f3a1b2c3d4e5f6a7b8c9`: 48-bit millisecond time + 64 random bits, hex."""
    return f"{prefix}_{int(time.time() * 1000):012x}{secrets.token_hex(8)}"


def new_secret(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)
