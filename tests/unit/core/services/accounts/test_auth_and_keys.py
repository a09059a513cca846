"""AccountService and KeyService: registration, login, logout, bearer credentials, API keys."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace

import pytest

from switchboard.core.domain.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from switchboard.core.domain.users import Principal, Role, Scope
from switchboard.core.services.accounts.auth import AccountPolicy, AccountService, hash_api_key
from switchboard.core.services.accounts.keys import KeyChange, KeyOptions, KeyService
from switchboard.core.services.accounts.principal_cache import PrincipalCache
from tests.support.fake_storage import InMemoryTx, InMemoryUnitOfWork
from tests.support.fakes import FakeTokenIssuer, FixedClock, PlainPasswordHasher


@dataclass
class Accounts:
    uow: InMemoryUnitOfWork
    clock: FixedClock
    accounts: AccountService
    keys: KeyService


def make(policy: AccountPolicy | None = None) -> Accounts:
    uow, clock = InMemoryUnitOfWork(), FixedClock()
    accounts = AccountService(uow, PlainPasswordHasher(), FakeTokenIssuer(clock), clock, policy or AccountPolicy())
    return Accounts(uow, clock, accounts, KeyService(uow, clock))


@pytest.fixture
def a() -> Accounts:
    return make()


async def test_register_then_login_gives_a_token_that_names_the_user(a: Accounts) -> None:
    user = await a.accounts.register("alice", "password1", "alice@example.com")
    token, logged_in = await a.accounts.login(" alice ", "password1")

    principal = await a.accounts.principal_from_token(token.token)

    assert logged_in.id == user.id and user.password_hash != "password1"
    assert (principal.user_id, principal.via, principal.token_id) == (user.id, "jwt", token.token_id)
    assert Scope.ADMIN not in principal.scopes and Scope.CHAT in principal.scopes
    assert a.uow.store.quotas[user.id].unlimited  # default allowance 0 = unlimited


async def test_a_default_allowance_is_given_to_new_users() -> None:
    a = make(AccountPolicy(default_token_allowance=500))
    user = await a.accounts.register("alice", "password1")
    quota = a.uow.store.quotas[user.id]
    assert (quota.allowance, quota.unlimited) == (500, False)


async def test_closed_registration_is_forbidden_but_trusted_creation_still_works() -> None:
    a = make(AccountPolicy(registration_open=False))
    with pytest.raises(Forbidden):
        await a.accounts.register("alice", "password1")
    assert (await a.accounts.create_user("root", "password1", role=Role.ADMIN)).role is Role.ADMIN


@pytest.mark.parametrize(("username", "password", "email", "param"), [
    ("a", "password1", None, "username"),
    ("has space", "password1", None, "username"),
    ("alice", "short", None, "password"),
    ("alice", "password1", "not-an-email", "email"),
])
async def test_bad_registrations_say_which_field(a: Accounts, username: str, password: str, email: str | None,
                                                 param: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await a.accounts.register(username, password, email)
    assert caught.value.param == param


async def test_a_taken_username_conflicts(a: Accounts) -> None:
    await a.accounts.register("alice", "password1")
    with pytest.raises(Conflict):
        await a.accounts.register("alice", "password2")


@pytest.mark.parametrize(("username", "password"), [("alice", "wrong-password"), ("nobody", "password1")])
async def test_wrong_credentials_are_unauthenticated(a: Accounts, username: str, password: str) -> None:
    await a.accounts.register("alice", "password1")
    with pytest.raises(Unauthenticated):
        await a.accounts.login(username, password)


async def test_a_deactivated_user_cannot_log_in_nor_use_an_earlier_token(a: Accounts) -> None:
    user = await a.accounts.register("alice", "password1")
    token, _ = await a.accounts.login("alice", "password1")
    a.uow.store.users[user.id] = replace(a.uow.store.users[user.id], is_active=False)

    with pytest.raises(Forbidden):
        await a.accounts.login("alice", "password1")
    with pytest.raises(Forbidden):
        await a.accounts.principal_from_token(token.token)


async def test_logout_revokes_the_token(a: Accounts) -> None:
    await a.accounts.register("alice", "password1")
    token, _ = await a.accounts.login("alice", "password1")
    await a.accounts.logout(await a.accounts.principal_from_token(token.token))

    with pytest.raises(Unauthenticated, match="revoked"):
        await a.accounts.principal_from_token(token.token)


async def test_expired_and_forged_tokens_are_unauthenticated(a: Accounts) -> None:
    await a.accounts.register("alice", "password1")
    token, _ = await a.accounts.login("alice", "password1")
    a.clock.advance(2 * 3600)
    with pytest.raises(Unauthenticated, match="expired"):
        await a.accounts.principal_from_token(token.token)
    with pytest.raises(Unauthenticated):
        await a.accounts.principal_from_token("forged")


async def test_a_token_of_a_deleted_user_is_unauthenticated(a: Accounts) -> None:
    user = await a.accounts.register("alice", "password1")
    token, _ = await a.accounts.login("alice", "password1")
    del a.uow.store.users[user.id]
    with pytest.raises(Unauthenticated):
        await a.accounts.principal_from_token(token.token)


async def test_an_api_key_is_shown_once_stored_hashed_and_authenticates(a: Accounts) -> None:
    user = await a.accounts.register("alice", "password1")
    owner = await a.accounts.principal_from_token((await a.accounts.login("alice", "password1"))[0].token)
    issued = await a.keys.create(owner, KeyOptions(name="ci", allowed_models=("m",)))

    principal = await a.accounts.principal_from_token(issued.secret)

    assert issued.secret.startswith("sb-") and issued.key.prefix == issued.secret[:10]
    stored = a.uow.store.keys[issued.key.id]
    assert stored.key_hash == hash_api_key(issued.secret) and issued.secret not in repr(stored)
    assert (principal.user_id, principal.via, principal.key_id, principal.allowed_models) == (
        user.id, "api_key", issued.key.id, ("m",))
    assert principal.scopes == frozenset({Scope.CHAT, Scope.FILE})
    assert a.uow.store.keys[issued.key.id].last_used_at == a.clock.now()


async def test_revoked_expired_and_unknown_keys_are_unauthenticated(a: Accounts) -> None:
    await a.accounts.register("alice", "password1")
    owner = await a.accounts.principal_from_token((await a.accounts.login("alice", "password1"))[0].token)
    revoked = await a.keys.create(owner, KeyOptions())
    expiring = await a.keys.create(owner, KeyOptions(expires_days=1))
    await a.keys.revoke(owner, revoked.key.id)
    a.clock.advance(86400)

    for secret, reason in [(revoked.secret, "revoked"), (expiring.secret, "expired"), ("sb-unknown", "invalid")]:
        with pytest.raises(Unauthenticated, match=reason):
            await a.accounts.principal_from_token(secret)


async def test_the_admin_scope_needs_an_admin_and_is_never_granted_to_a_demoted_user(a: Accounts) -> None:
    admin_user = await a.accounts.create_user("root", "password1", role=Role.ADMIN)
    await a.accounts.register("alice", "password1")
    admin = await a.accounts.principal_from_token((await a.accounts.login("root", "password1"))[0].token)
    alice = await a.accounts.principal_from_token((await a.accounts.login("alice", "password1"))[0].token)

    with pytest.raises(InvalidInput):
        await a.keys.create(alice, KeyOptions(scopes=frozenset({Scope.ADMIN})))
    issued = await a.keys.create(admin, KeyOptions(scopes=frozenset({Scope.ADMIN, Scope.CHAT})))
    assert (await a.accounts.principal_from_token(issued.secret)).is_admin
    a.uow.store.users[admin_user.id] = replace(a.uow.store.users[admin_user.id], role=Role.USER)
    assert Scope.ADMIN not in (await a.accounts.principal_from_token(issued.secret)).scopes


async def alice_bob_and_admin(a: Accounts) -> list[Principal]:
    """Two users and an administrator, each logged in."""
    await a.accounts.create_user("root", "password1", role=Role.ADMIN)
    for name in ("alice", "bob"):
        await a.accounts.register(name, "password1")
    return [await a.accounts.principal_from_token((await a.accounts.login(n, "password1"))[0].token)
            for n in ("alice", "bob", "root")]


async def test_keys_are_listed_and_revoked_by_their_owner_only(a: Accounts) -> None:
    alice, bob, admin = await alice_bob_and_admin(a)
    key = (await a.keys.create(alice, KeyOptions(name="mine"))).key

    assert [k.id for k in await a.keys.list(alice)] == [key.id] and await a.keys.list(bob) == []
    with pytest.raises(NotFound):
        await a.keys.revoke(bob, key.id)
    with pytest.raises(NotFound):
        await a.keys.revoke(alice, "key_missing")
    with pytest.raises(Forbidden):
        await a.keys.create(bob, KeyOptions(), for_user=alice.user_id)
    first = await a.keys.revoke(admin, key.id)
    a.clock.advance(60)
    again = await a.keys.revoke(alice, key.id)
    assert first.revoked_at is not None and again.revoked_at == first.revoked_at


async def test_only_an_admin_lists_everyones_keys_with_their_owners(a: Accounts) -> None:
    alice, bob, admin = await alice_bob_and_admin(a)
    alices = (await a.keys.create(alice, KeyOptions(name="alice's"))).key
    bobs = (await a.keys.create(bob, KeyOptions(name="bob's"))).key

    everyone = await a.keys.list_everyone(admin)
    only_bob = await a.keys.list_everyone(admin, bob.user_id)

    assert sorted((k.id, owner) for k, owner in everyone) == sorted([(alices.id, "alice"), (bobs.id, "bob")])
    assert [(k.id, owner) for k, owner in only_bob] == [(bobs.id, "bob")]
    for not_admin in (alice, bob):
        with pytest.raises(Forbidden):
            await a.keys.list_everyone(not_admin)


async def test_keys_are_changed_by_their_owner_or_an_admin_and_only_what_was_given(a: Accounts) -> None:
    alice, bob, admin = await alice_bob_and_admin(a)
    key = (await a.keys.create(alice, KeyOptions(name="mine", rpm_limit=5, token_quota=100))).key

    with pytest.raises(NotFound):
        await a.keys.change(bob, key.id, KeyChange(frozenset({"name"}), name="bob's now"))
    with pytest.raises(NotFound):
        await a.keys.change(alice, "key_missing", KeyChange(frozenset({"name"}), name="x"))
    with pytest.raises(InvalidInput, match="rpm_limit"):
        await a.keys.change(alice, key.id, KeyChange(frozenset({"rpm_limit"}), rpm_limit=0))
    with pytest.raises(InvalidInput, match="scopes"):
        await a.keys.change(alice, key.id, KeyChange(frozenset({"scopes"})))
    renamed = await a.keys.change(alice, key.id, KeyChange(frozenset({"name", "rpm_limit"}), name="laptop"))
    assert (renamed.name, renamed.rpm_limit, renamed.token_quota) == ("laptop", None, 100)  # null removes
    raised = await a.keys.change(admin, key.id, KeyChange(frozenset({"token_quota"}), token_quota=5000))
    assert (raised.name, raised.token_quota) == ("laptop", 5000)
    [stored] = await a.keys.list(alice)
    assert (stored.name, stored.rpm_limit, stored.token_quota) == ("laptop", None, 5000)


async def test_non_positive_expiry_is_invalid(a: Accounts) -> None:
    user = await a.accounts.register("alice", "password1")
    with pytest.raises(InvalidInput):
        await a.keys.issue(user.id, KeyOptions(expires_days=0))
    with pytest.raises(NotFound):
        await a.keys.issue(999, KeyOptions())


class SlowReads(InMemoryUnitOfWork):
    """Reads that take a moment, so concurrent lookups overlap; counts them."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    @asynccontextmanager
    async def read(self) -> AsyncIterator[InMemoryTx]:  # type: ignore[override]
        self.reads += 1
        await asyncio.sleep(0.01)
        async with self() as tx:
            yield tx


async def test_concurrent_requests_with_one_credential_share_one_lookup() -> None:
    uow, clock = SlowReads(), FixedClock()
    accounts = AccountService(uow, PlainPasswordHasher(), FakeTokenIssuer(clock), clock, AccountPolicy(),
                              PrincipalCache(ttl=5, clock=lambda: 0.0))
    user = await accounts.register("alice", "password1")
    issued = await KeyService(uow, clock).issue(user.id, KeyOptions(rpm_limit=7, tpm_limit=900))

    principals = await asyncio.gather(*(accounts.principal_from_token(issued.secret) for _ in range(20)))
    failures = await asyncio.gather(*(accounts.principal_from_token("sb-unknown") for _ in range(5)),
                                    return_exceptions=True)

    assert uow.reads == 2  # one per credential, not one per request
    assert len(set(principals)) == 1 and all(isinstance(f, Unauthenticated) for f in failures)
    # the key's limits and the user's kind of allowance travel with the principal (unlimited by default)
    assert (principals[0].rpm_limit, principals[0].tpm_limit, principals[0].unlimited) == (7, 900, True)
    await accounts.principal_from_token(issued.secret)
    assert uow.reads == 2  # and the answer is cached


async def test_a_key_with_its_own_quota_is_cached_briefly_and_refused_once_spent() -> None:
    now = [0.0]
    uow, clock = InMemoryUnitOfWork(), FixedClock()
    accounts = AccountService(uow, PlainPasswordHasher(), FakeTokenIssuer(clock), clock, AccountPolicy(),
                              PrincipalCache(ttl=5, clock=lambda: now[0]))
    user = await accounts.register("alice", "password1")
    metered = await KeyService(uow, clock).issue(user.id, KeyOptions(token_quota=100))
    plain = await KeyService(uow, clock).issue(user.id, KeyOptions())
    with pytest.raises(InvalidInput, match="token_quota"):
        await KeyService(uow, clock).issue(user.id, KeyOptions(token_quota=0))

    fresh = await accounts.principal_from_token(metered.secret)
    assert fresh.key_tokens_left == 100 and (await accounts.principal_from_token(plain.secret)).key_tokens_left is None
    async with uow() as tx:
        await tx.keys.update(replace(metered.key, tokens_used=130))  # a call overran what was left
    now[0] = 0.9
    assert (await accounts.principal_from_token(metered.secret)).key_tokens_left == 100  # still cached
    now[0] = 1.01  # a metered key is cached for a second, not auth_cache_seconds
    spent = await accounts.principal_from_token(metered.secret)
    assert spent.key_tokens_left == 0
    assert (await accounts.principal_from_token(plain.secret)).key_tokens_left is None  # kept the full 5 s
