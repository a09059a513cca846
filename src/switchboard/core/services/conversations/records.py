"""A chat platform's users and their records (MuseBot's /user/* and /record/list), drawn from
Switchboard's own users, allowances, usage and conversations.

A record is one exchange: a user message (the question) and the assistant messages that answered it.
Admins see every platform user; anyone else only the platform ids linked to themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from switchboard.core.domain.conversations import Conversation, Message
from switchboard.core.domain.errors import NotFound
from switchboard.core.domain.users import Principal
from switchboard.core.ports.storage import Tx, UnitOfWork
from switchboard.core.services.accounts.guards import require_admin
from switchboard.core.services.accounts.identities import IdentityService
from switchboard.core.services.conversations.history import check_page
from switchboard.core.services.media.files import FileService

RECORD_TEXT, RECORD_IMAGE, RECORD_VIDEO, RECORD_WEB = 0, 1, 2, 3
_SCAN_LIMIT = 2000  # questions looked through when filtering by record type


@dataclass(frozen=True, slots=True)
class Record:
    id: int
    external_id: str
    question: str
    answer: str  # the reply's text, then its media as data URIs
    content: str  # what the user attached, as data URIs
    tokens: int
    deleted: bool
    created_at: datetime
    record_type: int


@dataclass(frozen=True, slots=True)
class PlatformUser:
    user_id: int  # the linked Switchboard user
    external_id: str
    mode: str | None
    used: int
    allowance: int
    unlimited: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class RecordQuery:
    page: int = 1
    page_size: int = 10
    external_id: str | None = None
    deleted: bool | None = None
    record_types: frozenset[int] | None = None  # any of these (MuseBot's `record_type=0,1,2,4`)


class RecordService:
    def __init__(self, uow: UnitOfWork, files: FileService, identities: IdentityService) -> None:
        self._uow = uow
        self._files = files
        self._identities = identities

    async def users(self, caller: Principal, platform: str, page: int, page_size: int,
                    external_id: str | None = None) -> tuple[list[PlatformUser], int]:
        check_page(page, page_size)
        found, total = await self._identities.list(caller, platform, page, page_size, external_id)
        out = []
        async with self._uow() as tx:
            for identity in found:
                quota = await tx.quotas.get(identity.user_id)
                chats, _ = await tx.conversations.list(identity.user_id, 1, 1, origin=platform,
                                                       external_key=identity.external_id)
                mode = identity.settings.get("mode")
                out.append(PlatformUser(
                    identity.user_id, identity.external_id, str(mode) if mode else None, quota.used,
                    quota.allowance, quota.unlimited, chats[0].updated_at if chats else identity.created_at,
                ))
        return out, total

    async def add_tokens(self, caller: Principal, platform: str, external_id: str, tokens: int) -> None:
        """Adds `tokens` (negative: a correction) to the allowance of the user behind a platform id
        (created on first use), who is held to it from then on: MuseBot shows the allowance as the
        user's `avail_token`, so an unlimited user stops being one. Admins only."""
        require_admin(caller)
        user, _ = await self._identities.act_as(caller, platform, external_id)
        async with self._uow() as tx:
            await tx.quotas.add_allowance(user.id, tokens, limit=True)

    async def records(self, caller: Principal, platform: str, query: RecordQuery) -> tuple[list[Record], int]:
        check_page(query.page, query.page_size)
        owner = None if caller.is_admin else caller.user_id
        origins = (platform, f"{platform}-log")
        async with self._uow() as tx:
            if query.record_types is None:
                questions, total = await tx.messages.list_across(
                    query.page, query.page_size, user_id=owner, origins=origins, external_key=query.external_id,
                    role="user", deleted=query.deleted)
                answers = await tx.messages.replies([q.id for q in questions])
            else:
                questions, answers, total = await self._typed(tx, owner, origins, query, query.record_types)
            chats = {c: await tx.conversations.get(c) for c in {q.conversation_id for q in questions}}
        return [await self._record(q, answers.get(q.id, []), chats[q.conversation_id]) for q in questions], total

    @staticmethod
    async def _typed(tx: Tx, owner: int | None, origins: tuple[str, ...], query: RecordQuery,
                     types: frozenset[int]) -> tuple[list[Message], dict[int, list[Message]], int]:
        """Record types are read from the answers, so a type filter looks through the newest records."""
        questions, _ = await tx.messages.list_across(
            1, _SCAN_LIMIT, user_id=owner, origins=origins, external_key=query.external_id, role="user",
            deleted=query.deleted)
        answers = await tx.messages.replies([q.id for q in questions])
        kept = [q for q in questions if _matched_types(_chosen(answers.get(q.id, []))) & types]
        start = (query.page - 1) * query.page_size
        return kept[start:start + query.page_size], answers, len(kept)

    async def _record(self, question: Message, replies: list[Message], chat: Conversation | None) -> Record:
        if chat is None:
            raise NotFound("the record's conversation is gone")
        chosen = _chosen(replies)
        answer = "".join(m.text for m in chosen)
        media = [p for m in chosen for p in m.parts if p.type != "text" and p.file_id]
        attached = [p for p in question.parts if p.type != "text" and p.file_id]
        return Record(
            id=question.id, external_id=chat.external_key or "", question=question.text,
            answer=answer + "".join([await self._uri(chat.user_id, p.file_id) for p in media if p.file_id]),
            content="".join([await self._uri(chat.user_id, p.file_id) for p in attached if p.file_id]),
            tokens=sum(m.usage.total_tokens for m in chosen if m.usage), deleted=question.is_deleted,
            created_at=question.created_at, record_type=_record_type(chosen),
        )

    async def _uri(self, user_id: int, file_id: str) -> str:
        try:
            return await self._files.data_uri(user_id, file_id)
        except NotFound:
            return ""


def _chosen(replies: list[Message]) -> list[Message]:
    """The answers still standing (a retry marks the old one deleted); all of them if none is."""
    live = [m for m in replies if not m.is_deleted]
    return live or replies


def _matched_types(answers: list[Message]) -> set[int]:
    """The types a record is listed under. Every record here came through a web API, which MuseBot
    stores twice: as its kind (text 0, image 1, video 2) and as a web exchange (3)."""
    kind = _record_type(answers)
    return {RECORD_TEXT if kind == RECORD_WEB else kind, RECORD_WEB}


def _record_type(answers: list[Message]) -> int:
    kinds = {p.type for m in answers for p in m.parts}
    return RECORD_VIDEO if "video" in kinds else RECORD_IMAGE if "image" in kinds else RECORD_WEB
