"""The `onebot` protocol: the web user talks to the bot as a QQ-like contact.

A message goes to the engine in the conversation of that contact (origin "miochat", keyed by the
contact id, owned by the logged-in user); the bot's reply is published on the push bus channel
`miochat:<user_id>`, the same one proactive messages (AstrBot's `im/message`, platform miochat)
use, so every socket of that user shows it as a OneBot message. message_ids are the stored
messages' ids: `del_message` deletes one (from the history too), `forward_msg` pushes nodes.
The contact is the envelope's `id` or the frame's top-level `id` (the real client's), so each
contact keeps its own conversation and its pushes carry its id. When a OneBot bot is connected
and the credential has the `im` scope, a message goes into the contact's real QQ chat instead."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Iterator
from typing import Any, cast

from pydantic import TypeAdapter

from switchboard.core.domain import events as ev
from switchboard.core.domain.chat import ChatRequest
from switchboard.core.domain.conversations import Part, text_parts
from switchboard.core.domain.errors import InvalidInput, NotFound
from switchboard.core.domain.events import ChatEvent
from switchboard.core.domain.users import Scope
from switchboard.core.services.bundle import Services
from switchboard.core.services.conversations.history import NewConversation
from switchboard.core.services.conversations.proactive import push_channel
from switchboard.faces._shared.bounds import whole_number
from switchboard.faces.miochat.auth import PLATFORM, MioClient
from switchboard.faces.miochat.envelope import onebot_push, success
from switchboard.faces.miochat.mapping import part_segments, segment_parts
from switchboard.faces.miochat.ops_openai import store_images
from switchboard.faces.miochat.options import Emit, MioOptions
from switchboard.faces.miochat.schemas import (
    DeleteData,
    ForwardNode,
    OnebotEnvelope,
    OnebotMessageData,
    RequestFrame,
)

MESSAGE, DELETE, FORWARD = "message", "del_message", "forward_msg"
KINDS = {"message": MESSAGE, "send_msg": MESSAGE, "del_message": DELETE, "del_msg": DELETE,
         "delete_msg": DELETE, "forward_msg": FORWARD, "forward": FORWARD}
_NODES = TypeAdapter(list[ForwardNode])


def envelope_of(frame: RequestFrame) -> OnebotEnvelope:
    """The OneBot envelope in `data`; a bare segment array (the real client's) is a message. The
    contact is the envelope's `id`, else the frame's own top-level `id` (the real client's)."""
    if isinstance(frame.data, list):
        return OnebotEnvelope(id=frame.id, type=MESSAGE, data={"message": frame.data})
    if not isinstance(frame.data, dict):
        raise InvalidInput("data must be an object or a segment array", param="data")
    envelope = OnebotEnvelope.model_validate(frame.data)
    if envelope.id is None and frame.id is not None:
        envelope.id = frame.id
    return envelope


def kind_of(frame: RequestFrame, envelope: OnebotEnvelope) -> str:
    """What the frame asks: the envelope's `type` (or the frame's, or the HTTP path's)."""
    named = envelope.type or frame.type or MESSAGE
    kind = KINDS.get(named)
    if kind is None:
        raise InvalidInput(f"unknown onebot type: {named[:50]}", param="type")
    if kind == MESSAGE and _only_a_message_id(envelope):
        return DELETE  # seed 000's own del_message example is labelled "message" and names only a message_id
    return kind


def _only_a_message_id(envelope: OnebotEnvelope) -> bool:
    body = envelope.content if envelope.content is not None else envelope.data
    return isinstance(body, dict) and "message_id" in body and "message" not in body


def _message_id(raw: int | str) -> int:
    return whole_number(str(raw), "message_id", low=1)


class OnebotOps:
    def __init__(self, services: Services, options: MioOptions, push_ids: Iterator[int]) -> None:
        self._services = services
        self._options = options
        self._push_ids = push_ids

    async def handle(self, frame: RequestFrame, client: MioClient, emit: Emit) -> dict[str, Any] | None:
        envelope = envelope_of(frame)
        kind = kind_of(frame, envelope)
        if kind == MESSAGE:
            return await self.message(frame, envelope, client, emit)
        if kind == DELETE:
            await self.delete(frame, envelope, client, emit)
        else:
            await self.forward(frame, envelope, client, emit)
        return None

    def contact(self, envelope: OnebotEnvelope) -> str:
        contact = str(envelope.id).strip() if envelope.id is not None else self._options.bot_qq
        if not contact or len(contact) > 200:
            raise InvalidInput("the contact id must be 1-200 characters", param="id")
        return contact

    def relay_bot(self, client: MioClient) -> str | None:
        """The platform id of a connected OneBot bot that carries this user's messages into the real
        QQ chat of the contact (as the original's OneBot server did), or None: the Switchboard bot
        answers. Only for a credential with the `im` scope (a chat key or a shared code must not
        make the bot write to any QQ number it names)."""
        if Scope.IM not in client.principal.scopes:
            return None
        return next((b.platform_id for b in self._services.proactive.bots() if b.type == "onebot11" and b.running),
                    None)

    async def message(self, frame: RequestFrame, envelope: OnebotEnvelope, client: MioClient, emit: Emit
                      ) -> dict[str, Any] | None:
        """Ack with the stored user message's id, let the bot answer, push the answer; returns it."""
        body = OnebotMessageData.model_validate(envelope.data if envelope.data is not None else envelope.content)
        services, principal, contact = self._services, client.principal, self.contact(envelope)
        parts = await store_images(services, principal, segment_parts(body.message))
        relay = self.relay_bot(client)
        if relay is not None:
            # the way AstrBot's im/message reaches the bots; a refusal (or no bot after all)
            # raises, and the dispatcher answers it with a failure frame of this request_id
            delivery = await services.proactive.send(principal, relay, contact, parts)
            await emit(success(frame.request_id, {"message_id": delivery.message.id}))
            return None
        conversation = await services.conversations.find(principal, PLATFORM, contact)
        if conversation is None:
            conversation = await services.conversations.create(principal, NewConversation(
                title=f"Mio-Chat {contact}", origin=PLATFORM, external_key=contact))
        # the answer is pushed as one message: the model is asked for it whole
        request = ChatRequest(conversation_id=conversation.id, parts=parts, streamed=False)
        turn = await services.chat.start(request, principal)
        await emit(success(frame.request_id, {"message_id": turn.user_message.id}))
        answer: list[Part] = []
        message_id, error = turn.assistant.id, None
        async with contextlib.aclosing(cast(AsyncGenerator[ChatEvent, None], turn.events())) as events:
            async for event in events:
                if isinstance(event, ev.Attachment):
                    answer.append(Part(type="image" if event.kind == "image" else "file", file_id=event.file_id,
                                       mime=event.mime, name=event.name))
                elif isinstance(event, ev.Done):
                    message_id, answer = event.message_id, [*text_parts(event.content), *answer]
                elif isinstance(event, ev.Failed):
                    message_id, error = event.message_id or message_id, event.message
        if error is not None:
            answer = text_parts(f"[error] {error}")
        payload = {"session_id": contact, "message_id": message_id, "conversation_id": conversation.id,
                   "text": "".join(p.text or "" for p in answer), "parts": [p.model_dump(exclude_none=True)
                                                                             for p in answer]}
        if error is not None:
            payload["error"] = error
        await services.push.publish(push_channel(PLATFORM, principal.user_id), payload)
        return payload

    async def delete(self, frame: RequestFrame, envelope: OnebotEnvelope, client: MioClient, emit: Emit) -> None:
        raw = envelope.content if envelope.content is not None else envelope.data
        data = DeleteData.model_validate(raw if raw is not None else {})
        # a message that is not stored (seed 000's example names one), already deleted or another
        # user's: nothing is deleted, and the answer is the same, so no one probes others' ids
        with contextlib.suppress(NotFound):
            await self._services.conversations.delete_message(client.principal, _message_id(data.message_id))
        await emit(success(frame.request_id))

    async def forward(self, frame: RequestFrame, envelope: OnebotEnvelope, client: MioClient, emit: Emit) -> None:
        """Pushes the nodes back as one `nodes` segment; each node's stored message must be the
        caller's, and a node sent without its segments gets them from the stored message."""
        raw = envelope.content if envelope.content is not None else envelope.data
        nodes = _NODES.validate_python(raw if isinstance(raw, list) else [])
        if not nodes:
            raise InvalidInput("forward_msg needs a list of {message_id, message} nodes", param="content")
        messages: list[list[dict[str, Any]]] = []
        for node in nodes:
            segments = [s.model_dump() for s in node.message]
            if node.message_id is not None and not segments:
                segments = await self.stored_segments(client, node.message_id)
            messages.append(segments)
        message_id = next(self._push_ids)
        nodes_segment = [{"type": "nodes", "data": {"messages": messages}}]
        await emit(onebot_push(next(self._push_ids), self.contact(envelope), nodes_segment, message_id))
        await emit(success(frame.request_id, {"message_id": message_id}))

    async def stored_segments(self, client: MioClient, message_id: int | str) -> list[dict[str, Any]]:
        """A node's segments from the stored message it names; a message that is not the caller's
        (or not stored: the ids of seed 000's example are) forwards as an empty node, the same
        answer either way, so nobody learns which ids exist."""
        try:
            stored = await self._services.conversations.message(client.principal, _message_id(message_id))
        except (NotFound, InvalidInput):
            return []
        return await self.render(client, stored.parts)

    async def render(self, client: MioClient, parts: list[Part]) -> list[dict[str, Any]]:
        """Parts -> segments; stored images travel as data URIs (the socket is the only way in)."""
        urls: dict[str, str] = {}
        for part in parts:
            if part.type == "image" and part.file_id and not part.url:
                with contextlib.suppress(Exception):
                    urls[part.file_id] = await self._services.files.data_uri(client.principal.user_id, part.file_id)
        return part_segments(parts, urls)

    async def pushed(self, client: MioClient, payload: dict[str, Any]) -> dict[str, Any]:
        """A push bus payload (a bot reply or a proactive message) -> the OneBot frame the client gets."""
        parts = [Part.model_validate(p) for p in payload.get("parts") or []] or text_parts(str(payload.get("text", "")))
        segments = await self.render(client, parts)
        return onebot_push(next(self._push_ids), str(payload.get("session_id", "")), segments,
                           payload.get("message_id") or next(self._push_ids))
