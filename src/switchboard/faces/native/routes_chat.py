"""/api/conversations and /api/messages (both with and without the trailing slash); scope `chat`."""


from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from switchboard.core.domain import events as ev
from switchboard.core.domain.chat import ChatRequest
from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.bounds import INT64_MAX, PageNumber, RowId
from switchboard.faces._shared.event_stream import EventStream
from switchboard.faces.native.auth import principal_dependency
from switchboard.faces.native.envelope import failure, ok
from switchboard.faces.native.mapping import (
    conversation_out,
    conversation_patch,
    message_out,
    message_parts,
    new_conversation,
)
from switchboard.faces.native.schemas import ConversationBody, ConversationPatchBody, MessageBody
from switchboard.faces.native.stream import native_sse

Page = Annotated[PageNumber, Query()]
PageSize = Annotated[int, Query(ge=1, le=100)]
# the number of the last event a client got, from the SSE `id:` lines (EventSource sends it back itself)
LastEventHeader = Annotated[int | None, Header(alias="Last-Event-ID", ge=0, le=INT64_MAX)]
LastEventQuery = Annotated[int | None, Query(alias="last_event_id", ge=0, le=INT64_MAX)]


def chat_router(services: Services, heartbeat: float, cancel_on_disconnect: bool) -> APIRouter:
    router = APIRouter()
    Caller = Annotated[Principal, Depends(principal_dependency(services, Scope.CHAT))]
    conversations = services.conversations

    async def chat_request(principal: Principal, body: MessageBody) -> ChatRequest:
        # unknown or someone else's file ids end here (404), before any quota hold or provider call
        files = await services.files.owned(principal.user_id, [
            *(i.file_id for i in body.images if i.file_id), *body.file_ids])
        return ChatRequest(
            conversation_id=body.conversation_id, parts=message_parts(body, files), tools_enabled=body.tools_enabled,
            model=body.model, regenerate=bool(body.regenerate), edit_message_id=body.edit_message_id,
        )

    @router.get("/api/conversations", tags=["conversations"])
    @router.get("/api/conversations/", include_in_schema=False)
    async def list_conversations(
        principal: Caller, page: Page = 1, page_size: PageSize = 20, project_id: str | None = None,
        q: Annotated[str | None, Query(max_length=200, description="part of the title, any case")] = None,
    ) -> Response:
        items, total = await conversations.list(principal, page, page_size, project_id=project_id, title_contains=q)
        data = {"items": [conversation_out(c) for c in items], "total": total, "page": page, "page_size": page_size}
        return ok(data)

    @router.post("/api/conversations", tags=["conversations"])
    @router.post("/api/conversations/", include_in_schema=False)
    async def create_conversation(principal: Caller, body: ConversationBody) -> Response:
        created = await conversations.create(principal, new_conversation(body))
        return ok(conversation_out(created), "会话创建成功", status=201)

    @router.get("/api/conversations/{conversation_id}", tags=["conversations"])
    async def get_conversation(principal: Caller, conversation_id: str) -> Response:
        return ok(conversation_out(await conversations.get(principal, conversation_id)))

    @router.put("/api/conversations/{conversation_id}", tags=["conversations"])
    @router.patch("/api/conversations/{conversation_id}", include_in_schema=False)
    async def update_conversation(principal: Caller, conversation_id: str, body: ConversationPatchBody) -> Response:
        updated = await conversations.update(principal, conversation_id, conversation_patch(body))
        return ok(conversation_out(updated), "会话更新成功")

    @router.delete("/api/conversations/{conversation_id}", tags=["conversations"])
    async def delete_conversation(principal: Caller, conversation_id: str) -> Response:
        await conversations.delete(principal, conversation_id)
        return ok(message="会话删除成功")

    @router.get("/api/messages/{conversation_id}", tags=["messages"])
    async def list_messages(
        principal: Caller, conversation_id: str, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> Response:
        return ok([message_out(m) for m in await conversations.messages(principal, conversation_id, limit)])

    @router.post("/api/messages", tags=["messages"])
    @router.post("/api/messages/", include_in_schema=False)
    async def send_message(principal: Caller, body: MessageBody) -> Response:
        turn = await services.chat.start(await chat_request(principal, body), principal)
        failed: ev.Failed | None = None
        async for event in turn.events():
            if isinstance(event, ev.Failed):
                failed = event
        if failed is not None:
            status = 429 if failed.code == "quota_exceeded" else 502 if failed.code.startswith("upstream") else 500
            return failure(status, failed.message, failed.code)
        # the turn holds the answer exactly as it was stored: no need to read it back
        return ok({"user_message": message_out(turn.user_message), "assistant_message": message_out(turn.assistant)})

    @router.post("/api/messages/stream", tags=["messages"])
    async def stream_message(principal: Caller, body: MessageBody) -> Response:
        turn = await services.chat.start(await chat_request(principal, body), principal)
        events = services.answers.run(turn, keep_running=not cancel_on_disconnect)
        return EventStream(native_sse(events), heartbeat=heartbeat)

    @router.get("/api/messages/{message_id}/stream", tags=["messages"])
    async def resume_stream(
        principal: Caller, message_id: RowId, last_event_id: LastEventHeader = None, after: LastEventQuery = None,
    ) -> Response:
        """The answer `message_id` (the `start` event's) again after a lost connection: the events
        after `Last-Event-ID` (or `?last_event_id=`; none: from the start), then the live tail;
        an answer that has ended comes back as the stored message (`start`, then `done` or `error`)."""
        resumed_after = last_event_id if last_event_id is not None else after or 0
        events = await services.answers.resume(principal, message_id, resumed_after)
        return EventStream(native_sse(events, message_id), heartbeat=heartbeat)

    @router.post("/api/messages/{message_id}/stop", tags=["messages"])
    async def stop_answer(principal: Caller, message_id: RowId) -> Response:
        """Stop the answer `message_id` now, on whichever worker runs it (closing the stream only
        starts the grace period in which a client may come back for it); it is stored as interrupted."""
        await services.answers.stop(principal, message_id)
        return ok(message="已停止")

    @router.delete("/api/messages/{message_id}", tags=["messages"])
    async def delete_message(principal: Caller, message_id: RowId) -> Response:
        await conversations.delete_message(principal, message_id)
        return ok(message="消息删除成功")

    return router
