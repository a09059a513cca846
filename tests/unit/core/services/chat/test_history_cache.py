"""The history cache's own rules: bounded, never handing out an object it keeps, never going back
to an older revision, and a turn's pending history put only when its count of writes holds."""

from __future__ import annotations

import pytest

from switchboard.core.domain.conversations import Message, MessageStatus, text_parts
from switchboard.core.services.chat.history_cache import CachedHistory, HistoryCache, PendingHistory
from tests.support.fakes import T0


def message(id_: int, words: str = "hello", role: str = "user") -> Message:
    return Message(id=id_, conversation_id="c", role=role, parts=text_parts(words),  # type: ignore[arg-type]
                   status=MessageStatus.COMPLETED, created_at=T0, updated_at=T0)


def history(*ids: int) -> list[Message]:
    return [message(i) for i in ids]


def test_a_hit_needs_the_same_revision_and_window() -> None:
    cache = HistoryCache(10, 10**6)
    cache.put("c", CachedHistory.of(3, 100, history(1, 2)))

    hit = cache.get("c", 3, 100)
    assert hit is not None and hit.messages() == history(1, 2)
    assert cache.get("c", 4, 100) is None
    assert cache.get("c", 3, 50) is None
    assert cache.get("other", 3, 100) is None


def test_what_a_hit_hands_out_can_be_changed_without_changing_the_cache() -> None:
    cache = HistoryCache(10, 10**6)
    cache.put("c", CachedHistory.of(1, 100, history(1, 2)))
    entry = cache.get("c", 1, 100)
    assert entry is not None

    handed = entry.messages()
    handed[0].parts.append(text_parts("more")[0])
    handed[1].status = MessageStatus.FAILED
    handed.pop()

    assert entry.messages() == history(1, 2)


def test_least_recently_used_conversations_go_first_by_count_and_by_size() -> None:
    cache = HistoryCache(2, 10**6)
    for conversation in ("a", "b"):
        cache.put(conversation, CachedHistory.of(1, 100, history(1)))
    cache.get("a", 1, 100)
    cache.put("c", CachedHistory.of(1, 100, history(1)))
    assert (cache.get("a", 1, 100) is not None, cache.get("b", 1, 100), len(cache)) == (True, None, 2)

    small = HistoryCache(10, 850)  # about two short messages' worth
    small.put("a", CachedHistory.of(1, 100, history(1)))
    small.put("b", CachedHistory.of(1, 100, history(1)))
    small.put("c", CachedHistory.of(1, 100, history(1)))
    assert [small.get(c, 1, 100) is not None for c in "abc"] == [False, True, True]
    small.put("d", CachedHistory.of(1, 100, [message(1, "x" * 1000)]))  # larger than the whole cache
    assert small.get("d", 1, 100) is None


def test_an_older_revision_never_replaces_a_newer_one() -> None:
    cache = HistoryCache(10, 10**6)
    cache.put("c", CachedHistory.of(5, 100, history(1, 2, 3)))
    cache.put("c", CachedHistory.of(4, 100, history(1, 2)))
    assert cache.get("c", 5, 100) is not None


def test_switched_off_it_keeps_nothing() -> None:
    cache = HistoryCache(0, 10**6)
    cache.put("c", CachedHistory.of(1, 100, history(1)))
    assert not cache.enabled and len(cache) == 0


@pytest.mark.parametrize(("read", "removed", "expected"), [
    ((1, 2), set(), (1, 2, 10, 11)),  # not full: every message is known
    ((1, 2, 3, 4), set(), (3, 4, 10, 11)),  # full: the newest 4
    ((1, 2, 3, 4), {3, 4}, (1, 2, 10, 11)),  # an edit: as many out as in
    ((1, 2, 3, 4), {2, 3, 4}, None),  # fewer than the window, older ones unknown: nothing cached
])
def test_a_turn_leaves_what_it_read_less_what_it_superseded_plus_its_rows(
    read: tuple[int, ...], removed: set[int], expected: tuple[int, ...] | None,
) -> None:
    cache = HistoryCache(10, 10**6)
    pending = PendingHistory(cache, "c", CachedHistory.of(7, 4, history(*read)), 9, removed, message(10))

    pending.revision = 10  # as `counted` does for the final write
    pending.finished(10, message(11, role="assistant"))

    entry = cache.get("c", 10, 4)
    assert (tuple(m.id for m in entry.messages()) if entry else None) == expected


@pytest.mark.parametrize("read_after", [11, None])
def test_a_turn_whose_count_does_not_hold_drops_the_entry(read_after: int | None) -> None:
    cache = HistoryCache(10, 10**6)
    cache.put("c", CachedHistory.of(7, 4, history(1)))
    pending = PendingHistory(cache, "c", CachedHistory.of(7, 4, history(1)), 10, set(), message(10))

    pending.finished(read_after, message(11, role="assistant"))  # somebody else wrote once

    assert len(cache) == 0


async def test_a_write_that_fails_leaves_nothing_known() -> None:
    pending = PendingHistory(HistoryCache(10, 10**6), "c", CachedHistory.of(7, 4, history(1)), 9, set(), None)

    async def fails() -> None:
        raise OSError("the database went away")

    with pytest.raises(OSError):
        await pending.counted(fails())
    assert not pending.tracked
