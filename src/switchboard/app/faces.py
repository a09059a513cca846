"""Which face answers which paths, and how each renders an error in its own envelope."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter
from starlette.responses import Response

from switchboard.core.domain.errors import DomainError

ErrorRenderer = Callable[[DomainError, int], Response]


@dataclass(frozen=True, slots=True)
class FaceMount:
    name: str
    prefixes: tuple[str, ...]
    router: APIRouter
    render_error: ErrorRenderer


class FaceTable:
    def __init__(self, faces: list[FaceMount], fallback: ErrorRenderer) -> None:
        # longest prefix first, so /api/v1 (AstrBot) wins over /api (native)
        self._by_prefix = sorted(
            ((prefix, face) for face in faces for prefix in face.prefixes), key=lambda item: -len(item[0])
        )
        self._fallback = fallback

    def renderer_for(self, path: str) -> ErrorRenderer:
        for prefix, face in self._by_prefix:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return face.render_error
        return self._fallback
