"""A chat turn on the native face: `POST /api/messages` (answer when done) and `/api/messages/stream`.

The hot path of every person using the web app, so these routes are answered as a plain ASGI
face (faces/_shared/plain_asgi) ahead of FastAPI, whose routing, middleware and dependency
injection cost more per turn than the rest of the face. FastAPI still declares them
(routes_chat.py: the OpenAPI document) and its handlers call the same `ChatTurns`; the plain
routes read credentials and the body by FastAPI's own rules (faces/_shared/json_body), so every
answer, bad input included, is the same.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import Response
from starlette.types import ASGIApp

from switchboard.core.domain import events as ev
from switchboard.core.domain.chat import ChatRequest
from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.faces._shared import json_body
from switchboard.faces._shared.credentials import bearer_token, require_principal
from switchboard.faces._shared.event_stream import EventStream
from switchboard.faces._shared.plain_asgi import Handler, PlainRequest, PlainRoute
from switchboard.faces.native.envelope import failure, ok
from switchboard.faces.native.mapping import message_out, message_parts
from switchboard.faces.native.schemas import MessageBody
from switchboard.faces.native.stream import native_sse

NEEDS = Scope.CHAT
ChatTurnAnswer = Callable[[Principal, MessageBody], Awaitable[Response]]


class ChatTurns:
    def __init__(self, services: Services, heartbeat: float, cancel_on_disconnect: bool) -> None:
        self._services = services
        self._heartbeat = heartbeat
        self._keep_running = not cancel_on_disconnect

    async def send(self, principal: Principal, body: MessageBody) -> Response:
        """The whole turn, then both messages as stored (or the turn's error)."""
        # nobody watches this answer grow: the model is asked for it whole (one upstream body)
        turn = await self._services.chat.start(await self._request(principal, body, streamed=False), principal)
        failed: ev.Failed | None = None
        batches = turn.batches()  # the lists themselves: no generator flattening them for us
        try:
            async for batch in batches:
                if isinstance(batch[-1], ev.Failed):  # a failure ends the turn: its list's last event
                    failed = batch[-1]
        finally:
            await batches.aclose()  # now, not when collected: a cancelled turn stores its end here
        if failed is not None:
            status = 429 if failed.code == "quota_exceeded" else 502 if failed.code.startswith("upstream") else 500
            return failure(status, failed.message, failed.code)
        # the turn holds the answer exactly as it was stored: no need to read it back
        return ok({"user_message": message_out(turn.user_message), "assistant_message": message_out(turn.assistant)})

    async def stream(self, principal: Principal, body: MessageBody) -> Response:
        turn = await self._services.chat.start(await self._request(principal, body, streamed=True), principal)
        events = self._services.answers.run(turn, keep_running=self._keep_running)
        return EventStream(native_sse(events), heartbeat=self._heartbeat)

    async def _request(self, principal: Principal, body: MessageBody, *, streamed: bool) -> ChatRequest:
        # unknown or someone else's file ids end here (404), before any quota hold or provider call
        files = await self._services.files.owned(principal.user_id, [
            *(i.file_id for i in body.images if i.file_id), *body.file_ids])
        return ChatRequest(
            conversation_id=body.conversation_id, parts=message_parts(body, files), tools_enabled=body.tools_enabled,
            model=body.model, regenerate=bool(body.regenerate), edit_message_id=body.edit_message_id,
            streamed=streamed,
        )

    def routes(self) -> list[PlainRoute]:
        """The plain routes (both spellings of /api/messages, as FastAPI serves them)."""
        accounts = self._services.accounts

        def plain(answer: ChatTurnAnswer) -> Handler:
            async def handle(request: PlainRequest) -> ASGIApp:
                # FastAPI's order: the body is read and parsed, then the credential checked, then the body validated
                value = json_body.decode(await request.body(), request.header(b"content-type"))
                principal = await require_principal(accounts, bearer_token(request.header(b"authorization")), NEEDS)
                return await answer(principal, json_body.validate(value, MessageBody))

            return handle

        return [PlainRoute("POST", "/api/messages", plain(self.send)),
                PlainRoute("POST", "/api/messages/", plain(self.send)),
                PlainRoute("POST", "/api/messages/stream", plain(self.stream))]

