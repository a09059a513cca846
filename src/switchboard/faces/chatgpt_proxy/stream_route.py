"""The route class of the `/stream` and `/sse` routes: every failure, wherever it is found (bad
credentials, a malformed body, a refused turn), is answered as the stream itself, an `error`
object then the `end` object with HTTP 200, because this API's clients read the body, not the
status (stream.py). The plain routes keep the envelope with the fitting status."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from switchboard.core.domain.errors import DomainError
from switchboard.faces._shared.errors import describe_problems, status_for
from switchboard.faces.chatgpt_proxy.stream import Framing


def stream_route(framing: Framing) -> type[APIRoute]:
    class StreamRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def answer_in_the_stream(request: Request) -> Response:
                try:
                    return await handler(request)
                except DomainError as exc:
                    return framing.error_response(status_for(exc), exc.message)
                except RequestValidationError as exc:
                    return framing.error_response(422, describe_problems(exc.errors()))

            return answer_in_the_stream

    return StreamRoute
