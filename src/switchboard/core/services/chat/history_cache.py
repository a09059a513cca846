"""A worker's cache of conversations' recent history (issue 20), so a turn does not read again
the history the previous turn in its conversation has just written.

Safe with several workers: an entry is the history at one revision of its conversation, and
storage bumps that revision on every write to the conversation's messages, whoever writes (in
the database, by triggers). A turn reads the conversation row anyway; when its revision is the
entry's the history SELECT is skipped, otherwise it is read as before.

A turn puts the history it leaves behind (what it read, less what it superseded, plus its
question and answer) only when it can prove nobody else wrote in between: the revision read in
its final write's transaction must be the one it read at the start plus the writes it made
itself (`PendingHistory`). A turn with tool rounds, or a write whose outcome is unknown (a flush
that failed or was cancelled), gives that up; the next turn then reads the database.

Messages are mutable dataclasses and a turn mutates some (its answer): entries hold immutable
snapshots (tuples of the fields, lists as tuples), and every hit builds new Message objects and
lists from them. The values inside (Part, ToolCall, TokenUsage models) are shared: nothing
changes those in place, it replaces them.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any, TypeVar

from switchboard.core.domain.conversations import Message

_FIELDS = tuple(f.name for f in fields(Message))
_ID, _PARTS, _TOOL_CALLS, _REASONING = (_FIELDS.index(name) for name in ("id", "parts", "tool_calls", "reasoning"))
_snapshot_fields = attrgetter(*_FIELDS)
T = TypeVar("T")

Snapshot = tuple[Any, ...]  # a Message's fields in order, its lists as tuples


def _snapshot(message: Message) -> Snapshot:
    values = list(_snapshot_fields(message))
    values[_PARTS], values[_TOOL_CALLS] = tuple(message.parts), tuple(message.tool_calls)
    return tuple(values)


def _message(snapshot: Snapshot) -> Message:
    values = list(snapshot)
    values[_PARTS], values[_TOOL_CALLS] = list(values[_PARTS]), list(values[_TOOL_CALLS])
    return Message(*values)


def _size(snapshot: Snapshot) -> int:
    """Roughly the bytes a message takes (its text, and objects' overhead), for the memory bound."""
    parts, calls = snapshot[_PARTS], snapshot[_TOOL_CALLS]
    return 400 + len(snapshot[_REASONING]) + sum(len(p.text or "") + len(p.url or "") for p in parts) + sum(
        len(c.arguments) for c in calls)


@dataclass(frozen=True, slots=True)
class CachedHistory:
    """A conversation's history at one revision, as `MessageRepo.list(id, limit)` returned it."""

    revision: int
    limit: int
    snapshots: tuple[Snapshot, ...]
    size: int

    @classmethod
    def of(cls, revision: int, limit: int, history: list[Message]) -> CachedHistory:
        snapshots = tuple(_snapshot(m) for m in history)
        return cls(revision, limit, snapshots, sum(_size(s) for s in snapshots))

    def messages(self) -> list[Message]:
        return [_message(snapshot) for snapshot in self.snapshots]

    def followed_by(self, revision: int, removed: set[int], added: list[Message]) -> CachedHistory | None:
        """The history after a turn removed (marked deleted) and added messages; None when it
        cannot be known without the database (older messages would move into the window)."""
        kept = [s for s in self.snapshots if s[_ID] not in removed] if removed else list(self.snapshots)
        size = self.size - sum(_size(s) for s in self.snapshots if s[_ID] in removed)
        for message in added:
            kept.append(_snapshot(message))
            size += _size(kept[-1])
        complete = len(self.snapshots) < self.limit  # then it held every message not deleted
        if len(kept) < self.limit and not complete:
            return None
        dropped = kept[:-self.limit]
        return CachedHistory(revision, self.limit, tuple(kept[-self.limit:]), size - sum(_size(s) for s in dropped))


class HistoryCache:
    """Bounded LRU by conversation id: at most `conversations` entries and roughly `memory` bytes
    of messages in all. `conversations=0` turns it off."""

    def __init__(self, conversations: int, memory: int) -> None:
        self._conversations = conversations
        self._memory = memory
        self._entries: OrderedDict[str, CachedHistory] = OrderedDict()
        self._size = 0
        # turns read it on storage threads (SQLite's writer and readers) and write it on the loop
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._conversations > 0

    def get(self, conversation_id: str, revision: int, limit: int) -> CachedHistory | None:
        with self._lock:
            entry = self._entries.get(conversation_id)
            if entry is None or entry.revision != revision or entry.limit != limit:
                return None
            self._entries.move_to_end(conversation_id)
            return entry

    def put(self, conversation_id: str, entry: CachedHistory) -> None:
        with self._lock:
            old = self._entries.get(conversation_id)
            if not self.enabled or (old is not None and old.revision > entry.revision):
                return  # off, or another turn of this worker already put a later one
            self._drop(conversation_id)
            if entry.size > self._memory:
                return
            self._entries[conversation_id] = entry
            self._size += entry.size
            while len(self._entries) > self._conversations or self._size > self._memory:
                _, evicted = self._entries.popitem(last=False)
                self._size -= evicted.size

    def drop(self, conversation_id: str) -> None:
        with self._lock:
            self._drop(conversation_id)

    def _drop(self, conversation_id: str) -> None:
        entry = self._entries.pop(conversation_id, None)
        if entry is not None:
            self._size -= entry.size

    def __len__(self) -> int:
        return len(self._entries)


class PendingHistory:
    """What a started turn will leave in the cache, if it can prove nobody else wrote meanwhile.

    `revision` is what the conversation's revision must be after the turn's writes so far: the
    revision it read at the start plus one per message row it wrote (the triggers' count); None
    once that cannot be known."""

    def __init__(
        self, cache: HistoryCache | None, conversation_id: str, read: CachedHistory | None, revision: int | None,
        removed: set[int], question: Message | None,
    ) -> None:
        self._cache = cache
        self._conversation_id = conversation_id
        self._read = read  # the history the turn started from
        self.revision = revision
        self._removed = removed  # the messages the turn marked deleted
        self._question = question  # the question it added; None on a retry (asked again, stored already)

    @classmethod
    def untracked(cls, conversation_id: str) -> PendingHistory:
        return cls(None, conversation_id, None, None, set(), None)

    @property
    def tracked(self) -> bool:
        return self.revision is not None

    def untrack(self) -> None:
        self.revision = None

    async def counted(self, write: Awaitable[T]) -> T:
        """Awaits one of the turn's writes of ONE message row, counting it. One that fails or is
        cancelled may or may not have been written: from then on nothing is known."""
        try:
            result = await write
        except BaseException:
            self.revision = None
            raise
        if self.revision is not None:
            self.revision += 1
        return result

    def finished(self, revision: int | None, answer: Message) -> None:
        """After the turn's final write (counted) committed, with the revision read in its
        transaction after that write. Only the first final write may update the cache."""
        expected, self.revision = self.revision, None
        if self._cache is None or self._read is None:
            return
        after = None
        if revision is not None and revision == expected:  # nobody else wrote since the turn's read
            added = [answer] if self._question is None else [self._question, answer]
            after = self._read.followed_by(revision, self._removed, added)
        if after is None:
            self._cache.drop(self._conversation_id)
        else:
            self._cache.put(self._conversation_id, after)
