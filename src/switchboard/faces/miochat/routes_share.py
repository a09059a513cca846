"""Sharing a conversation: `POST /api/share {"contactor": {...}}` -> `{"shareUrl", "previewImg"}`.

The contactor names the conversation by `conversation_id`, or by its `id` (the contact, whose
conversation this face keeps under origin "miochat"). `GET /share/{token}` is the read-only page
(every text escaped), `GET /share/{token}/preview.png` the card, `DELETE /api/share/{token}` lets
the owner revoke the link (then both answer 404)."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import HTMLResponse, Response

from switchboard.core.domain.errors import NotFound
from switchboard.core.services.bundle import Services
from switchboard.core.services.conversations.shares import SharedView, ShareService
from switchboard.faces._shared.client import client_address
from switchboard.faces._shared.responses import FastJSONResponse
from switchboard.faces.miochat.auth import PLATFORM, Authenticator, MioClient
from switchboard.faces.miochat.envelope import success
from switchboard.faces.miochat.options import MioOptions
from switchboard.faces.miochat.preview import CardLine, render_card
from switchboard.faces.miochat.schemas import ShareBody
from switchboard.faces.miochat.share_page import share_html

PREVIEW_LINES = 6


def _lines(view: SharedView) -> list[CardLine]:
    return [CardLine(m.role, m.text) for m in view.messages[:PREVIEW_LINES]]


def share_router(services: Services, shares: ShareService, auth: Authenticator, options: MioOptions) -> APIRouter:
    router = APIRouter(tags=["miochat"])

    async def client_of(request: Request) -> MioClient:
        return await auth.principal(request.headers, request.query_params, client_address(request))

    Caller = Annotated[MioClient, Depends(client_of)]

    def base_url(request: Request) -> str:
        return (options.share_base_url or str(request.base_url)).rstrip("/")

    @router.post("/api/share")
    async def create_share(request: Request, client: Caller, body: ShareBody) -> Response:
        contactor = body.contactor
        conversation_id = contactor.get("conversation_id")
        if not isinstance(conversation_id, str) or not conversation_id:
            contact = contactor.get("id")
            found = await services.conversations.find(client.principal, PLATFORM, str(contact)) if (
                contact is not None) else None
            if found is None:
                raise NotFound("no conversation with this contact yet")
            conversation_id = found.id
        name = contactor.get("name")
        share = await shares.create(client.principal, conversation_id, name if isinstance(name, str) else None)
        url = f"{base_url(request)}/share/{share.id}"
        return FastJSONResponse(success(None, {"shareUrl": url, "previewImg": f"{url}/preview.png",
                                               "token": share.id}))

    @router.delete("/api/share/{token}")
    async def revoke_share(client: Caller, token: str) -> Response:
        await shares.revoke(client.principal, token)
        return FastJSONResponse(success(None))

    @router.get("/share/{token}")
    async def share_page(token: str) -> Response:
        view = await shares.view(token)
        return HTMLResponse(share_html(view, f"/share/{token}/preview.png"),
                            headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex",
                                     "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src "
                                                                "'unsafe-inline'"})

    @router.get("/share/{token}/preview.png")
    async def share_preview(token: str) -> Response:
        view = await shares.view(token)
        title = view.share.title or view.conversation.title
        png = await asyncio.to_thread(render_card, title, _lines(view))
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    return router
