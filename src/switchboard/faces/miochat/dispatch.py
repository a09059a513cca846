"""protocol + type -> handler, shared by the WebSocket and the HTTP POST variants.

A handler sends its frames through `emit`; whatever goes wrong becomes a failure frame carrying
the request's request_id (bad input, unknown protocol/type, a refused turn), never a closed socket."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from pydantic import ValidationError

from switchboard.core.domain.errors import DomainError, InvalidInput
from switchboard.core.services.bundle import Services
from switchboard.faces.miochat.auth import MioClient
from switchboard.faces.miochat.envelope import failure, from_domain
from switchboard.faces.miochat.ops_onebot import MESSAGE, OnebotOps, envelope_of, kind_of
from switchboard.faces.miochat.ops_openai import OpenaiOps
from switchboard.faces.miochat.options import Emit, MioOptions
from switchboard.faces.miochat.schemas import RequestFrame

log = logging.getLogger(__name__)
Handler = Callable[[RequestFrame, MioClient, Emit], Awaitable[Any]]
INTERRUPTS = frozenset({"interrupt", "stop", "abort", "cancel"})


def describe(exc: ValidationError) -> str:
    problems = []
    for problem in exc.errors()[:3]:
        where = ".".join(str(p) for p in problem.get("loc", ())) or "frame"
        problems.append(f"{where}: {problem.get('msg', 'invalid')}")
    return "invalid frame: " + "; ".join(problems)


class Dispatcher:
    def __init__(self, services: Services, options: MioOptions, push_ids: Iterator[int]) -> None:
        self.push_ids = push_ids  # request_ids of the frames the server starts (pushes, the login frame)
        self.openai = OpenaiOps(services, options)
        self.onebot = OnebotOps(services, options, push_ids)
        self._routes: dict[tuple[str, str], Handler] = {
            ("system", "login"): self.openai.login,
            ("system", "heartbeat"): self.openai.heartbeat,
            ("openai", "models"): self.openai.models,
            ("openai", "completions"): self.openai.completions,
        }

    def resolve(self, frame: RequestFrame) -> tuple[Handler, bool]:
        """(the handler, whether it runs long: a turn of the model, tracked by request_id)."""
        if frame.protocol == "onebot":
            return self.onebot.handle, kind_of(frame, envelope_of(frame)) == MESSAGE
        handler = self._routes.get((frame.protocol, frame.type or ""))
        if handler is None:
            known = frame.protocol in ("system", "openai")
            what = f"type: {str(frame.type)[:50]}" if known else f"protocol: {frame.protocol[:50]}"
            raise InvalidInput(f"unknown {what}", param="type" if known else "protocol")
        return handler, frame.type == "completions"

    async def run(self, handler: Handler, frame: RequestFrame, client: MioClient, emit: Emit) -> Any:
        """Runs one handler; its failure is answered with a failure frame."""
        try:
            return await handler(frame, client, emit)
        except ValidationError as exc:
            await emit(failure(frame.request_id, describe(exc), protocol=_protocol(frame)))
        except DomainError as exc:
            await emit(from_domain(frame.request_id, exc, protocol=_protocol(frame)))
        except Exception:
            log.exception("Mio-Chat %s/%s failed", frame.protocol, frame.type)
            await emit(failure(frame.request_id, "internal error; the details were logged", protocol=_protocol(frame)))
        return None


def _protocol(frame: RequestFrame) -> str | None:
    # openai replies carry their protocol (the real backend's sendOpenaiMessage); others do not
    return "openai" if frame.protocol == "openai" else None
