"""/v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/images/*, /v1/audio/*.

Served as a plain ASGI face (faces/_shared/plain_asgi): this is the gateway's hot path. Each
handler: credentials -> parse and check the body -> one gateway call -> the provider's bytes.
Every route needs the `chat` scope (NEEDS), checked with the other faces' routes in one place.
"""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp

from switchboard.core.domain.errors import InvalidInput
from switchboard.core.domain.users import Principal, Scope
from switchboard.core.ports.gateway import Multipart, UploadedFile
from switchboard.core.services.admin.models import ModelService
from switchboard.core.services.gateway import relay as gw
from switchboard.core.services.gateway.relay import Answer, GatewayService
from switchboard.faces._shared.credentials import check_scope
from switchboard.faces._shared.event_stream import EventStream
from switchboard.faces._shared.plain_asgi import ClientGone, Handler, PlainFace, PlainRequest, PlainRoute
from switchboard.faces.openai import schemas as s
from switchboard.faces.openai.auth import credential
from switchboard.faces.openai.envelope import render_error
from switchboard.faces.openai.mapping import model_list, model_out, parse_body
from switchboard.faces.openai.stream import openai_sse

PREFIXES = ("/v1",)
_MODELS = "/v1/models/"
_TAGS = ("openai",)
NEEDS = Scope.CHAT  # models, chat, embeddings, images and audio are all calls of a model


def openai_face(gateway: GatewayService, models: ModelService, *, heartbeat: float) -> PlainFace:
    async def caller(request: PlainRequest) -> Principal:
        return check_scope(await gateway.authenticate(credential(request)), NEEDS)

    def answer(result: Answer) -> ASGIApp:
        if result.stream is not None:
            return EventStream(openai_sse(result.stream), heartbeat=heartbeat)
        return Response(result.body, media_type=result.content_type)

    def relay_json(endpoint: gw.Endpoint, schema: type[s._Body]) -> Handler:
        async def handle(request: PlainRequest) -> ASGIApp:
            who = await caller(request)
            raw = await request.body()
            return answer(await gateway.call(who, endpoint, parse_body(raw, schema), raw))

        return handle

    def relay_form(endpoint: gw.Endpoint) -> Handler:
        async def handle(request: PlainRequest) -> ASGIApp:
            who = await caller(request)
            fields, files = await _read_form(request)
            if not fields.get("model"):
                raise InvalidInput("you must provide a model parameter", param="model")
            return answer(await gateway.call(who, endpoint, dict(fields), Multipart(fields, files)))

        return handle

    async def list_models(request: PlainRequest) -> ASGIApp:
        listed = model_list(await models.available(await caller(request)))
        return Response(listed.model_dump_json(exclude_none=True), media_type="application/json")

    async def get_model(request: PlainRequest) -> ASGIApp:
        who = await caller(request)
        found = await models.get(who, request.path[len(_MODELS):])
        return Response(model_out(found).model_dump_json(exclude_none=True), media_type="application/json")

    def json_route(path: str, endpoint: gw.Endpoint, schema: type[s._Body], summary: str) -> PlainRoute:
        return PlainRoute("POST", path, relay_json(endpoint, schema), summary, body=schema, tags=_TAGS)

    def form_route(path: str, endpoint: gw.Endpoint, summary: str) -> PlainRoute:
        return PlainRoute("POST", path, relay_form(endpoint), summary, form=True, tags=_TAGS)

    return PlainFace([
        PlainRoute("GET", "/v1/models", list_models, "The models this key may use", response=s.ModelListOut,
                   tags=_TAGS),
        PlainRoute("GET", _MODELS, get_model, "One model", prefix=True, doc_path="/v1/models/{model}",
                   response=s.ModelOut, tags=_TAGS),
        json_route("/v1/chat/completions", gw.CHAT, s.ChatCompletionBody, "Chat completion, plain or streamed"),
        json_route("/v1/completions", gw.COMPLETIONS, s.CompletionBody, "Legacy completion, plain or streamed"),
        json_route("/v1/embeddings", gw.EMBEDDINGS, s.EmbeddingsBody, "Embeddings"),
        json_route("/v1/images/generations", gw.IMAGES, s.ImagesBody, "Image generation"),
        json_route("/v1/audio/speech", gw.SPEECH, s.SpeechBody, "Text to speech"),
        form_route("/v1/audio/transcriptions", gw.TRANSCRIPTIONS, "Speech to text (multipart)"),
        form_route("/v1/images/edits", gw.IMAGE_EDITS, "Image edit (multipart)"),
    ], render_error)


async def _read_form(plain: PlainRequest) -> tuple[dict[str, str], tuple[UploadedFile, ...]]:
    if not (plain.header(b"content-type") or "").startswith("multipart/form-data"):
        raise InvalidInput("this endpoint takes multipart/form-data")
    fields: dict[str, str] = {}
    files: list[UploadedFile] = []
    request = Request(plain.scope, plain.receive)
    try:
        form = await request.form()
    except MultiPartException as exc:
        raise InvalidInput(f"the multipart body could not be read: {exc.message}") from exc
    except ClientDisconnect as exc:
        raise ClientGone from exc
    try:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                files.append(UploadedFile(name, value.filename or name, value.content_type or "", data))
            else:
                fields[name] = value
    finally:
        await form.close()  # the spooled temporary files
    if not files:
        raise InvalidInput("the request carries no file", param="file")
    return fields, tuple(files)
