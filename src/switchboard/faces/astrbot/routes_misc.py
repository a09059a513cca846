"""GET /api/v1/configs (and /chat/configs), POST|GET /api/v1/file, GET /api/v1/im/bots, POST /api/v1/im/message(s)."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response

from switchboard.core.domain.errors import InvalidInput, NotFound
from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.faces.astrbot.auth import scoped
from switchboard.faces.astrbot.envelope import error, ok
from switchboard.faces.astrbot.mapping import bot_out, config_out, parse_umo
from switchboard.faces.astrbot.schemas import SendMessageBody, UploadOut
from switchboard.faces.astrbot.sessions import ChatSessions


def misc_router(services: Services, sessions: ChatSessions) -> APIRouter:
    router = APIRouter()
    Configurer = Annotated[Principal, Depends(scoped(services, Scope.CONFIG))]
    Filer = Annotated[Principal, Depends(scoped(services, Scope.FILE))]
    Messenger = Annotated[Principal, Depends(scoped(services, Scope.IM))]

    @router.get("/api/v1/configs", tags=["astrbot"])
    @router.get("/api/v1/chat/configs", tags=["astrbot"])  # the path of AstrBot's newer clients
    async def configs(principal: Configurer) -> Response:
        return ok({"configs": [config_out(p) for p in await services.profiles.list()]})

    @router.post("/api/v1/file", tags=["astrbot"])
    async def upload(principal: Filer, file: Annotated[UploadFile | None, File()] = None) -> Response:
        if not isinstance(file, StarletteUpload):
            raise InvalidInput("Missing key: file")
        data = await file.read(services.files.max_bytes + 1)
        stored = await services.files.upload(principal, file.filename, file.content_type, data)
        return ok(UploadOut(attachment_id=stored.id, filename=stored.name, type=stored.kind).model_dump())

    @router.get("/api/v1/file", tags=["astrbot"])
    async def download(principal: Filer, attachment_id: str | None = None) -> Response:
        if not attachment_id:
            raise InvalidInput("Missing key: attachment_id")
        try:
            stored, data = await services.files.read(principal.user_id, attachment_id)
        except NotFound:  # a business error, HTTP 200, as AstrBot answers it
            return error("Attachment not found")
        disposition = f"inline; filename=\"{stored.name}\""
        return Response(data, media_type=stored.mime, headers={"Content-Disposition": disposition})

    @router.get("/api/v1/im/bots", tags=["astrbot"])
    async def bots(principal: Messenger) -> Response:
        # bot_ids as AstrBot lists its running platforms; bots: each IM platform's connection as well
        return ok({"bot_ids": list(services.proactive.platforms),
                   "bots": [bot_out(b) for b in services.proactive.bots()]})

    @router.post("/api/v1/im/message", tags=["astrbot"])
    @router.post("/api/v1/im/messages", include_in_schema=False)
    async def send_message(principal: Messenger, body: SendMessageBody) -> Response:
        if body.message is None:
            raise InvalidInput("Missing key: message")
        if not body.umo:
            raise InvalidInput("Missing key: umo")
        platform, message_type, session_id = parse_umo(body.umo)
        if platform not in services.proactive.platforms:
            raise NotFound(f"Bot not found or not running for platform: {platform}")
        parts = await sessions.parts(principal, body.message, empty="Message is empty")
        await services.proactive.send(principal, platform, session_id, parts, message_type)
        return ok()

    return router
