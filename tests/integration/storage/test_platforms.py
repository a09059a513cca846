"""Platform identities, profiles and shares on both databases."""

import asyncio
import contextlib
from datetime import UTC, datetime

import pytest

from switchboard.adapters.storage import SqlUnitOfWork
from switchboard.core.domain.conversations import Conversation, ConversationSettings
from switchboard.core.domain.errors import Conflict
from switchboard.core.domain.platforms import PlatformIdentity, Profile, Share
from switchboard.core.domain.users import Role

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


async def _user(uow: SqlUnitOfWork, name: str) -> int:
    async with uow() as tx:
        return (await tx.users.add(name, None, None, Role.USER)).id


async def test_identities_are_unique_per_platform_and_owner(uow: SqlUnitOfWork) -> None:
    alice, bob = await _user(uow, "alice"), await _user(uow, "bob")
    async with uow() as tx:
        await tx.identities.add(PlatformIdentity("musebot", "u1", alice, NOW, settings={"mode": "gpt"}))
        # the same external id under another owner (AstrBot usernames are scoped per key owner)
        await tx.identities.add(PlatformIdentity("astrbot", "carol", alice, NOW, owner_id=alice))
        await tx.identities.add(PlatformIdentity("astrbot", "carol", bob, NOW, owner_id=bob))
    with pytest.raises(Conflict):
        async with uow() as tx:
            await tx.identities.add(PlatformIdentity("musebot", "u1", bob, NOW))

    async with uow() as tx:
        found = await tx.identities.get("musebot", "u1")
        assert found is not None and found.user_id == alice and found.settings == {"mode": "gpt"}
        assert found.owner_id is None
        scoped = await tx.identities.get("astrbot", "carol", owner_id=bob)
        assert scoped is not None and scoped.user_id == bob
        assert await tx.identities.get("astrbot", "carol") is None
        found.settings = {"mode": "other"}
        await tx.identities.update(found)
        items, total = await tx.identities.list("astrbot", 1, 10)
        assert total == 2 and {i.user_id for i in items} == {alice, bob}
        assert len(await tx.identities.for_user(alice)) == 2
    async with uow() as tx:
        again = await tx.identities.get("musebot", "u1")
        assert again is not None and again.settings == {"mode": "other"}


async def test_profiles_put_replace_and_unique_names(uow: SqlUnitOfWork) -> None:
    profile = Profile("prof_1", "default", NOW, NOW, model="m", system_prompt="be kind", temperature=0.3,
                      allowed_tools=["calculate"], is_default=True)
    async with uow() as tx:
        await tx.profiles.put(profile)
        await tx.profiles.put(Profile("prof_2", "coder", NOW, NOW))
    async with uow() as tx:
        assert await tx.profiles.get("prof_1") == profile
        profile.temperature = 0.9
        await tx.profiles.put(profile)
    with pytest.raises(Conflict):
        async with uow() as tx:
            await tx.profiles.put(Profile("prof_3", "coder", NOW, NOW))
    async with uow() as tx:
        assert (await tx.profiles.by_name("default")).temperature == 0.9  # type: ignore[union-attr]
        assert [p.name for p in await tx.profiles.list()] == ["default", "coder"]
        await tx.profiles.delete("prof_2")
        assert await tx.profiles.by_name("coder") is None


async def test_shares_follow_their_conversation(uow: SqlUnitOfWork) -> None:
    alice = await _user(uow, "alice")
    conversation = Conversation("conv_1", alice, "t", ConversationSettings(), NOW, NOW)
    async with uow() as tx:
        await tx.conversations.add(conversation)
        await tx.shares.add(Share("shr_secret", alice, "conv_1", NOW, title="t"))
    async with uow() as tx:
        share = await tx.shares.get("shr_secret")
        assert share is not None and share.revoked_at is None
        share.revoked_at = NOW
        await tx.shares.update(share)
        assert [s.id for s in await tx.shares.for_conversation("conv_1")] == ["shr_secret"]
        await tx.conversations.delete("conv_1")
    async with uow() as tx:
        assert await tx.shares.get("shr_secret") is None


async def test_an_identity_is_taken_once_even_by_two_transactions_at_once(uow: SqlUnitOfWork) -> None:
    """One-time link codes are identities taken as they are used: two redemptions racing for the
    same code both read it, and only one may take it."""
    alice = await _user(uow, "alice")
    async with uow() as tx:
        await tx.identities.add(PlatformIdentity("link-code", "hashed", alice, NOW))
    both_read = asyncio.Barrier(2)

    async def redeem() -> bool:
        async with uow() as tx:
            await tx.identities.get("link-code", "hashed")  # on PostgreSQL both see it here
            with contextlib.suppress(TimeoutError):  # SQLite lets one writer in at a time: no meeting
                await asyncio.wait_for(both_read.wait(), 1)
            return await tx.identities.take("link-code", "hashed")

    assert sorted(await asyncio.gather(redeem(), redeem())) == [False, True]
    async with uow() as tx:
        assert await tx.identities.get("link-code", "hashed") is None


async def test_workers_starting_together_on_a_new_database_all_get_the_default_profile(database_url: str,
                                                                                       uow: SqlUnitOfWork) -> None:
    """`serve --workers N` on a new database: every worker makes sure the default profile exists as
    it starts; the ones that lose the race read the winner's instead of failing their start-up."""
    from switchboard.adapters.security.clock import SystemClock
    from switchboard.core.services.conversations.profiles import DEFAULT_PROFILE_ID, ProfileService

    workers = [SqlUnitOfWork(database_url) for _ in range(6)]
    try:
        made = await asyncio.gather(*(ProfileService(worker, SystemClock()).ensure_default() for worker in workers))
    finally:
        for worker in workers:
            await worker.close()
    assert {profile.id for profile in made} == {DEFAULT_PROFILE_ID}
    async with uow() as tx:
        assert [profile.id for profile in await tx.profiles.list()] == [DEFAULT_PROFILE_ID]
