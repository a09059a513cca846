"""AdminService: administrators only; accounts they create follow registration's rules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from switchboard.core.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from switchboard.core.domain.users import Role
from switchboard.core.services.accounts.auth import AccountPolicy, AccountService
from switchboard.core.services.admin.users import AdminService, NewUser, UserChange
from tests.support.fake_storage import InMemoryUnitOfWork
from tests.support.fakes import FakeTokenIssuer, FixedClock, PlainPasswordHasher
from tests.unit.core.conftest import add_user


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork()


async def test_only_admins_administer(uow: InMemoryUnitOfWork) -> None:
    admin_service = AdminService(uow, accounts_on(uow))
    alice = add_user(uow, "alice")
    calls: list[Callable[[], Awaitable[Any]]] = [
        lambda: admin_service.list_users(alice, 1, 20),
        lambda: admin_service.get_user(alice, alice.user_id),
        lambda: admin_service.change_user(alice, alice.user_id, UserChange(token_allowance=10**9)),
    ]
    for attempt in calls:
        with pytest.raises(Forbidden):
            await attempt()
    assert uow.store.quotas[alice.user_id].unlimited


async def test_admins_list_find_and_change_users(uow: InMemoryUnitOfWork) -> None:
    admin_service = AdminService(uow, accounts_on(uow))
    root = add_user(uow, "root", role=Role.ADMIN)
    alice, bob = add_user(uow, "alice"), add_user(uow, "bob")

    rows, total = await admin_service.list_users(root, 1, 2)
    found, _ = await admin_service.list_users(root, 1, 20, "ALI")
    _, quota = await admin_service.change_user(root, alice.user_id, UserChange(token_allowance=500))
    _, topped = await admin_service.change_user(root, alice.user_id, UserChange(add_tokens=100))
    deactivated, _ = await admin_service.change_user(root, bob.user_id, UserChange(is_active=False, role=Role.ADMIN))

    assert total == 3 and [u.username for u, _ in rows] == ["root", "alice"]
    assert [u.username for u, _ in found] == ["alice"]
    assert (quota.allowance, quota.unlimited, topped.allowance) == (500, False, 600)
    assert (deactivated.is_active, deactivated.role) == (False, Role.ADMIN)
    assert (await admin_service.add_tokens(alice.user_id, 5)).allowance == 605


async def test_admin_mistakes_are_refused(uow: InMemoryUnitOfWork) -> None:
    admin_service = AdminService(uow, accounts_on(uow))
    root = add_user(uow, "root", role=Role.ADMIN)
    with pytest.raises(NotFound):
        await admin_service.get_user(root, 999)
    with pytest.raises(NotFound):
        await admin_service.change_user(root, 999, UserChange(is_active=False))
    with pytest.raises(InvalidInput):
        await admin_service.change_user(root, root.user_id, UserChange(token_allowance=-1))
    for change in (UserChange(is_active=False), UserChange(role=Role.USER)):
        with pytest.raises(Conflict):
            await admin_service.change_user(root, root.user_id, change)
    with pytest.raises(NotFound):
        await admin_service.add_tokens(999, 5)


def accounts_on(uow: InMemoryUnitOfWork, clock: FixedClock | None = None, **policy: Any) -> AccountService:
    clock = clock or FixedClock()
    return AccountService(uow, PlainPasswordHasher(), FakeTokenIssuer(clock), clock, AccountPolicy(**policy))


async def test_admins_create_users_by_registrations_rules_even_when_registration_is_closed(
    uow: InMemoryUnitOfWork,
) -> None:
    admin_service = AdminService(uow, accounts_on(uow, registration_open=False, default_token_allowance=300))
    root, alice = add_user(uow, "root", role=Role.ADMIN), add_user(uow, "alice")

    plain, plain_quota = await admin_service.create_user(root, NewUser("carol", "password1"))
    metered, quota = await admin_service.create_user(
        root, NewUser("dave", "password1", email="dave@example.com", role=Role.ADMIN, token_allowance=50))
    _, unlimited = await admin_service.create_user(root, NewUser("erin", "password1", unlimited=True))

    assert (plain.role, plain_quota.allowance, plain_quota.unlimited) == (Role.USER, 300, False)
    assert (metered.email, metered.role) == ("dave@example.com", Role.ADMIN)
    assert (quota.allowance, quota.unlimited) == (50, False)
    assert unlimited.unlimited
    for refused, new in [(Forbidden, NewUser("frank", "password1")), (Conflict, NewUser("carol", "password1")),
                         (InvalidInput, NewUser("frank", "short")), (InvalidInput, NewUser("a b", "password1")),
                         (InvalidInput, NewUser("frank", "password1", token_allowance=-1))]:
        with pytest.raises(refused):
            await admin_service.create_user(alice if refused is Forbidden else root, new)
    assert "frank" not in {u.username for u in uow.store.users.values()}


async def test_a_password_reset_ends_the_users_sessions_but_not_later_ones(uow: InMemoryUnitOfWork) -> None:
    clock = FixedClock()
    accounts = accounts_on(uow, clock)
    admin_service = AdminService(uow, accounts)
    root = add_user(uow, "root", role=Role.ADMIN)
    alice = await accounts.create_user("alice", "password1")
    before, _ = await accounts.login("alice", "password1")
    clock.advance(5)

    with pytest.raises(InvalidInput, match="password"):
        await admin_service.change_user(root, alice.id, UserChange(password="short", is_active=False))
    assert (await accounts.principal_from_token(before.token)).user_id == alice.id  # nothing changed
    await admin_service.change_user(root, alice.id, UserChange(password="new password"))
    after, _ = await accounts.login("alice", "new password")

    with pytest.raises(Unauthenticated, match="password was changed"):
        await accounts.principal_from_token(before.token)
    with pytest.raises(Unauthenticated):
        await accounts.login("alice", "password1")
    assert (await accounts.principal_from_token(after.token)).user_id == alice.id
