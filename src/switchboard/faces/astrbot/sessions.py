"""AstrBot sessions on top of conversations: a session is the caller's conversation with
origin = the platform id ("webchat" here), external_key = the session id, meta.username = the
username that created it (a session belongs to the key's owner AND that username)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from switchboard.core.domain.chat import ChatRequest
from switchboard.core.domain.conversations import Conversation, Message, MessageStatus, Part
from switchboard.core.domain.errors import Conflict, InvalidInput, NotFound
from switchboard.core.domain.platforms import Profile
from switchboard.core.domain.users import Principal
from switchboard.core.services.bundle import Services
from switchboard.core.services.chat.replay import unnumbered
from switchboard.core.services.conversations.history import MAX_PAGE_SIZE, ConversationPatch, NewConversation
from switchboard.core.services.conversations.profiles import DEFAULT_PROFILE_ID
from switchboard.faces._shared.detach import Detacher
from switchboard.faces.astrbot.mapping import EMPTY_CHAT, attachment_ids, core_parts, utc_iso
from switchboard.faces.astrbot.schemas import ChatBody, WireMessage
from switchboard.faces.astrbot.stream import AstrBotEvents, Event, astrbot_events

PLATFORM = "webchat"
ANOTHER_USERNAME = "session_id belongs to another username"


@dataclass(slots=True)
class ChatPlan:
    """A checked chat request: whose, which session, what to say."""

    username: str
    session_id: str
    conversation: Conversation
    parts: list[Part]
    model: str | None
    streaming: bool


def check_username(raw: str | None) -> str:
    if raw is None:
        raise InvalidInput("Missing key: username", param="username")
    username = raw.strip()
    if not username:
        raise InvalidInput("username is empty", param="username")
    return username


def _opening(plan: ChatPlan, question: Message) -> list[Event]:
    return [
        {"type": "session_id", "data": None, "session_id": plan.session_id},
        {"type": "user_message_saved", "data": {"id": question.id, "created_at": utc_iso(question.created_at)}},
    ]


class ChatSessions:
    def __init__(self, services: Services, *, cancel_on_disconnect: bool, detacher: Detacher) -> None:
        self._services = services
        self._cancel = cancel_on_disconnect
        self._detacher = detacher

    async def plan(self, principal: Principal, body: ChatBody) -> ChatPlan:
        """Checks the request as AstrBot does (username, session, config, message) and opens the session."""
        username = check_username(body.username)
        session_id = body.requested_session or str(uuid.uuid4())
        profile = await self._services.profiles.resolve(body.config_id, body.config_name)
        if body.message is None:
            raise InvalidInput("Missing key: message or files", param="message")
        parts = await self.parts(principal, body.message, lenient=True)
        conversation = await self.open(principal, username, session_id, profile)
        return ChatPlan(username, session_id, conversation, parts, (body.selected_model or "").strip() or None,
                        body.streaming)

    async def start(self, principal: Principal, plan: ChatPlan, message_id: str | None = None, *,
                    resumable: bool = False) -> AsyncIterator[Event]:
        """Starts the turn (DomainError before anything streams) and returns its AstrBot events;
        `resumable` (the SSE chat): its events are kept, so the same request sent again resumes it."""
        # with streaming off the client gets the text in one piece anyway: the model is asked for it whole
        request = ChatRequest(conversation_id=plan.conversation.id, parts=plan.parts, model=plan.model,
                              streamed=plan.streaming)
        renderer = AstrBotEvents(message_id or str(uuid.uuid4()), plan.streaming)
        turn = await self._services.chat.start(request, principal)
        if resumable:
            events = unnumbered(self._services.answers.run(turn, keep_running=not self._cancel))
        else:
            events = turn.events() if self._cancel else self._detacher.detach(turn.events())
        return astrbot_events(_opening(plan, turn.user_message), renderer, events)

    async def resume(self, principal: Principal, plan: ChatPlan) -> AsyncIterator[Event] | None:
        """The same request sent again (a client that lost its stream): when the session's last
        answer is still being written for this very message, that answer again from its start (the
        SSE stream has no event ids), on any worker, without a new turn; None otherwise."""
        recent = await self._services.conversations.messages(principal, plan.conversation.id, 2)
        if len(recent) < 2:
            return None
        question, answer = recent
        asked = "".join(p.text or "" for p in plan.parts if p.type == "text")
        # only while it runs: AstrBot clients send the same words again on purpose once it has ended
        if (question.role, answer.role, answer.status) != ("user", "assistant", MessageStatus.STREAMING) or (
                question.text != asked):
            return None
        numbered = await self._services.answers.resume(principal, answer.id, 0)
        renderer = AstrBotEvents(str(uuid.uuid4()), plan.streaming)
        return astrbot_events(_opening(plan, question), renderer, unnumbered(numbered))

    async def parts(self, principal: Principal, message: WireMessage | None, empty: str = EMPTY_CHAT, *,
                    lenient: bool = False) -> list[Part]:
        """The message's parts; `lenient` (the chat) drops unusable ones instead of refusing (see core_parts)."""
        files = {}
        for file_id in attachment_ids(message):
            try:
                files[file_id] = await self._services.files.describe(principal.user_id, file_id)
            except NotFound:
                continue  # reported by core_parts as AstrBot words it
        return core_parts(message, files, empty=empty, lenient=lenient)

    async def open(self, principal: Principal, username: str, session_id: str, profile: Profile | None
                   ) -> Conversation:
        conversations = self._services.conversations
        found = await conversations.find(principal, PLATFORM, session_id)
        if found is None:
            new = NewConversation(origin=PLATFORM, external_key=session_id, meta={"username": username},
                                  profile_id=profile.id if profile else DEFAULT_PROFILE_ID)
            return await conversations.create(principal, new)
        owner = found.meta.get("username")
        if owner is not None and owner != username:
            raise Conflict(ANOTHER_USERNAME)
        patch = ConversationPatch(
            profile_id=profile.id if profile and profile.id != found.profile_id else None,
            meta={"username": username} if owner is None else None,  # a session opened by a proactive message
        )
        if patch.profile_id is None and patch.meta is None:
            return found
        return await conversations.update(principal, found.id, patch)

    async def page(self, principal: Principal, username: str, page: int, page_size: int,
                   platform_id: str | None) -> tuple[list[Conversation], int]:
        """The username's sessions, newest first (the caller's conversations filtered by creator)."""
        mine: list[Conversation] = []
        batch = 1
        while True:
            found, total = await self._services.conversations.list(
                principal, batch, MAX_PAGE_SIZE, origin=platform_id or None)
            mine += [c for c in found if c.meta.get("username") == username and c.project_id is None]
            if batch * MAX_PAGE_SIZE >= total or not found:
                break
            batch += 1
        start = (page - 1) * page_size
        return mine[start:start + page_size], len(mine)
