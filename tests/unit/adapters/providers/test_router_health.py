"""WeightedRouter.statuses: what administrators see of each provider (no secrets, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.adapters.providers.catalog import ProviderCatalog
from switchboard.adapters.providers.openai_compat import OpenAICompatProvider
from switchboard.adapters.providers.router import WeightedRouter


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Unlisted:
    """A provider whose model listing fails."""

    name = "flaky"

    async def list_models(self) -> list[str]:
        raise ConnectionError("connection refused")

    async def close(self) -> None:
        return None


def test_the_base_url_shown_carries_no_credentials() -> None:
    provider = OpenAICompatProvider(name="p", base_url="https://user:sk-secret@api.example.com:8443/v1?key=sk-2",
                                    api_key="sk-3")
    assert provider.base_url == "https://api.example.com:8443/v1"
    assert "sk-" not in repr(provider)


async def test_failures_cool_a_provider_down_and_one_success_forgives_them() -> None:
    ticks = Ticks()
    main = OpenAICompatProvider(name="main", base_url="http://127.0.0.1:9/v1", api_key="sk-never-shown")
    catalog = ProviderCatalog([(main, ["m1", "m2"], 1), (Unlisted(), None, 1)], clock=ticks)  # type: ignore[list-item]
    router = WeightedRouter(catalog, cooldown_seconds=30, failures_to_cool=2, clock=ticks)
    await catalog.refresh()

    fresh = {s.name: s for s in router.statuses()}
    router.report("main", False, "provider 'main' answered 500")
    once = {s.name: s for s in router.statuses()}
    router.report("main", False, "provider 'main' is unreachable")
    before = datetime.now(UTC)
    cooling = {s.name: s for s in router.statuses()}
    router.report("main", True)
    forgiven = {s.name: s for s in router.statuses()}

    assert (fresh["main"].healthy, fresh["main"].models, fresh["main"].last_error) == (True, ("m1", "m2"), None)
    assert fresh["main"].base_url == "http://127.0.0.1:9/v1" and fresh["main"].cooling_down_until is None
    assert not fresh["flaky"].healthy and "connection refused" in (fresh["flaky"].last_error or "")
    assert (once["main"].healthy, once["main"].cooling_down_until) == (False, None)
    until = cooling["main"].cooling_down_until
    assert until is not None and 25 < (until - before).total_seconds() <= 31
    assert cooling["main"].last_error == "provider 'main' is unreachable"
    assert (forgiven["main"].healthy, forgiven["main"].last_error, forgiven["main"].cooling_down_until) == (
        True, None, None)
    assert all("sk-" not in repr(s) for s in forgiven.values())
