"""The upload routes of the Mio-Chat web client, in its own words:

- `POST /api/upload/image`: `{"image": "data:image/png;base64,…"}` (client.js `uploadImage`, 2024
  and 2025 clients), or the multipart field `image` (later clients' xhr); the answer's `data.url`
  is what the client shows and later sends in its messages.
- `POST /api/upload/file`: the multipart field `file` (client.js `uploadFile`, 2024 clients).
- `POST /api/upload/chunk` (multipart `file`, `md5`, `chunkIndex`, `totalChunks`, `filename`) then
  `POST /api/upload/finalize` `{"totalChunks", "md5", "filename"}`: a file in 1 MB parts (client.js
  `uploadFile` from Feb 2025, e6fba4c); the parts must put together the file the MD5 names.
- `GET /api/uploaded/<owner>/<file id>`: the bytes (images shown, anything else a download).

Uploads need the `file` scope (as /api/files does). Each is a stored file (size limit, type checks in
uploads.py); the answer is the original backend's `{"code": 0, "message": "success", "data": {"url"}}`."""

import base64
import binascii
import hashlib
from typing import Annotated
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, File, Request, UploadFile
from pydantic import BaseModel, Field, ValidationError
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response

from switchboard.core.domain.errors import InvalidInput, PayloadTooLarge
from switchboard.core.domain.users import Scope
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.bounds import RowId, whole_number
from switchboard.faces._shared.client import client_address
from switchboard.faces._shared.responses import FastJSONResponse
from switchboard.faces.miochat.auth import Authenticator, MioClient
from switchboard.faces.miochat.uploads import address, file_type, image_type

SUFFIX = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


class ImageBody(BaseModel):
    image: str  # a data URI


class FinalizeBody(BaseModel):
    total_chunks: int = Field(alias="totalChunks")
    md5: str
    filename: str | None = None


def _answer(url: str) -> Response:
    return FastJSONResponse({"code": 0, "message": "success", "data": {"url": url}})


def _data_uri_bytes(uri: str) -> bytes:
    head, comma, payload = uri.partition(",")
    if not comma or not head.startswith("data:") or not head.endswith(";base64"):
        raise InvalidInput("image must be a data URI: data:image/png;base64,…", param="image")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidInput("the image data URI is not valid base64", param="image") from exc


def upload_router(services: Services, auth: Authenticator) -> APIRouter:
    router = APIRouter(tags=["miochat"])

    async def uploader(request: Request) -> MioClient:
        return await auth.principal(request.headers, request.query_params, client_address(request), Scope.FILE)

    Uploader = Annotated[MioClient, Depends(uploader)]

    def within_limit(data: bytes) -> None:
        """Size before type: an oversize upload is told so, whatever it is."""
        if len(data) > services.files.max_bytes:
            raise PayloadTooLarge(f"the upload is larger than the limit of {services.files.max_bytes} bytes")

    async def read_part(request: Request, field: str) -> tuple[str | None, bytes]:
        form = await request.form(max_files=1, max_fields=20)
        item = form.get(field)
        if not isinstance(item, StarletteUpload):
            raise InvalidInput(f"send one file as the multipart field '{field}'", param=field)
        # one byte past the limit is enough to refuse it, without reading a huge body into memory
        return item.filename, await item.read(services.files.max_bytes + 1)

    @router.post("/api/upload/image")
    async def upload_image(request: Request, client: Uploader) -> Response:
        if request.headers.get("content-type", "").startswith("multipart/"):
            _, data = await read_part(request, "image")
        else:
            try:
                body = ImageBody.model_validate(orjson.loads(await request.body()))
            except (orjson.JSONDecodeError, ValidationError) as exc:
                raise InvalidInput('send {"image": "data:image/…;base64,…"} or the multipart field image',
                                   param="image") from exc
            data = _data_uri_bytes(body.image)
        within_limit(data)
        mime = image_type(data)
        stored = await services.files.upload(client.principal, f"image.{SUFFIX[mime]}", mime, data)
        return _answer(address(client.principal.user_id, stored.id))

    @router.post("/api/upload/file")
    async def upload_file(client: Uploader, file: Annotated[UploadFile | None, File()] = None) -> Response:
        if not isinstance(file, StarletteUpload):
            raise InvalidInput("send one file as the multipart field 'file'", param="file")
        data = await file.read(services.files.max_bytes + 1)
        within_limit(data)
        stored = await services.files.upload(client.principal, file.filename, file_type(file.filename, data), data)
        return _answer(address(client.principal.user_id, stored.id))

    @router.post("/api/upload/chunk")
    async def upload_chunk(request: Request, client: Uploader) -> Response:
        form = await request.form(max_files=1, max_fields=20)
        item, md5, index = form.get("file"), form.get("md5"), form.get("chunkIndex")
        if not isinstance(item, StarletteUpload) or not isinstance(md5, str) or not isinstance(index, str):
            raise InvalidInput("send the multipart fields file, md5 and chunkIndex", param="file")
        part = await item.read(services.files.max_bytes + 1)
        within_limit(part)
        await services.files.put_part(client.principal, md5.lower(), whole_number(index, "chunkIndex"), part)
        return FastJSONResponse({"code": 0, "message": "success", "data": {"chunkIndex": index}})

    @router.post("/api/upload/finalize")
    async def finalize(client: Uploader, body: FinalizeBody) -> Response:
        upload = body.md5.lower()
        data = await services.files.gather_parts(client.principal, upload, body.total_chunks)
        try:
            if hashlib.md5(data, usedforsecurity=False).hexdigest() != upload:
                raise InvalidInput("the parts do not make the file the md5 names: send them again", param="md5")
            stored = await services.files.upload(client.principal, body.filename, file_type(body.filename, data), data)
        finally:
            await services.files.drop_parts(client.principal, upload, body.total_chunks)
        return _answer(address(client.principal.user_id, stored.id))

    @router.get("/api/uploaded/{owner}/{file_id}")
    async def uploaded(owner: RowId, file_id: str) -> Response:
        stored, data = await services.files.read(owner, file_id)
        headers = {"cache-control": "private, max-age=31536000, immutable", "x-content-type-options": "nosniff",
                   "content-security-policy": "default-src 'none'"}
        if stored.kind != "image" or stored.mime == "image/svg+xml":
            headers["content-disposition"] = f"attachment; filename*=UTF-8''{quote(stored.name or 'file')}"
        return Response(data, media_type=stored.mime, headers=headers)

    return router
