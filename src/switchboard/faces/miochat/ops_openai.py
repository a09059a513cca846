"""The `system` and `openai` protocols: login data, heartbeat, models and streamed completions.

Completions carry the client's whole history (Mio-Chat keeps it in the browser). Each contact's
requests continue one conversation (origin "miochat-openai", threads.py says how it is found), so
each question and answer is stored once, metered and visible in the user's history like any other
turn; what the client sent before is not stored again."""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import time
from collections.abc import AsyncGenerator
from typing import Any, cast

from switchboard.core.domain.chat import ChatRequest
from switchboard.core.domain.conversations import Part
from switchboard.core.domain.errors import DomainError, InvalidInput, NotFound, UnknownModel
from switchboard.core.domain.events import ChatEvent
from switchboard.core.domain.users import Principal
from switchboard.core.services.bundle import Services
from switchboard.faces.miochat.auth import MioClient
from switchboard.faces.miochat.envelope import success
from switchboard.faces.miochat.mapping import group_models, is_data_uri, split_history
from switchboard.faces.miochat.options import Emit, MioOptions
from switchboard.faces.miochat.schemas import CompletionsData, HeartbeatData, RequestFrame
from switchboard.faces.miochat.stream import OpenaiFrames, openai_frames
from switchboard.faces.miochat.threads import thread_for
from switchboard.faces.miochat.uploads import uploaded_file

log = logging.getLogger(__name__)


async def store_images(services: Services, principal: Principal, parts: list[Part]) -> list[Part]:
    """Data-URI images become stored files (the message then points at them), the address of one
    of the caller's uploads the file it names (someone else's is not found); URLs stay URLs."""
    out: list[Part] = []
    for part in parts:
        upload = uploaded_file(part.url) if part.type == "image" and part.url else None
        if upload is not None:
            owner, file_id = upload
            if owner != principal.user_id:
                raise NotFound("this uploaded image was not found", param="message")
            stored = await services.files.describe(principal.user_id, file_id)
            out.append(Part(type="image", file_id=stored.id, mime=stored.mime, name=stored.name))
            continue
        if part.type != "image" or not part.url or not is_data_uri(part.url):
            out.append(part)
            continue
        head, _, payload = part.url.partition(",")
        mime = head[5:].split(";", 1)[0] or "image/png"
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidInput("an image data URI is not valid base64", param="message") from exc
        stored = await services.files.upload(principal, f"image.{mime.rsplit('/', 1)[-1]}", mime, data)
        out.append(Part(type="image", file_id=stored.id, mime=stored.mime, name=stored.name))
    return out


class OpenaiOps:
    def __init__(self, services: Services, options: MioOptions) -> None:
        self._services = services
        self._options = options

    async def login_data(self, client: MioClient) -> dict[str, Any]:
        models = await self._services.models.available(client.principal)
        return {
            "is_admin": client.is_admin, "admin_qq": self._options.admin_qq, "bot_qq": self._options.bot_qq,
            "default_model": self._services.models.default_model, "models": group_models(models),
        }

    async def login(self, frame: RequestFrame, client: MioClient, emit: Emit) -> None:
        await emit(success(frame.request_id, await self.login_data(client)))

    async def heartbeat(self, frame: RequestFrame, client: MioClient, emit: Emit) -> None:
        data = HeartbeatData.model_validate(frame.data or {})
        now = int(time.time() * 1000)
        try:
            delay = max(0, now - int(float(data.timestamp))) if data.timestamp not in (None, "") else 0
        except (TypeError, ValueError):
            delay = 0
        await emit(success(frame.request_id, {"delay": delay, "revTime": now}, protocol="system", type_="heartbeat"))

    async def models(self, frame: RequestFrame, client: MioClient, emit: Emit) -> None:
        models = await self._services.models.available(client.principal)
        data = {"models": group_models(models), "default_model": self._services.models.default_model}
        await emit(success(frame.request_id, data, protocol="openai"))

    async def completions(self, frame: RequestFrame, client: MioClient, emit: Emit) -> None:
        body = CompletionsData.model_validate(frame.data or {})
        prior, question = split_history(body.messages)
        services, principal = self._services, client.principal
        question = await store_images(services, principal, question)
        thread = await thread_for(services, principal, client.client_id, prior,
                                  "".join(p.text or "" for p in question if p.type == "text"))
        conversation = thread.conversation
        extra = {k: v for k in ("presence_penalty", "frequency_penalty") if (v := getattr(body, k)) is not None}
        request = ChatRequest(
            conversation_id=conversation.id, parts=question, model=body.model, temperature=body.temperature,
            top_p=body.top_p, max_tokens=body.max_tokens, extra=extra, prior=thread.prior,
        )
        frames = OpenaiFrames(frame.request_id)
        try:
            try:
                turn = await services.chat.start(request, principal)
            except UnknownModel:
                if request.model is None:
                    raise
                # the client keeps a model per contact, picked from a list that changes (seed 000's
                # own example names "davinci"): a model that is gone is answered by the default one
                log.info("miochat: unknown model %r, answering with the default model", request.model)
                turn = await services.chat.start(request.model_copy(update={"model": None}), principal)
        except DomainError as exc:
            if thread.created:
                with contextlib.suppress(DomainError):  # nothing was asked: leave no empty conversation
                    await services.conversations.delete(principal, conversation.id)
            await emit(frames.failed(exc.message))
            return
        await emit(frames.pending())
        async with contextlib.aclosing(cast(AsyncGenerator[ChatEvent, None], turn.events())) as events:
            async for out in openai_frames(events, frames):
                await emit(out)
