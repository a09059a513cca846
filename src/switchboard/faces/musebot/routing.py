"""MuseBot registers every route with Go's `HandleFunc`, which takes any method: its admin console sends
`GET /mcp/delete`, `GET /mcp/disable`, `POST /mcp/sync`... So each route here takes them all too; the
methods the seed documents appear in /openapi.json (one operation each), the others are left out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from fastapi import APIRouter, Request

from switchboard.core.domain.errors import InvalidInput

Handler = TypeVar("Handler", bound=Callable[..., Any])
EVERY_METHOD = ("GET", "POST", "PUT", "PATCH", "DELETE")


def any_method(router: APIRouter, path: str, *documented: str, in_schema: bool = True
               ) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        shown = documented if in_schema else ()
        for method in shown:
            router.api_route(path, methods=[method])(handler)
        rest = [m for m in EVERY_METHOD if m not in shown]
        router.api_route(path, methods=rest, include_in_schema=False)(handler)
        return handler

    return register


async def fields_of(request: Request) -> Mapping[str, str]:
    """The query string, then form fields (as Go's `r.FormValue` reads them) or a JSON object's
    text and number fields."""
    fields = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if not (await request.body()).strip():  # the console says application/json on empty GETs too
        return fields
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        fields.update({k: v for k, v in form.items() if isinstance(v, str)})
    elif content_type.startswith("application/json"):
        try:
            data = await request.json()
        except ValueError:
            raise InvalidInput("the body is not valid JSON") from None
        if isinstance(data, dict):
            fields.update({k: str(v) for k, v in data.items() if isinstance(v, str | int) and not isinstance(v, bool)})
    return fields
