"""POST /api/v1/chat (SSE) and GET /api/v1/chat/sessions."""


from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import Response

from switchboard.core.domain.errors import InvalidInput
from switchboard.core.domain.users import Principal, Scope
from switchboard.core.services.bundle import Services
from switchboard.faces._shared.event_stream import EventStream
from switchboard.faces.astrbot.auth import scoped
from switchboard.faces.astrbot.envelope import ok
from switchboard.faces.astrbot.mapping import session_out
from switchboard.faces.astrbot.pushes import with_pushes
from switchboard.faces.astrbot.schemas import ChatBody
from switchboard.faces.astrbot.sessions import ChatSessions, check_username
from switchboard.faces.astrbot.stream import sse_bytes


def chat_router(services: Services, sessions: ChatSessions, heartbeat: float) -> APIRouter:
    router = APIRouter()
    Chatter = Annotated[Principal, Depends(scoped(services, Scope.CHAT))]

    @router.post("/api/v1/chat", tags=["astrbot"])
    async def chat(principal: Chatter, body: ChatBody) -> Response:
        plan = await sessions.plan(principal, body)
        # the same request again while its answer runs: a client that lost the stream resumes it
        events = await sessions.resume(principal, plan) or await sessions.start(principal, plan, resumable=True)
        live = with_pushes(services.push, principal.user_id, plan.session_id, events)
        return EventStream(sse_bytes(live), heartbeat=heartbeat)

    @router.get("/api/v1/chat/sessions", tags=["astrbot"])
    async def chat_sessions(
        principal: Chatter, username: str | None = None, page: str = "1", page_size: str = "20",
        platform_id: str | None = None,
    ) -> Response:
        creator = check_username(username)
        number, size = _paging(page, page_size)
        found, total = await sessions.page(principal, creator, number, size, platform_id)
        return ok({"sessions": [session_out(c) for c in found], "page": number, "page_size": size, "total": total})

    return router


def _paging(page: str, page_size: str) -> tuple[int, int]:
    """AstrBot's rules: integers, page at least 1, page_size clamped to 1..100."""
    try:
        number, size = int(page), int(page_size)
    except ValueError:
        raise InvalidInput("page and page_size must be integers") from None
    return max(1, min(number, 1_000_000)), max(1, min(size, 100))
