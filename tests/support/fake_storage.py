"""The in-memory database: every repository the services use, in one `Store`, with undo on error.

    uow = InMemoryUnitOfWork()
    async with uow() as tx:
        user = await tx.users.add("alice", None, "hash", Role.USER)

Semantics follow the SQL adapters: a transaction's writes are undone when its block raises,
`quotas.reserve` is atomic (there is no await inside it), messages get increasing ids, and stored
objects are copies, so a service mutating its own object changes nothing until it writes it back.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from switchboard.core.domain.conversations import Conversation, Message, MessageStatus
from switchboard.core.domain.errors import Conflict
from switchboard.core.domain.files import StoredFile
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
from tests.support.fakes import T0

T = TypeVar("T")


@dataclass
class Store:
    """Everything the in-memory database holds; tests may read it directly."""

    users: dict[int, User] = field(default_factory=dict)
    keys: dict[str, ApiKey] = field(default_factory=dict)
    revoked: dict[str, datetime] = field(default_factory=dict)
    conversations: dict[str, Conversation] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    quotas: dict[int, Quota] = field(default_factory=dict)
    ledger: list[UsageEntry] = field(default_factory=list)
    files: dict[str, StoredFile] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    message_updates: list[Message] = field(default_factory=list)  # every MessageRepo.update, in order
    holds: dict[str, StoredHold] = field(default_factory=dict)
    workers: dict[str, datetime] = field(default_factory=dict)  # worker id -> last seen
    # conversation id -> revision: bumped on every message row written, as the database's triggers do
    revisions: dict[str, int] = field(default_factory=dict)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))


class _Journal:
    """Undo records of one transaction."""

    def __init__(self) -> None:
        self.undo: list[Callable[[], None]] = []

    def put(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        missing = key not in table
        old = table.get(key)
        self.undo.append(lambda: table.pop(key, None) if missing else table.__setitem__(key, old))
        table[key] = copy.deepcopy(value)

    def remove(self, table: dict[Any, Any], key: Any) -> None:
        if key in table:
            old = table[key]
            self.undo.append(lambda: table.__setitem__(key, old))
            del table[key]


class _Repo:
    def __init__(self, store: Store, journal: _Journal) -> None:
        self.s = store
        self.j = journal

    def _bump(self, conversation_id: str) -> None:
        self.j.put(self.s.revisions, conversation_id, self.s.revisions.get(conversation_id, 0) + 1)


class InMemoryUserRepo(_Repo):
    async def add(self, username: str, email: str | None, password_hash: str | None, role: Role) -> User:
        if any(u.username == username for u in self.s.users.values()):
            raise Conflict(f"username {username!r} is taken")
        user = User(next(self.s.ids), username, email, role, True, T0, password_hash)
        self.j.put(self.s.users, user.id, user)
        return copy.deepcopy(user)

    async def get(self, user_id: int) -> User | None:
        return copy.deepcopy(self.s.users.get(user_id))

    async def by_username(self, username: str) -> User | None:
        return copy.deepcopy(next((u for u in self.s.users.values() if u.username == username), None))

    async def list(self, page: int, page_size: int, query: str | None = None) -> tuple[list[User], int]:
        q = (query or "").lower()
        found = [u for u in sorted(self.s.users.values(), key=lambda u: u.id)
                 if q in u.username.lower() or q in (u.email or "").lower()]
        start = (max(page, 1) - 1) * page_size
        return copy.deepcopy(found[start:start + page_size]), len(found)

    async def update(self, user: User) -> None:
        self.j.put(self.s.users, user.id, user)

    async def count_admins(self) -> int:
        return sum(1 for u in self.s.users.values() if u.role is Role.ADMIN and u.is_active)


class InMemoryApiKeyRepo(_Repo):
    async def add(self, key: ApiKey) -> None:
        self.j.put(self.s.keys, key.id, key)

    async def get(self, key_id: str) -> ApiKey | None:
        return copy.deepcopy(self.s.keys.get(key_id))

    async def by_hash(self, key_hash: str) -> ApiKey | None:
        return copy.deepcopy(next((k for k in self.s.keys.values() if k.key_hash == key_hash), None))

    async def list_for_user(self, user_id: int) -> list[ApiKey]:
        return copy.deepcopy([k for k in self.s.keys.values() if k.user_id == user_id])

    async def list_with_owners(self, user_id: int | None) -> list[tuple[ApiKey, str]]:
        keys = [k for k in self.s.keys.values() if user_id is None or k.user_id == user_id]
        return [(copy.deepcopy(k), self.s.users[k.user_id].username) for k in keys]

    async def update(self, key: ApiKey) -> None:
        self.j.put(self.s.keys, key.id, key)

    async def touch(self, key_id: str, at: datetime) -> None:
        if key_id in self.s.keys:
            self.j.put(self.s.keys, key_id, replace(self.s.keys[key_id], last_used_at=at))

    async def take_quota(self, key_id: str, tokens: int) -> bool:
        key = self.s.keys.get(key_id)
        if key is None or key.tokens_left is None or key.tokens_left < tokens:
            return False
        self.j.put(self.s.keys, key_id, replace(key, tokens_used=key.tokens_used + tokens))
        return True


class InMemoryRevokedTokenRepo(_Repo):
    async def revoke(self, token_id: str, expires_at: datetime) -> None:
        self.j.put(self.s.revoked, token_id, expires_at)

    async def is_revoked(self, token_id: str) -> bool:
        return token_id in self.s.revoked


class InMemoryConversationRepo(_Repo):
    async def add(self, conversation: Conversation) -> None:
        self.j.put(self.s.conversations, conversation.id, conversation)

    async def get(self, conversation_id: str) -> Conversation | None:
        found = copy.deepcopy(self.s.conversations.get(conversation_id))
        if found is not None:
            found.revision = self.s.revisions.get(conversation_id, 0)
        return found

    async def revision(self, conversation_id: str) -> int | None:
        return self.s.revisions.get(conversation_id, 0) if conversation_id in self.s.conversations else None

    async def list(
        self, user_id: int, page: int, page_size: int, *,
        project_id: str | None = None, origin: str | None = None, external_key: str | None = None,
        title_contains: str | None = None,
    ) -> tuple[list[Conversation], int]:
        found = [c for c in self.s.conversations.values() if c.user_id == user_id
                 and (title_contains is None or title_contains.lower() in c.title.lower())
                 and (project_id is None or c.project_id == project_id)
                 and (origin is None or c.origin == origin)
                 and (external_key is None or c.external_key == external_key)]
        found.sort(key=lambda c: (c.updated_at, c.id), reverse=True)
        start = (max(page, 1) - 1) * page_size
        return copy.deepcopy(found[start:start + page_size]), len(found)

    async def update(self, conversation: Conversation) -> None:
        self.j.put(self.s.conversations, conversation.id, conversation)

    async def delete(self, conversation_id: str) -> None:
        for message_id in [m.id for m in self.s.messages.values() if m.conversation_id == conversation_id]:
            self.j.remove(self.s.messages, message_id)
            self._bump(conversation_id)
        self.j.remove(self.s.conversations, conversation_id)

    async def touch(self, conversation_id: str, at: datetime, title: str | None = None) -> None:
        if conversation_id in self.s.conversations:
            stored = self.s.conversations[conversation_id]
            self.j.put(self.s.conversations, conversation_id,
                       replace(stored, updated_at=at, title=stored.title if title is None else title))


class InMemoryMessageRepo(_Repo):
    async def add(self, message: Message) -> Message:
        stored = replace(message, id=next(self.s.ids))
        self.j.put(self.s.messages, stored.id, stored)
        self._bump(stored.conversation_id)
        return copy.deepcopy(stored)

    async def get(self, message_id: int) -> Message | None:
        return copy.deepcopy(self.s.messages.get(message_id))

    async def list(self, conversation_id: str, limit: int = 100, include_deleted: bool = False) -> list[Message]:
        found = [m for m in sorted(self.s.messages.values(), key=lambda m: m.id)
                 if m.conversation_id == conversation_id and (include_deleted or not m.is_deleted)]
        return copy.deepcopy(found[-limit:])

    async def update(self, message: Message) -> None:
        if message.id in self.s.messages:
            old = self.s.messages[message.id]
            self.j.put(self.s.messages, message.id,
                       replace(message, conversation_id=old.conversation_id, created_at=old.created_at))
            self._bump(old.conversation_id)
            self.s.message_updates.append(copy.deepcopy(message))

    async def mark_deleted(self, message_ids: list[int]) -> None:
        for message_id in message_ids:
            if message_id in self.s.messages:
                self.j.put(self.s.messages, message_id, replace(self.s.messages[message_id], is_deleted=True))
                self._bump(self.s.messages[message_id].conversation_id)

    async def mark_conversation_deleted(self, conversation_id: str) -> int:
        ids = [m.id for m in self.s.messages.values() if m.conversation_id == conversation_id and not m.is_deleted]
        await self.mark_deleted(ids)
        return len(ids)

    async def stranded(self, worker_ids: list[str]) -> list[tuple[Message, int]]:
        return [(copy.deepcopy(m), self.s.conversations[m.conversation_id].user_id)
                for m in sorted(self.s.messages.values(), key=lambda m: m.id)
                if m.status is MessageStatus.STREAMING and (m.worker_id is None or m.worker_id in worker_ids)]

    async def finish_stranded(self, message: Message) -> bool:
        stored = self.s.messages.get(message.id)
        if stored is None or stored.status is not MessageStatus.STREAMING:
            return False
        await self.update(message)
        return True


class InMemoryQuotaRepo(_Repo):
    async def get(self, user_id: int) -> Quota:
        return copy.deepcopy(self.s.quotas.get(user_id) or Quota(user_id, 0, 0, 0, False))

    async def ensure(self, user_id: int, allowance: int, unlimited: bool) -> None:
        if user_id not in self.s.quotas:
            self.j.put(self.s.quotas, user_id, Quota(user_id, allowance, 0, 0, unlimited))

    async def reserve(self, user_id: int, want: int, minimum: int) -> Grant:
        # no await from here to the write: atomic on one event loop, like the conditional UPDATE
        quota = self.s.quotas.get(user_id)
        if quota is None or want <= 0:
            return Grant(0)
        remaining = quota.allowance - quota.used - quota.reserved
        if not quota.unlimited and remaining < max(1, min(minimum, want)):
            return Grant(0)
        grant = want if quota.unlimited else min(want, remaining)
        self.j.put(self.s.quotas, user_id, replace(quota, reserved=quota.reserved + grant))
        return Grant(grant, quota.unlimited)

    async def settle(self, user_id: int, reserved: int, spent: int) -> None:
        quota = self.s.quotas.get(user_id)
        if quota is not None:
            left = quota.reserved - reserved if quota.reserved > reserved else 0
            if not quota.unlimited:  # never overdrawn, as the SQL adapter
                spent = max(min(spent, quota.allowance - quota.used - left), 0)
            self.j.put(self.s.quotas, user_id, replace(quota, reserved=left, used=quota.used + spent))

    async def reserve_key(self, key_id: str, want: int, minimum: int) -> int:
        key = self.s.keys.get(key_id)
        if key is None or want <= 0:
            return 0
        left = key.tokens_left
        if left is not None and left < max(1, min(minimum, want)):
            return 0
        grant = want if left is None else min(want, left)
        self.j.put(self.s.keys, key_id, replace(key, tokens_reserved=key.tokens_reserved + grant))
        return grant

    async def settle_key(self, key_id: str, reserved: int) -> None:
        key = self.s.keys.get(key_id)
        if key is not None:
            self.j.put(self.s.keys, key_id, replace(key, tokens_reserved=max(key.tokens_reserved - reserved, 0)))

    async def release_reserved(self, user_id: int | None) -> int:
        held = [q for q in self.s.quotas.values() if user_id is None or q.user_id == user_id]
        for quota in held:
            self.j.put(self.s.quotas, quota.user_id, replace(quota, reserved=0))
        for key in [k for k in self.s.keys.values() if user_id is None or k.user_id == user_id]:
            self.j.put(self.s.keys, key.id, replace(key, tokens_reserved=0))
        for hold in [h for h in self.s.holds.values() if user_id is None or h.user_id == user_id]:
            self.j.remove(self.s.holds, hold.id)
        return sum(q.reserved for q in held)

    async def add_allowance(self, user_id: int, tokens: int, *, limit: bool = False) -> None:
        quota = self.s.quotas.get(user_id) or Quota(user_id, 0, 0, 0, False)
        self.j.put(self.s.quotas, user_id, replace(quota, allowance=quota.allowance + tokens,
                                                   unlimited=quota.unlimited and not limit))

    async def set_allowance(self, user_id: int, allowance: int, unlimited: bool) -> None:
        quota = self.s.quotas.get(user_id) or Quota(user_id, 0, 0, 0, False)
        self.j.put(self.s.quotas, user_id, replace(quota, allowance=allowance, unlimited=unlimited))

    async def record(self, entry: UsageEntry) -> None:
        self.s.ledger.append(entry)
        self.j.undo.append(lambda: self.s.ledger.remove(entry))
        key = self.s.keys.get(entry.key_id) if entry.key_id is not None else None
        if key is not None:
            spent = entry.tokens_prompt + entry.tokens_completion
            if key.token_quota is not None:
                spent = max(min(spent, key.token_quota - key.tokens_used - key.tokens_reserved), 0)
            self.j.put(self.s.keys, key.id, replace(key, tokens_used=key.tokens_used + spent))

    async def record_many(self, entries: Sequence[UsageEntry]) -> None:
        for entry in entries:
            await self.record(entry)

    async def summary(self, user_id: int, now: datetime) -> UsageSummary:
        mine = [e for e in self.s.ledger if e.user_id == user_id]

        def since(start: datetime) -> int:
            return sum(e.tokens_prompt + e.tokens_completion for e in mine if e.created_at >= start)

        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return UsageSummary(since(datetime.min.replace(tzinfo=UTC)), since(today),
                            since(now - timedelta(days=7)), since(now - timedelta(days=30)))

    async def usage(self, by: UsageGroup, since: datetime, user_id: int | None) -> list[UsageRow]:
        sums: dict[str, list[int]] = {}
        for e in self.s.ledger:
            if e.created_at >= since and (user_id is None or e.user_id == user_id):
                day = e.created_at.astimezone(UTC).date().isoformat()
                group = {"key": e.key_id or "", "model": e.model, "day": day, "user": str(e.user_id),
                         "source": e.source}[by]
                row = sums.setdefault(group, [0, 0, 0, 0])
                row[0] += 1
                row[1] += e.tokens_prompt
                row[2] += e.tokens_completion
                row[3] += e.estimated
        rows = [UsageRow(g, *numbers) for g, numbers in sums.items()]
        if by == "day":
            return sorted(rows, key=lambda r: r.group)
        return sorted(rows, key=lambda r: -(r.tokens_prompt + r.tokens_completion))


class InMemoryFileRepo(_Repo):
    async def add(self, file: StoredFile) -> None:
        self.j.put(self.s.files, file.id, file)

    async def get(self, file_id: str) -> StoredFile | None:
        return copy.deepcopy(self.s.files.get(file_id))


class InMemorySettingsRepo(_Repo):
    async def get(self, key: str) -> Any | None:
        return copy.deepcopy(self.s.settings.get(key))

    async def put(self, key: str, value: Any) -> None:
        self.j.put(self.s.settings, key, value)


class InMemoryHoldRepo(_Repo):
    async def add(self, hold: StoredHold) -> None:
        old = self.s.holds.get(hold.id)
        self.j.put(self.s.holds, hold.id, replace(old, tokens=old.tokens + hold.tokens) if old else hold)

    async def release(self, hold_id: str, tokens: int) -> None:
        old = self.s.holds.get(hold_id)
        if old is not None and old.tokens - tokens > 0:
            self.j.put(self.s.holds, hold_id, replace(old, tokens=old.tokens - tokens))
        elif old is not None:
            self.j.remove(self.s.holds, hold_id)

    async def attach(self, hold_id: str, message_id: int) -> None:
        if hold_id in self.s.holds:
            self.j.put(self.s.holds, hold_id, replace(self.s.holds[hold_id], message_id=message_id))

    async def of_workers(self, worker_ids: list[str]) -> list[StoredHold]:
        return sorted((h for h in self.s.holds.values() if h.worker_id in worker_ids), key=lambda h: h.id)

    async def drop(self, worker_ids: list[str]) -> None:
        for hold in await self.of_workers(worker_ids):
            self.j.remove(self.s.holds, hold.id)


class InMemoryTurnRepo(_Repo):
    """TurnRepo's start and finish as their statements one by one, as the SQL repository runs them
    on SQLite."""

    async def conversation_and_owner(self, conversation_id: str) -> tuple[Conversation, User | None] | None:
        conversation = await InMemoryConversationRepo(self.s, self.j).get(conversation_id)
        if conversation is None:
            return None
        return conversation, await InMemoryUserRepo(self.s, self.j).get(conversation.user_id)

    async def start(
        self, question: Message, answer: Message, conversation: Conversation, hold: StoredHold, minimum: int,
    ) -> tuple[Message, Message, Grant]:
        if hold.tokens <= 0:
            return question, answer, Grant(0)
        messages = InMemoryMessageRepo(self.s, self.j)
        question, answer = await messages.add(question), await messages.add(answer)
        await InMemoryConversationRepo(self.s, self.j).touch(conversation.id, conversation.updated_at,
                                                             conversation.title)
        holds = InMemoryHoldRepo(self.s, self.j)
        await holds.add(replace(hold, message_id=answer.id))
        grant = await InMemoryQuotaRepo(self.s, self.j).reserve(hold.user_id, hold.tokens, minimum)
        if 0 < grant.tokens < hold.tokens:
            await holds.release(hold.id, hold.tokens - grant.tokens)
        return question, answer, grant

    async def finish(self, answer: Message, settlement: Settlement) -> int | None:
        await InMemoryMessageRepo(self.s, self.j).update(answer)
        quotas = InMemoryQuotaRepo(self.s, self.j)
        await quotas.settle(settlement.entry.user_id, settlement.tokens, settlement.spent)
        if settlement.key_id is not None:
            await quotas.settle_key(settlement.key_id, settlement.tokens)
        if settlement.hold_id and settlement.tokens:
            await InMemoryHoldRepo(self.s, self.j).release(settlement.hold_id, settlement.tokens)
        await quotas.record(settlement.entry)
        return await InMemoryConversationRepo(self.s, self.j).revision(answer.conversation_id)


class InMemoryWorkerRepo(_Repo):
    async def beat(self, worker_id: str, host: str, pid: int, at: datetime) -> None:
        self.j.put(self.s.workers, worker_id, at)

    async def silent_since(self, before: datetime) -> list[str]:
        return [worker for worker, seen in self.s.workers.items() if seen < before]

    async def claim(self, worker_ids: list[str], before: datetime) -> list[str]:
        claimed = [w for w in worker_ids if w in self.s.workers and self.s.workers[w] < before]
        for worker in claimed:
            self.j.remove(self.s.workers, worker)
        return claimed


class InMemoryTx:
    def __init__(self, store: Store, journal: _Journal) -> None:
        self.users = InMemoryUserRepo(store, journal)
        self.keys = InMemoryApiKeyRepo(store, journal)
        self.revoked = InMemoryRevokedTokenRepo(store, journal)
        self.conversations = InMemoryConversationRepo(store, journal)
        self.messages = InMemoryMessageRepo(store, journal)
        self.quotas = InMemoryQuotaRepo(store, journal)
        self.holds = InMemoryHoldRepo(store, journal)
        self.turns = InMemoryTurnRepo(store, journal)
        self.workers = InMemoryWorkerRepo(store, journal)
        self.files = InMemoryFileRepo(store, journal)
        self.settings = InMemorySettingsRepo(store, journal)


class InMemoryUnitOfWork:
    def __init__(self, store: Store | None = None) -> None:
        self.store = store or Store()
        self.transactions = 0  # committed ones
        self.up = True

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[InMemoryTx]:
        journal = _Journal()
        try:
            yield InMemoryTx(self.store, journal)
        except BaseException:
            for undo in reversed(journal.undo):
                undo()
            raise
        self.transactions += 1

    def read(self) -> AbstractAsyncContextManager[InMemoryTx]:
        # no locks in memory: a read-only transaction is an ordinary one that writes nothing
        return self()

    async def run(self, step: Callable[[InMemoryTx], Awaitable[T]]) -> T:
        async with self() as tx:
            return await step(tx)

    async def run_read(self, step: Callable[[InMemoryTx], Awaitable[T]]) -> T:
        async with self.read() as tx:
            return await step(tx)

    async def ping(self) -> bool:
        return self.up
