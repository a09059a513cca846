"""The same envelopes over HTTP POST at the labelled paths (a convenience beside the WebSocket).

Credentials: the `mio-chat-id` / `mio-chat-token` headers, or `Authorization: Bearer <API key>`;
`/api/system/login` takes them in the body as the login frame does. The answer is the reply frame
(with the request's request_id); `/api/openai/completions` streams its frames as NDJSON, one per
line, and an onebot message answers once the bot has replied, with the reply in `data.reply`."""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from pydantic import ValidationError
from starlette.responses import Response

from switchboard.core.domain.errors import Unauthenticated
from switchboard.faces._shared.client import client_address
from switchboard.faces._shared.event_stream import EventStream
from switchboard.faces._shared.responses import FastJSONResponse
from switchboard.faces.miochat.auth import Authenticator, MioClient
from switchboard.faces.miochat.dispatch import Dispatcher, describe
from switchboard.faces.miochat.envelope import failure
from switchboard.faces.miochat.options import MioOptions
from switchboard.faces.miochat.schemas import HttpFrame, LoginData, RequestFrame

NDJSON_HEADERS = [
    (b"content-type", b"application/x-ndjson; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


def _frame(body: HttpFrame, protocol: str, type_: str) -> RequestFrame:
    data = body.data
    # the path names the operation: seed 000's del_message example labels its envelope "message"
    if protocol == "onebot" and isinstance(data, dict) and (type_ != "message" or not data.get("type")):
        data = {**data, "type": type_}
    return RequestFrame(request_id=body.request_id, protocol=protocol, type=type_, id=body.id, data=data)


def _reply(frames: list[dict[str, Any]], request_id: object) -> Response:
    mine = [f for f in frames if f.get("request_id") == request_id and "code" in f] or frames
    reply = mine[-1] if mine else failure(request_id, "no reply")  # type: ignore[arg-type]
    return FastJSONResponse(reply, status_code=200 if reply.get("code") == 0 else 400)


def http_router(auth: Authenticator, dispatcher: Dispatcher, options: MioOptions) -> APIRouter:
    router = APIRouter(tags=["miochat"])

    async def client_of(request: Request) -> MioClient:
        return await auth.principal(request.headers, request.query_params, client_address(request))

    # a dependency, so a credential is refused (401/403) before the body is looked at
    Client = Annotated[MioClient, Depends(client_of)]

    async def collect(frame: RequestFrame, client: MioClient) -> tuple[list[dict[str, Any]], Any]:
        frames: list[dict[str, Any]] = []

        async def emit(out: dict[str, Any]) -> None:
            frames.append(out)

        handler, _ = dispatcher.resolve(frame)
        result = await dispatcher.run(handler, frame, client, emit)
        return frames, result

    @router.post("/api/system/login")
    async def login(request: Request, body: HttpFrame) -> Response:
        try:
            data = LoginData.model_validate(body.data if isinstance(body.data, dict) else {})
        except ValidationError as exc:
            return FastJSONResponse(failure(body.request_id, describe(exc)), status_code=422)
        try:
            client = await auth.login(data.client_id, data.token, address=client_address(request))
        except Unauthenticated as exc:
            return FastJSONResponse(failure(body.request_id, exc.message), status_code=401)
        frames, _ = await collect(_frame(body, "system", "login"), client)
        return _reply(frames, body.request_id)

    @router.post("/api/system/heartbeat")
    @router.post("/api/openai/models")
    @router.post("/api/onebot/del_message")
    @router.post("/api/onebot/forward_msg")
    async def simple(request: Request, client: Client, body: HttpFrame) -> Response:
        _, protocol, type_ = request.url.path.rsplit("/", 2)
        frames, _ = await collect(_frame(body, protocol, type_), client)
        return _reply(frames, body.request_id)

    @router.post("/api/onebot/message")
    async def onebot_message(client: Client, body: HttpFrame) -> Response:
        frames, reply = await collect(_frame(body, "onebot", "message"), client)
        response = _reply(frames, body.request_id)
        if reply is not None and isinstance(response, FastJSONResponse):
            ack = orjson.loads(response.body)
            ack["data"]["reply"] = await dispatcher.onebot.pushed(client, reply)
            return FastJSONResponse(ack)
        return response

    @router.post("/api/openai/completions")
    async def completions(client: Client, body: HttpFrame) -> Response:
        frame = _frame(body, "openai", "completions")
        handler, _ = dispatcher.resolve(frame)
        return EventStream(_ndjson(dispatcher, handler, frame, client), heartbeat=options.stream_heartbeat,
                           ping=b"\n", headers=NDJSON_HEADERS)

    return router


async def _ndjson(dispatcher: Dispatcher, handler: Any, frame: RequestFrame, client: MioClient
                  ) -> AsyncIterator[bytes]:
    """The handler's frames as NDJSON lines; the client leaving cancels the turn (kept as interrupted)."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def emit_live(out: dict[str, Any]) -> None:
        queue.put_nowait(orjson.dumps(out) + b"\n")

    async def produce() -> None:
        try:
            await dispatcher.run(handler, frame, client, emit_live)
        finally:
            queue.put_nowait(None)

    task = asyncio.create_task(produce())
    try:
        while (line := await queue.get()) is not None:
            yield line
    finally:
        if not task.done():
            task.cancel()
        await asyncio.gather(task, return_exceptions=True)
