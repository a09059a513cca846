"""/v1/models, /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/images/*, /v1/audio/*.

Each handler: credentials -> parse and check the body -> one gateway call -> the provider's bytes.
"""


from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from switchboard.core.domain.errors import InvalidInput
from switchboard.core.ports.gateway import Multipart, UploadedFile
from switchboard.core.services import gateway as gw
from switchboard.core.services.gateway import Answer, Caller, GatewayService
from switchboard.core.services.models import ModelService
from switchboard.faces._shared.event_stream import EventStream
from switchboard.faces.openai import schemas as s
from switchboard.faces.openai.auth import caller_dependency
from switchboard.faces.openai.mapping import model_list, model_out, parse_body
from switchboard.faces.openai.stream import openai_sse

PREFIXES = ("/v1",)
_JSON = {"application/json": {"schema": {"type": "object"}}}
_FORM = {"multipart/form-data": {"schema": {"type": "object"}}}


def openai_router(gateway: GatewayService, models: ModelService, *, heartbeat: float) -> APIRouter:
    router = APIRouter(tags=["openai"])
    CallerDep = Annotated[Caller, Depends(caller_dependency(gateway))]

    def answer(result: Answer) -> Response:
        if result.stream is not None:
            return EventStream(openai_sse(result.stream), heartbeat=heartbeat)
        return Response(result.body, media_type=result.content_type)

    async def relay_json(caller: Caller, request: Request, endpoint: gw.Endpoint, schema: type[s._Body]) -> Response:
        raw = await request.body()
        return answer(await gateway.call(caller, endpoint, parse_body(raw, schema), raw))

    async def relay_form(caller: Caller, request: Request, endpoint: gw.Endpoint) -> Response:
        fields, files = await _read_form(request)
        if not fields.get("model"):
            raise InvalidInput("you must provide a model parameter", param="model")
        return answer(await gateway.call(caller, endpoint, dict(fields), Multipart(fields, files)))

    @router.get("/v1/models", response_model=s.ModelListOut)
    async def list_models(caller: CallerDep) -> Response:
        return Response(model_list(await models.available(caller.principal)).model_dump_json(exclude_none=True),
                        media_type="application/json")

    @router.get("/v1/models/{model_id:path}", response_model=s.ModelOut)
    async def get_model(caller: CallerDep, model_id: str) -> Response:
        found = await models.get(caller.principal, model_id)
        return Response(model_out(found).model_dump_json(exclude_none=True), media_type="application/json")

    @router.post("/v1/chat/completions", openapi_extra={"requestBody": {"content": _JSON, "required": True}})
    async def chat_completions(caller: CallerDep, request: Request) -> Response:
        return await relay_json(caller, request, gw.CHAT, s.ChatCompletionBody)

    @router.post("/v1/completions", openapi_extra={"requestBody": {"content": _JSON, "required": True}})
    async def completions(caller: CallerDep, request: Request) -> Response:
        return await relay_json(caller, request, gw.COMPLETIONS, s.CompletionBody)

    @router.post("/v1/embeddings", openapi_extra={"requestBody": {"content": _JSON, "required": True}})
    async def embeddings(caller: CallerDep, request: Request) -> Response:
        return await relay_json(caller, request, gw.EMBEDDINGS, s.EmbeddingsBody)

    @router.post("/v1/images/generations", openapi_extra={"requestBody": {"content": _JSON, "required": True}})
    async def images(caller: CallerDep, request: Request) -> Response:
        return await relay_json(caller, request, gw.IMAGES, s.ImagesBody)

    @router.post("/v1/audio/speech", openapi_extra={"requestBody": {"content": _JSON, "required": True}})
    async def speech(caller: CallerDep, request: Request) -> Response:
        return await relay_json(caller, request, gw.SPEECH, s.SpeechBody)

    @router.post("/v1/audio/transcriptions", openapi_extra={"requestBody": {"content": _FORM, "required": True}})
    async def transcriptions(caller: CallerDep, request: Request) -> Response:
        return await relay_form(caller, request, gw.TRANSCRIPTIONS)

    @router.post("/v1/images/edits", openapi_extra={"requestBody": {"content": _FORM, "required": True}})
    async def image_edits(caller: CallerDep, request: Request) -> Response:
        return await relay_form(caller, request, gw.IMAGE_EDITS)

    return router


async def _read_form(request: Request) -> tuple[dict[str, str], tuple[UploadedFile, ...]]:
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInput("this endpoint takes multipart/form-data")
    fields: dict[str, str] = {}
    files: list[UploadedFile] = []
    async with request.form() as form:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                data = await value.read()
                files.append(UploadedFile(name, value.filename or name, value.content_type or "", data))
            else:
                fields[name] = value
    if not files:
        raise InvalidInput("the request carries no file", param="file")
    return fields, tuple(files)
