"""Sharing: a snapshot of what the client posts, readable by its id without credentials.

- `POST /api/share/set` (clients from Mar 2025 on, src/lib/client.js `setOriginalContactor` and
  `shareMessages`) and `POST /api/share` (seed 000): `{"contactor": {...}}`, the contact as the
  browser holds it, messages included. Answer `{"shareUrl": "/s/<id>", "previewImage", "previewImg",
  "id"}`: `shareUrl` relative (the Mar 2025 client prefixes its origin), absolute with
  `miochat.share_base_url`. A contactor naming `conversation_id` (one of the caller's stored
  conversations, else 404) has that conversation's messages as its chain when it brings none.
- `GET /api/share?id=` (src/lib/client.js `loadOriginalContactors`): `{"contactor": {...}}`, the
  snapshot with the share's id as its `id`, as the original backend answered.
- `GET /s/<id>`: the web client's own page for the link when a Mio-Chat build is served at `/`,
  else a read-only page; `/share/<id>` the read-only page, `/share/<id>/preview.png` the card;
  `DELETE /api/share/<id>` lets the owner revoke the link (then all of these answer 404)."""

import asyncio
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import HTMLResponse, Response

from switchboard.core.domain.errors import NotFound, PayloadTooLarge
from switchboard.core.services.bundle import Services
from switchboard.core.services.conversations.shares import SharedView, ShareService
from switchboard.faces._shared.client import client_address
from switchboard.faces._shared.responses import FastJSONResponse
from switchboard.faces.miochat.auth import Authenticator, MioClient
from switchboard.faces.miochat.envelope import success
from switchboard.faces.miochat.options import MioOptions
from switchboard.faces.miochat.preview import CardLine, render_card
from switchboard.faces.miochat.schemas import ShareBody
from switchboard.faces.miochat.share_page import share_html
from switchboard.faces.miochat.share_snapshot import chain_lines, chain_of, share_title, shared_contactor, trimmed

PREVIEW_LINES = 6
MAX_CHAIN_FROM_CONVERSATION = 1000
PAGE_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex",
                "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"}


def _public(data: dict[str, object]) -> dict[str, object]:
    """The original backend's `makeStandardResponse`: code, message, data (no request_id)."""
    return {"code": 0, "message": "success", "data": data}


def share_router(services: Services, shares: ShareService, auth: Authenticator, options: MioOptions) -> APIRouter:
    router = APIRouter(tags=["miochat"])

    async def client_of(request: Request) -> MioClient:
        return await auth.principal(request.headers, request.query_params, client_address(request))

    Caller = Annotated[MioClient, Depends(client_of)]

    def link(path: str) -> str:
        return f"{options.share_base_url.rstrip('/')}{path}" if options.share_base_url else path

    async def page(view: SharedView) -> HTMLResponse:
        contactor = shared_contactor(view.share, view.messages)
        return HTMLResponse(share_html(share_title(view.share, contactor), chain_lines(contactor),
                                       view.share.created_at.date().isoformat(), f"/share/{view.share.id}/preview.png"),
                            headers=PAGE_HEADERS)

    @router.post("/api/share")
    @router.post("/api/share/set")
    async def create_share(client: Caller, body: ShareBody) -> Response:
        contactor = trimmed(body.contactor)
        if len(orjson.dumps(contactor)) > options.max_share_bytes:
            raise PayloadTooLarge(f"the shared contact is larger than {options.max_share_bytes} bytes")
        conversation_id = contactor.get("conversation_id")
        if conversation_id is not None:
            messages = await services.conversations.messages(client.principal, str(conversation_id),
                                                             MAX_CHAIN_FROM_CONVERSATION)
            if not isinstance(contactor.get("messageChain"), list):
                contactor = {**contactor, "messageChain": chain_of([m for m in messages if not m.is_deleted])}
        name = contactor.get("name")
        share = await shares.create(client.principal, contactor, name if isinstance(name, str) else None,
                                    str(conversation_id) if conversation_id is not None else None)
        preview = link(f"/share/{share.id}/preview.png")
        return FastJSONResponse(_public({"shareUrl": link(f"/s/{share.id}"), "previewImage": preview,
                                         "previewImg": preview, "id": share.id}))

    @router.get("/api/share")
    async def read_share(share_id: Annotated[str, Query(alias="id")] = "") -> Response:
        view = await shares.view(share_id.strip())
        return FastJSONResponse(_public({"contactor": shared_contactor(view.share, view.messages)}))

    @router.delete("/api/share/{token}")
    async def revoke_share(client: Caller, token: str) -> Response:
        await shares.revoke(client.principal, token)
        return FastJSONResponse(success(None))

    if not options.serves_web_client:  # else the Mio-Chat build's router opens /s/<id> itself
        @router.get("/s/{token}")
        async def short_page(token: str) -> Response:
            try:
                return await page(await shares.view(token))
            except NotFound as exc:
                return HTMLResponse(f"<!doctype html><title>404</title><p>{exc.message}</p>", status_code=404,
                                    headers=PAGE_HEADERS)

    @router.get("/share/{token}")
    async def share_page(token: str) -> Response:
        return await page(await shares.view(token))

    @router.get("/share/{token}/preview.png")
    async def share_preview(token: str) -> Response:
        view = await shares.view(token)
        contactor = shared_contactor(view.share, view.messages)
        lines = [CardLine(line.role, line.text) for line in chain_lines(contactor)[:PREVIEW_LINES]]
        png = await asyncio.to_thread(render_card, share_title(view.share, contactor), lines)
        return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})

    return router
