"""What the app's settings say about this face (a face never reads config itself). Its own module so
that every routes module can take it without importing another routes module."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ProxyOptions:
    legacy_models: Mapping[str, str] = field(default_factory=dict)
    suggest: Mapping[str, list[str]] = field(default_factory=dict)
    image_model: str | None = None  # None: the media service's default
    max_n: int = 10
    heartbeat: float = 15.0
    cancel_on_disconnect: bool = True
