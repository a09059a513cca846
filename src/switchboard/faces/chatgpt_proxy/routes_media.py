"""GET /openai/models, POST /openai/image, and GET /openai/image/file/{owner}/{file_id}.

Images are made through the providers' images API by the media service, which downloads a
provider's short-lived link and stores every image with the caller's files. A `url` answer points
at Switchboard's own copy, so the link keeps working after the provider's expires.

That link needs no credentials: old front-ends put it straight into `<img src>`, which cannot
send a bearer token. It is a capability URL: the file id carries 64 random bits (unguessable),
only image files are served through it, and the owner's id must match the file's.
"""


import base64
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from switchboard.core.domain.errors import NotFound
from switchboard.core.domain.users import Principal
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.bounds import RowId
from switchboard.faces.chatgpt_proxy.auth import GuestSource, principal_dependency
from switchboard.faces.chatgpt_proxy.envelope import ok
from switchboard.faces.chatgpt_proxy.mapping import check_n, suggest
from switchboard.faces.chatgpt_proxy.options import ProxyOptions
from switchboard.faces.chatgpt_proxy.schemas import ImageBody, ImageOut

IMAGE_FILE_ROUTE = "chatgpt_proxy_image_file"


def media_router(services: Services, options: ProxyOptions, guest: GuestSource | None) -> APIRouter:
    router = APIRouter()
    Caller = Annotated[Principal, Depends(principal_dependency(services, guest))]

    @router.get("/openai/models")
    async def models(principal: Caller) -> Response:
        # as the original listed OpenAI's models: what the providers serve, not the built-in
        # offline model nor the configured aliases
        available = [info.id for info in await services.models.available(principal)
                     if not info.builtin and info.alias_of is None]
        return ok({"models": available, "suggest": suggest(options.suggest, available, options.legacy_models)})

    @router.post("/openai/image")
    async def image(principal: Caller, body: ImageBody, request: Request) -> Response:
        check_n(body.n, 1, options.max_n)
        stored = await services.media.generate_images(
            principal, body.prompt, model=options.image_model, n=body.n, size=body.size
        )
        out = []
        for item in stored:
            if body.response_format == "b64_json":
                _, data = await services.files.read(principal.user_id, item.id)
                out.append(ImageOut(b64_json=base64.b64encode(data).decode()))
            else:
                link = request.url_for(IMAGE_FILE_ROUTE, owner=str(principal.user_id), file_id=item.id)
                out.append(ImageOut(url=str(link)))
        return ok([o.model_dump(exclude_none=True) for o in out])

    @router.get("/openai/image/file/{owner}/{file_id}", name=IMAGE_FILE_ROUTE)
    async def image_file(owner: RowId, file_id: str) -> Response:
        stored, data = await services.files.read(owner, file_id)
        if stored.kind != "image":
            raise NotFound("file not found")
        return Response(data, media_type=stored.mime, headers={
            "cache-control": "private, max-age=31536000, immutable", "x-content-type-options": "nosniff",
        })

    return router
