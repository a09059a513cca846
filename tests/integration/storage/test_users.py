"""Users, API keys and revoked tokens on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.core.domain.errors import Conflict
from switchboard.core.domain.users import ApiKey, Role, Scope

NOW = datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


async def test_add_then_read_a_user_back(uow: SqlUnitOfWork) -> None:
    async with uow() as tx:
        added = await tx.users.add("alice", "alice@example.org", "hash", Role.ADMIN)

    async with uow() as tx:
        by_id = await tx.users.get(added.id)
        by_name = await tx.users.by_username("alice")

    assert added.id > 0
    assert by_id == added == by_name
    assert (added.username, added.email, added.password_hash, added.role) == (
        "alice",
        "alice@example.org",
        "hash",
        Role.ADMIN,
    )
    assert added.is_active and added.settings == {}
    assert added.created_at.tzinfo is UTC
    assert abs(datetime.now(UTC) - added.created_at) < timedelta(minutes=1)


async def test_unknown_user_is_none(uow: SqlUnitOfWork) -> None:
    async with uow() as tx:
        assert await tx.users.get(999) is None
        assert await tx.users.by_username("nobody") is None


async def test_duplicate_username_is_a_conflict_and_the_transaction_stays_usable(uow: SqlUnitOfWork) -> None:
    async with uow() as tx:
        await tx.users.add("bob", None, None, Role.USER)

    async with uow() as tx:
        with pytest.raises(Conflict):
            await tx.users.add("bob", None, None, Role.USER)
        # after the failed insert the same transaction still works and commits
        carol = await tx.users.add("carol", None, None, Role.USER)

    async with uow() as tx:
        assert await tx.users.get(carol.id) is not None


async def test_renaming_onto_a_taken_username_is_a_conflict(uow: SqlUnitOfWork) -> None:
    async with uow() as tx:
        await tx.users.add("dora", None, None, Role.USER)
        erin = await tx.users.add("erin", None, None, Role.USER)
        erin.username = "dora"
        with pytest.raises(Conflict):
            await tx.users.update(erin)


async def test_an_exception_rolls_the_transaction_back(uow: SqlUnitOfWork) -> None:
    with pytest.raises(RuntimeError):
        async with uow() as tx:
            await tx.users.add("ghost", None, None, Role.USER)
            raise RuntimeError("boom")

    async with uow() as tx:
        assert await tx.users.by_username("ghost") is None


async def test_update_stores_every_field(uow: SqlUnitOfWork) -> None:
    async with uow() as tx:
        user = await tx.users.add("frank", None, None, Role.USER)
        user.email = "f@example.org"
        user.password_hash = "new-hash"
        user.role = Role.ADMIN
        user.is_active = False
        user.settings = {"model": "gpt-x", "tools": ["search"]}
        await tx.users.update(user)

    async with uow() as tx:
        assert await tx.users.get(user.id) == user


async def test_list_pages_and_searches_case_insensitively(uow: SqlUnitOfWork) -> None:
    async with uow() as tx:
        for name in ["amy", "ben", "Cameron", "dan", "ames_100%"]:
            await tx.users.add(name, f"{name}@host.org", None, Role.USER)

    async with uow() as tx:
        first, total = await tx.users.list(page=1, page_size=2)
        third, _ = await tx.users.list(page=3, page_size=2)
        found, found_total = await tx.users.list(page=1, page_size=10, query="AM")
        literal, literal_total = await tx.users.list(page=1, page_size=10, query="0%")

    assert total == 5
    assert [u.username for u in first] == ["amy", "ben"]
    assert [u.username for u in third] == ["ames_100%"]
    assert found_total == 3 and {u.username for u in found} == {"amy", "Cameron", "ames_100%"}
    assert literal_total == 1 and literal[0].username == "ames_100%"  # % is matched literally


async def test_count_admins_counts_active_admins(uow: SqlUnitOfWork) -> None:
    async with uow() as tx:
        await tx.users.add("root", None, None, Role.ADMIN)
        retired = await tx.users.add("old-root", None, None, Role.ADMIN)
        await tx.users.add("user", None, None, Role.USER)
        retired.is_active = False
        await tx.users.update(retired)
        assert await tx.users.count_admins() == 1


def _key(user_id: int, key_id: str = "key_1", key_hash: str = "h1") -> ApiKey:
    return ApiKey(
        id=key_id,
        user_id=user_id,
        name="laptop",
        prefix="sk-abc",
        key_hash=key_hash,
        scopes=frozenset({Scope.CHAT, Scope.FILE}),
        created_at=NOW,
        expires_at=NOW + timedelta(days=30),
        allowed_models=("gpt-a", "gpt-b"),
        rpm_limit=60,
        tpm_limit=10_000,
        token_quota=50_000,
    )


async def test_api_keys_round_trip(uow: SqlUnitOfWork) -> None:
    async with uow() as tx:
        user = await tx.users.add("keyholder", None, None, Role.USER)
        key = _key(user.id)
        await tx.keys.add(key)
        await tx.keys.add(_key(user.id, "key_2", "h2"))

    async with uow() as tx:
        assert await tx.keys.get("key_1") == key
        assert await tx.keys.by_hash("h1") == key
        assert await tx.keys.get("missing") is None
        assert await tx.keys.by_hash("missing") is None
        assert [k.id for k in await tx.keys.list_for_user(user.id)] == ["key_1", "key_2"]
        assert await tx.keys.list_for_user(user.id + 1) == []


async def test_api_key_update_touch_and_duplicate_hash(uow: SqlUnitOfWork) -> None:
    async with uow() as tx:
        user = await tx.users.add("rotator", None, None, Role.USER)
        key = _key(user.id)
        await tx.keys.add(key)
        with pytest.raises(Conflict):
            await tx.keys.add(_key(user.id, "key_other", key.key_hash))

        key.revoked_at = NOW + timedelta(hours=1)
        key.scopes = frozenset({Scope.ADMIN})
        key.allowed_models = ()
        key.rpm_limit = None
        await tx.keys.update(key)
        await tx.keys.touch(key.id, NOW + timedelta(hours=2))

    async with uow() as tx:
        stored = await tx.keys.get(key.id)

    assert stored is not None
    assert stored.revoked_at == NOW + timedelta(hours=1)
    assert stored.last_used_at == NOW + timedelta(hours=2)
    assert stored.scopes == frozenset({Scope.ADMIN})
    assert stored.allowed_models == () and stored.rpm_limit is None
    assert (stored.token_quota, stored.tokens_used, stored.tokens_left) == (50_000, 0, 50_000)
    assert stored.expires_at is not None and stored.expires_at.tzinfo is UTC


async def test_revoked_tokens(uow: SqlUnitOfWork) -> None:
    async with uow() as tx:
        await tx.revoked.revoke("jti-1", NOW)
        await tx.revoked.revoke("jti-1", NOW)  # revoking twice is fine

    async with uow() as tx:
        assert await tx.revoked.is_revoked("jti-1") is True
        assert await tx.revoked.is_revoked("jti-2") is False


async def test_datetimes_in_other_zones_come_back_as_the_same_instant_in_utc(uow: SqlUnitOfWork) -> None:
    local = datetime(2025, 6, 1, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    async with uow() as tx:
        user = await tx.users.add("tz", None, None, Role.USER)
        await tx.keys.add(_key(user.id))
        await tx.keys.touch("key_1", local)

    async with uow() as tx:
        stored = await tx.keys.get("key_1")

    assert stored is not None and stored.last_used_at is not None
    assert stored.last_used_at == local
    assert stored.last_used_at.tzinfo is UTC and stored.last_used_at.hour == 0


async def test_a_key_gives_away_only_quota_that_no_call_holds(uow: SqlUnitOfWork) -> None:
    """Minting a child key takes its quota from the maker's; what calls in flight hold is not free."""
    async with uow() as tx:
        user = await tx.users.add("maker", None, None, Role.USER)
        await tx.keys.add(_key(user.id))  # 50,000 tokens
    async with uow() as tx:
        assert await tx.quotas.reserve_key("key_1", 30_000, 1) == 30_000  # a call in flight
        assert not await tx.keys.take_quota("key_1", 30_000)
        assert await tx.keys.take_quota("key_1", 20_000)
        stored = await tx.keys.get("key_1")
    assert stored is not None and stored.tokens_left == 0
