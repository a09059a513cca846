"""/api/conversations and /api/messages (both with and without the trailing slash); scope `chat`."""


from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from starlette.responses import Response

from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.bounds import INT64_MAX, PageNumber, RowId
from switchboard.faces._shared.event_stream import EventStream
from switchboard.faces.native.auth import principal_dependency
from switchboard.faces.native.envelope import ok
from switchboard.faces.native.mapping import (
    conversation_out,
    conversation_patch,
    message_out,
    new_conversation,
)
from switchboard.faces.native.schemas import ConversationBody, ConversationPatchBody, MessageBody
from switchboard.faces.native.stream import native_sse
from switchboard.faces.native.turns import ChatTurns

Page = Annotated[PageNumber, Query()]
PageSize = Annotated[int, Query(ge=1, le=100)]
# the number of the last event a client got, from the SSE `id:` lines (EventSource sends it back itself)
LastEventHeader = Annotated[int | None, Header(alias="Last-Event-ID", ge=0, le=INT64_MAX)]
LastEventQuery = Annotated[int | None, Query(alias="last_event_id", ge=0, le=INT64_MAX)]


def chat_router(services: Services, turns: ChatTurns, heartbeat: float) -> APIRouter:
    router = APIRouter()
    Caller = Annotated[Principal, Depends(principal_dependency(services, Scope.CHAT))]
    conversations = services.conversations

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

    # answered by the plain routes of turns.py ahead of FastAPI (declared here for the OpenAPI document)
    @router.post("/api/messages", tags=["messages"])
    @router.post("/api/messages/", include_in_schema=False)
    async def send_message(principal: Caller, body: MessageBody) -> Response:
        return await turns.send(principal, body)

    @router.post("/api/messages/stream", tags=["messages"])
    async def stream_message(principal: Caller, body: MessageBody) -> Response:
        return await turns.stream(principal, body)

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
