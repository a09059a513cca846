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
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, cast

from switchboard.core.domain.chat import ChatRequest
from switchboard.core.domain.conversations import Part
from switchboard.core.domain.errors import DomainError, InvalidInput, NotFound, UnknownModel
from switchboard.core.domain.events import ChatEvent
from switchboard.core.domain.users import Principal
from switchboard.core.services.bundle import Services
from switchboard.core.services.chat.replay import unnumbered
from switchboard.faces.miochat.auth import MioClient
from switchboard.faces.miochat.envelope import success
from switchboard.faces.miochat.mapping import group_models, is_data_uri, split_history
from switchboard.faces.miochat.options import Emit, MioOptions
from switchboard.faces.miochat.resume import answer_of, remember, resumed_frames
from switchboard.faces.miochat.schemas import CompletionsData, HeartbeatData, RequestFrame, RequestId
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
        self._answering: dict[tuple[int, str], int] = {}  # (user, request_id) -> the answer it streams here

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
        asked = "".join(p.text or "" for p in question if p.type == "text")
        running = await answer_of(services, principal, client.client_id, prior, asked, frame.request_id)
        if running is not None and await self._resume(frame, client, running, emit):
            return
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
        await remember(services, principal, conversation, frame.request_id, turn.assistant.id)
        await emit(frames.pending())
        # kept running past a dropped socket (for the grace period, or to its end) so the client can resume it
        numbered = services.answers.run(turn, keep_running=not self._options.cancel_on_disconnect)
        await self._stream(frame, client, turn.assistant.id, frames, unnumbered(numbered), emit)

    async def _resume(self, frame: RequestFrame, client: MioClient, message_id: int, emit: Emit) -> bool:
        """The same request again (the client lost its socket): its answer from the start, then
        the live tail, or the stored answer once it has ended; False when it is gone (deleted)."""
        try:
            numbered = await self._services.answers.resume(client.principal, message_id, 0)
        except NotFound:
            return False
        frames = OpenaiFrames(frame.request_id)
        await emit(frames.pending())
        await self._stream(frame, client, message_id, frames, unnumbered(numbered), emit, resumed=True)
        return True

    async def _stream(self, frame: RequestFrame, client: MioClient, message_id: int, frames: OpenaiFrames,
                      events: AsyncIterator[ChatEvent], emit: Emit, *, resumed: bool = False) -> None:
        key = (client.principal.user_id, str(frame.request_id))
        self._answering[key] = message_id
        render = resumed_frames if resumed else openai_frames
        try:
            async with contextlib.aclosing(cast(AsyncGenerator[ChatEvent, None], events)) as closing:
                async for out in render(closing, frames):
                    await emit(out)
        finally:
            if self._answering.get(key) == message_id:
                del self._answering[key]

    async def stop(self, client: MioClient, request_id: RequestId) -> None:
        """The client's interrupt: the answer ends now (stored as interrupted), not after the
        grace period a dropped socket gets."""
        message_id = self._answering.get((client.principal.user_id, str(request_id)))
        if message_id is not None:
            with contextlib.suppress(DomainError):
                await self._services.answers.stop(client.principal, message_id)
