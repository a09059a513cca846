"""Persistence, one repository per aggregate, all reached through one transaction (`Tx`).

    async with uow() as tx:          # commits on a clean exit, rolls back on an exception
        await tx.users.update(user)
    async with uow.read() as tx:     # reads only; takes no write lock
        user = await tx.users.get(1)
    saved = await uow.run(store_turn)   # a hot-path step: one call, run where the database is
"""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Protocol, TypeVar

from switchboard.core.domain.conversations import Conversation, Message
from switchboard.core.domain.files import StoredFile
from switchboard.core.domain.platforms import PlatformIdentity, Profile, Share
from switchboard.core.domain.quotas import (
    Grant,
    Quota,
    Settlement,
    StoredHold,
    UsageEntry,
    UsageGroup,
    UsageRow,
    UsageSummary,
)
from switchboard.core.domain.users import ApiKey, Role, User

T = TypeVar("T")


class UserRepo(Protocol):
    async def add(self, username: str, email: str | None, password_hash: str | None, role: Role) -> User:
        """Raises Conflict when the username is taken."""
        ...

    async def get(self, user_id: int) -> User | None: ...
    async def by_username(self, username: str) -> User | None: ...
    async def list(self, page: int, page_size: int, query: str | None = None) -> tuple[list[User], int]: ...
    async def update(self, user: User) -> None: ...
    async def count_admins(self) -> int: ...


class ApiKeyRepo(Protocol):
    async def add(self, key: ApiKey) -> None: ...
    async def get(self, key_id: str) -> ApiKey | None: ...
    async def by_hash(self, key_hash: str) -> ApiKey | None: ...
    async def list_for_user(self, user_id: int) -> list[ApiKey]: ...
    async def list_with_owners(self, user_id: int | None) -> list[tuple[ApiKey, str]]:
        """Every key (or one user's) with its owner's username, oldest first."""
        ...

    async def update(self, key: ApiKey) -> None: ...
    async def touch(self, key_id: str, at: datetime) -> None: ...
    async def take_quota(self, key_id: str, tokens: int) -> bool:
        """Counts `tokens` of the key's quota as used (given to a key it made) when at least that
        many are unspent, in one atomic conditional update: two takes at once never get the same
        tokens, and `update` (which never writes tokens_used) cannot undo it."""
        ...


class RevokedTokenRepo(Protocol):
    async def revoke(self, token_id: str, expires_at: datetime) -> None: ...
    async def is_revoked(self, token_id: str) -> bool: ...


class ConversationRepo(Protocol):
    async def add(self, conversation: Conversation) -> None: ...
    async def get(self, conversation_id: str) -> Conversation | None: ...
    async def revision(self, conversation_id: str) -> int | None:
        """The conversation's revision as this transaction sees it (None: no such conversation)."""
        ...
    async def list(
        self, user_id: int, page: int, page_size: int, *,
        project_id: str | None = None, origin: str | None = None, external_key: str | None = None,
        title_contains: str | None = None,
    ) -> tuple[list[Conversation], int]:
        """Most recently updated first; `title_contains` matches case-insensitively, taken literally."""
        ...
    async def update(self, conversation: Conversation) -> None: ...
    async def delete(self, conversation_id: str) -> None: ...
    async def touch(self, conversation_id: str, at: datetime, title: str | None = None) -> None:
        """Marks it active at `at` and, given a `title`, retitles it: all a chat turn changes."""
        ...


class MessageRepo(Protocol):
    async def add(self, message: Message) -> Message:
        """Stores a new message and returns it with its id."""
        ...

    async def get(self, message_id: int) -> Message | None: ...
    async def list(
        self, conversation_id: str, limit: int = 100, include_deleted: bool = False
    ) -> builtins.list[Message]:
        """The newest `limit` messages, oldest first."""
        ...

    async def update(self, message: Message) -> None: ...
    async def mark_deleted(self, message_ids: builtins.list[int]) -> None: ...
    async def mark_conversation_deleted(self, conversation_id: str) -> int: ...

    async def list_across(
        self, page: int, page_size: int, *, user_id: int | None = None, origins: Sequence[str] = (),
        external_key: str | None = None, role: str | None = None, deleted: bool | None = None,
    ) -> tuple[builtins.list[Message], int]:
        """Messages of many conversations, newest first, deleted ones included unless `deleted` says
        otherwise; filtered by their conversation's owner, origin (any of `origins`) and external key."""
        ...

    async def replies(self, message_ids: builtins.list[int]) -> dict[int, builtins.list[Message]]:
        """For each given user message: the assistant messages after it in its conversation, up to
        the next user message, oldest first, deleted ones included (a record's answers)."""
        ...

    async def stranded(self, worker_ids: builtins.list[str]) -> builtins.list[tuple[Message, int]]:
        """`streaming` messages of these workers, or of no worker (written before workers were
        recorded), each with its conversation's owner."""
        ...

    async def finish_stranded(self, message: Message) -> bool:
        """Write a stranded message's end state if it is still `streaming`; False when another
        worker finished it first (so only one of them charges it)."""
        ...


class QuotaRepo(Protocol):
    async def get(self, user_id: int) -> Quota: ...
    async def ensure(self, user_id: int, allowance: int, unlimited: bool) -> None: ...
    async def reserve(self, user_id: int, want: int, minimum: int) -> Grant:
        """Atomically hold min(want, remaining) tokens if at least `minimum` remain (unlimited:
        always `want`). Returns what was held (0 when refused) and whether the user is unlimited.
        One conditional UPDATE, no read first."""
        ...

    async def settle(self, user_id: int, reserved: int, spent: int) -> None:
        """Release a reservation and charge what was really spent, in one UPDATE; a limited
        allowance is charged at most what it has left beside the other reservations (never
        overdrawn: the ledger still records the whole spend)."""
        ...

    async def reserve_key(self, key_id: str, want: int, minimum: int) -> int:
        """As `reserve`, against an API key's own token quota (a key without one grants `want`);
        returns what was held on the key, 0 when refused."""
        ...

    async def settle_key(self, key_id: str, reserved: int) -> None:
        """Release what a call held on a key; what it spent is counted by `record`."""
        ...

    async def release_reserved(self, user_id: int | None) -> int:
        """Drop one user's (None: everyone's) reservations and their keys', and forget the holds
        that named them; returns the user tokens released."""
        ...

    async def add_allowance(self, user_id: int, tokens: int, *, limit: bool = False) -> None:
        """Allowance += tokens (negative takes back); `limit` also ends an unlimited user's exemption."""
        ...

    async def set_allowance(self, user_id: int, allowance: int, unlimited: bool) -> None: ...
    async def record(self, entry: UsageEntry) -> None:
        """A ledger entry; its tokens count towards its key's total (a key with a token quota: at
        most what the quota has left beside the key's reservations)."""
        ...

    async def record_many(self, entries: Sequence[UsageEntry]) -> None:
        """Several ledger entries in one statement (a batch of settlements)."""
        ...

    async def summary(self, user_id: int, now: datetime) -> UsageSummary: ...
    async def usage(self, by: UsageGroup, since: datetime, user_id: int | None) -> list[UsageRow]:
        """The ledger since `since`, summed per group, largest first; one user's or everyone's."""
        ...


class HoldRepo(Protocol):
    """Which worker holds which reserved tokens (domain.quotas.StoredHold), kept in the transaction
    that changes `reserved`, so a dead worker's can be given back and a live one's left alone."""

    async def add(self, hold: StoredHold) -> None:
        """Store a hold, or add its tokens to the stored one with its id (a lease's top-up)."""
        ...

    async def release(self, hold_id: str, tokens: int) -> None:
        """Take tokens off a hold; one left with none is deleted."""
        ...

    async def attach(self, hold_id: str, message_id: int) -> None:
        """Name the message a chat turn's hold pays for (a new one each tool round)."""
        ...

    async def of_workers(self, worker_ids: builtins.list[str]) -> builtins.list[StoredHold]: ...
    async def drop(self, worker_ids: builtins.list[str]) -> None: ...


class TurnRepo(Protocol):
    """A chat turn's start and end, which write to several tables at once."""

    async def conversation_and_owner(self, conversation_id: str) -> tuple[Conversation, User | None] | None:
        """ConversationRepo.get and its owner's UserRepo.get, read at once (None: no such
        conversation)."""
        ...

    async def start(
        self, question: Message, answer: Message, conversation: Conversation, hold: StoredHold, minimum: int,
    ) -> tuple[Message, Message, Grant]:
        """In the caller's transaction: the question and the answer added (MessageRepo.add, in that
        order), the conversation's title and time written (ConversationRepo.touch), `hold` stored for
        the answer (HoldRepo.add; its `tokens` are what is wanted) and reserved on the user's quota
        (QuotaRepo.reserve, at least `minimum`), the stored hold cut to what was granted. Returns
        the messages with their ids and the grant. A refusal (Grant 0) may leave rows that the
        caller's transaction must roll back (it raises). Only the user's quota: a metered key's
        turn reserves on the key after it (QuotaService). On PostgreSQL, without a key, it is one
        statement, sent alone (its own transaction, no rows when refused) when it is its step's
        first: then nothing may run after it in the step."""
        ...

    async def finish(self, answer: Message, settlement: Settlement) -> int | None:
        """In the caller's transaction: the answer's final state (MessageRepo.update), its hold
        settled (QuotaRepo.settle, settle_key, HoldRepo.release) and its usage recorded
        (QuotaRepo.record). Returns the conversation's revision after these writes (None: the
        conversation is gone); a write by someone else meanwhile may or may not be counted in it
        (history_cache.py only trusts a revision that adds up to its own writes). The step's last
        statement: nothing may run after it in the same step (on PostgreSQL, run first, it is a
        transaction of its own: no BEGIN and COMMIT round trips)."""
        ...


class WorkerRepo(Protocol):
    """Worker processes' heartbeats (services.quotas.recovery)."""

    async def beat(self, worker_id: str, host: str, pid: int, at: datetime) -> None:
        """Record that the worker is alive at `at` (registers it the first time)."""
        ...

    async def silent_since(self, before: datetime) -> builtins.list[str]:
        """Workers last seen before `before` (read only)."""
        ...

    async def claim(self, worker_ids: builtins.list[str], before: datetime) -> builtins.list[str]:
        """Delete those of the workers still last seen before `before` and return them: of two
        workers recovering at once, each gets a dead worker only once."""
        ...


class FileRepo(Protocol):
    async def add(self, file: StoredFile) -> None: ...
    async def get(self, file_id: str) -> StoredFile | None: ...


class SettingsRepo(Protocol):
    """Runtime settings changed through admin APIs; they outlive restarts."""

    async def get(self, key: str) -> Any | None: ...
    async def put(self, key: str, value: Any) -> None: ...


class IdentityRepo(Protocol):
    async def get(self, platform: str, external_id: str, owner_id: int | None = None) -> PlatformIdentity | None: ...
    async def add(self, identity: PlatformIdentity) -> None:
        """Raises Conflict when (platform, external_id, owner_id) is taken."""
        ...

    async def update(self, identity: PlatformIdentity) -> None: ...
    async def take(self, platform: str, external_id: str) -> bool:
        """Deletes the identity; True for the one transaction that did (one-time codes)."""
        ...

    async def list(
        self, platform: str, page: int, page_size: int, external_id: str | None = None, owner_id: int | None = None
    ) -> tuple[builtins.list[PlatformIdentity], int]: ...
    async def for_user(self, user_id: int) -> builtins.list[PlatformIdentity]: ...


class ProfileRepo(Protocol):
    async def get(self, profile_id: str) -> Profile | None: ...
    async def by_name(self, name: str) -> Profile | None: ...
    async def list(self) -> builtins.list[Profile]: ...
    async def put(self, profile: Profile) -> None:
        """Insert or replace; raises Conflict on a duplicate name."""
        ...

    async def delete(self, profile_id: str) -> None: ...


class ShareRepo(Protocol):
    async def add(self, share: Share) -> None: ...
    async def get(self, share_id: str) -> Share | None: ...
    async def update(self, share: Share) -> None: ...
    async def for_conversation(self, conversation_id: str) -> builtins.list[Share]: ...


class Tx(Protocol):
    users: UserRepo
    keys: ApiKeyRepo
    revoked: RevokedTokenRepo
    conversations: ConversationRepo
    messages: MessageRepo
    quotas: QuotaRepo
    holds: HoldRepo
    turns: TurnRepo
    workers: WorkerRepo
    files: FileRepo
    settings: SettingsRepo
    identities: IdentityRepo
    profiles: ProfileRepo
    shares: ShareRepo


class UnitOfWork(Protocol):
    def __call__(self) -> AbstractAsyncContextManager[Tx]:
        """A transaction that may write (on SQLite it holds the write lock from its start)."""
        ...

    def read(self) -> AbstractAsyncContextManager[Tx]:
        """A transaction that only reads: it takes no write lock, so reads never queue behind
        writers. Never write inside it."""
        ...

    async def run(self, step: Callable[[Tx], Awaitable[T]]) -> T:
        """`await step(tx)` as one write transaction, run as one call on the storage side rather
        than a hand-off per statement (the chat turn's hot path). The step may await only `tx`'s
        repositories — no other I/O, no sleeps — and must not touch the event loop. Steps of
        concurrent callers may be committed together (group commit), each rolled back alone when
        it raises; this returns only once the step's writes are durable."""
        ...

    async def run_read(self, step: Callable[[Tx], Awaitable[T]]) -> T:
        """As `run`, for a step that only reads (never write inside it)."""
        ...

    async def ping(self) -> bool:
        """True when the database answers (readiness)."""
        ...
