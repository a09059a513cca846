"""/api/files: what the web app attaches to a message (POST, multipart field `file`) and shows
again (GET, the bytes, to their owner only); scope `file`."""

from typing import Annotated

from fastapi import APIRouter, Depends, File, UploadFile
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response

from switchboard.core.domain.errors import InvalidInput
from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.faces.native.auth import principal_dependency
from switchboard.faces.native.envelope import ok
from switchboard.faces.native.mapping import file_out


def files_router(services: Services) -> APIRouter:
    router = APIRouter(tags=["files"])
    Filer = Annotated[Principal, Depends(principal_dependency(services, Scope.FILE))]

    @router.post("/api/files")
    async def upload(principal: Filer, file: Annotated[UploadFile | None, File()] = None) -> Response:
        if not isinstance(file, StarletteUpload):
            raise InvalidInput("send one file as the multipart field 'file'", param="file")
        # one byte past the limit is enough to refuse it, without reading a huge body into memory
        data = await file.read(services.files.max_bytes + 1)
        stored = await services.files.upload(principal, file.filename, file.content_type, data)
        return ok(file_out(stored), status=201)

    @router.get("/api/files/{file_id}")
    async def download(principal: Filer, file_id: str) -> Response:
        stored, data = await services.files.read(principal.user_id, file_id)
        # only images are shown in the page; anything else is a download, so an uploaded HTML or
        # SVG file can never run as a page of this origin
        inline = stored.mime.startswith("image/") and stored.mime != "image/svg+xml"
        disposition = f"{'inline' if inline else 'attachment'}; filename=\"{stored.name}\""
        headers = {"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff",
                   "Cache-Control": "private, max-age=3600"}
        return Response(data, media_type=stored.mime, headers=headers)

    return router
