"""RuntimeConfigService by key alone (the native API's settings): all or nothing, saved, applied live."""

from __future__ import annotations

import pytest

from switchboard.core.domain.errors import Forbidden, InvalidInput
from switchboard.core.domain.users import Role
from switchboard.core.services.admin.runtime_config import (
    READ_ONLY,
    SECTION_OF_KEY,
    RuntimeConfig,
    RuntimeConfigService,
)
from tests.support.fake_storage import InMemoryUnitOfWork
from tests.unit.core.conftest import add_user


def test_every_changeable_key_names_one_setting() -> None:
    sections = RuntimeConfig().model_dump()
    fields = [key for section, values in sections.items() if section not in READ_ONLY for key in values]
    assert sorted(SECTION_OF_KEY) == sorted(fields)  # no key in two sections, none read-only


async def test_settings_change_together_apply_at_once_and_survive_a_restart() -> None:
    uow = InMemoryUnitOfWork()
    seen: list[RuntimeConfig] = []
    config = RuntimeConfigService(uow, RuntimeConfig(), [seen.append])
    root = add_user(uow, "root", role=Role.ADMIN)

    changed = await config.update_many(root, {"registration": "closed", "temperature": 0.3, "tool_rounds": 2})

    assert (changed["registration"], changed["temperature"], changed["tool_rounds"]) == ("closed", 0.3, 2)
    assert changed == config.changeable(root) and "rag_enabled" not in changed
    assert seen[-1].base.registration == "closed" and seen[-1].llm.tool_rounds == 2
    restarted = RuntimeConfigService(uow, RuntimeConfig())
    await restarted.load()
    assert restarted.changeable(root) == changed


@pytest.mark.parametrize(("values", "named"), [
    ({"temperature": 0.5, "colour": "blue"}, "colour"),
    ({"temperature": 0.5, "rag_enabled": True}, "rag_enabled"),
    ({"temperature": 0.5, "registration": "sometimes"}, "registration"),
    ({"temperature": 0.5, "tool_rounds": -1}, "tool_rounds"),
])
async def test_one_unknown_key_or_bad_value_changes_nothing(values: dict[str, object], named: str) -> None:
    uow = InMemoryUnitOfWork()
    config = RuntimeConfigService(uow, RuntimeConfig())
    root = add_user(uow, "root", role=Role.ADMIN)

    with pytest.raises(InvalidInput, match=named):
        await config.update_many(root, values)

    assert config.current == RuntimeConfig() and uow.store.settings == {}


async def test_only_admins_see_or_change_settings() -> None:
    uow = InMemoryUnitOfWork()
    config = RuntimeConfigService(uow, RuntimeConfig())
    alice = add_user(uow, "alice")
    with pytest.raises(Forbidden):
        config.changeable(alice)
    with pytest.raises(Forbidden):
        await config.update_many(alice, {"temperature": 0.3})
