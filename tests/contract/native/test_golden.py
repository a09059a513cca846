"""Golden contract: each fixture's requests replayed against the native face, responses compared."""

from __future__ import annotations

import pytest

from tests.contract.native.conftest import Native
from tests.contract.native.golden import FIXTURES, replay

GOLDEN = sorted(path.name for path in FIXTURES.glob("*.json"))


def test_every_native_route_family_has_a_fixture() -> None:
    assert {"auth.json", "keys.json", "admin.json", "conversations.json", "messages.json", "health.json"} <= set(GOLDEN)


@pytest.mark.parametrize("fixture", GOLDEN)
async def test_golden(native: Native, fixture: str) -> None:
    await replay(fixture, native.client, native.saved)
