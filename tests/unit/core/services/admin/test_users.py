"""AdminService: administrators only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from switchboard.core.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from switchboard.core.domain.users import Role
from switchboard.core.services.admin.users import AdminService, UserChange
from tests.support.fake_storage import InMemoryUnitOfWork
from tests.unit.core.conftest import add_user


@pytest.fixture
def uow() -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork()


async def test_only_admins_administer(uow: InMemoryUnitOfWork) -> None:
    admin_service = AdminService(uow)
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
    admin_service = AdminService(uow)
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
    admin_service = AdminService(uow)
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
