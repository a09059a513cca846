"""ProviderCatalog: configured and listed models, aliases, weights, echo, failure isolation."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from switchboard.adapters.providers.catalog import CatalogEntry, ProviderCatalog
from switchboard.adapters.providers.echo import EchoProvider
from switchboard.adapters.providers.openai_compat import OpenAICompatProvider
from switchboard.core.domain.chat import ProviderCall
from switchboard.core.domain.errors import UnknownModel, UpstreamError
from switchboard.core.domain.events import ProviderEvent
from tests.support.upstream import Reply, ScriptedUpstream


class StaticProvider:
    """A stand-in whose listing is counted or fails; streaming is not needed here."""

    def __init__(self, name: str, models: list[str] | None = None, *, fails: bool = False) -> None:
        self.name = name
        self._models = models or []
        self._fails = fails
        self.listings = 0
        self.closed = False

    def stream(self, call: ProviderCall) -> AsyncIterator[ProviderEvent]:
        raise NotImplementedError

    async def list_models(self) -> list[str]:
        self.listings += 1
        if self._fails:
            raise UpstreamError(f"provider '{self.name}' is down")
        return self._models

    async def close(self) -> None:
        self.closed = True


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_configured_models_resolve_without_listing() -> None:
    a = StaticProvider("a", ["listed-but-ignored"])
    catalog = ProviderCatalog([CatalogEntry(a, ["gpt-4o", "gpt-4o-mini"])])
    assert await catalog.resolve("gpt-4o-mini") == (a, "gpt-4o-mini")
    assert a.listings == 0
    assert catalog.default_model == "gpt-4o"


async def test_listing_is_cached_until_the_ttl() -> None:
    clock = FakeClock()
    a = StaticProvider("a", ["m1"])
    catalog = ProviderCatalog([CatalogEntry(a)], listing_ttl=60, clock=clock)
    assert await catalog.resolve("m1") == (a, "m1")
    await catalog.resolve("m1")
    await catalog.models()
    assert a.listings == 1
    clock.now = 61
    await catalog.resolve("m1")
    assert a.listings == 2


async def test_models_always_include_echo_and_aliases() -> None:
    catalog = ProviderCatalog(
        [CatalogEntry(StaticProvider("a"), ["gpt-4o"])], aliases={"smart": "gpt-4o", "broken": "nowhere"}
    )
    models = {m.id: m for m in await catalog.models()}
    assert set(models) == {"gpt-4o", "echo", "smart"}
    echo = models["echo"]
    assert echo.builtin and echo.owned_by == "switchboard" and "offline demo" in echo.description.lower()
    assert models["gpt-4o"].provider == "a" and models["smart"].description == "alias of gpt-4o"


async def test_alias_resolves_to_the_target_model() -> None:
    a = StaticProvider("a")
    catalog = ProviderCatalog([CatalogEntry(a, ["deepseek-chat"])], aliases={"fast": "deepseek-chat"})
    assert await catalog.resolve("fast") == (a, "deepseek-chat")


async def test_unknown_model_lists_what_is_available() -> None:
    catalog = ProviderCatalog([CatalogEntry(StaticProvider("a"), ["gpt-4o"])])
    with pytest.raises(UnknownModel, match="unknown model 'gpt-5'; available: gpt-4o, echo"):
        await catalog.resolve("gpt-5")


async def test_echo_resolves_without_providers_and_is_the_last_resort_default() -> None:
    catalog = ProviderCatalog([])
    provider, model = await catalog.resolve("echo")
    assert isinstance(provider, EchoProvider) and model == "echo"
    assert catalog.default_model == "echo"
    assert ProviderCatalog([], default_model="gpt-4o").default_model == "gpt-4o"


async def test_default_model_after_refresh_is_the_first_listed() -> None:
    catalog = ProviderCatalog([CatalogEntry(StaticProvider("a", ["listed-1", "listed-2"]))])
    assert catalog.default_model == "echo"  # nothing known before the first listing
    await catalog.refresh()
    assert catalog.default_model == "listed-1"


async def test_failing_listing_does_not_break_the_others() -> None:
    clock = FakeClock()
    down, up = StaticProvider("down", fails=True), StaticProvider("up", ["m1"])
    catalog = ProviderCatalog([CatalogEntry(down), CatalogEntry(up)], listing_retry=30, clock=clock)
    assert [m.id for m in await catalog.models()] == ["m1", "echo"]
    assert await catalog.resolve("m1") == (up, "m1")
    assert down.listings == 1  # not asked again before the retry delay
    clock.now = 31
    await catalog.models()
    assert down.listings == 2


async def test_weighted_choice_between_providers_serving_one_model() -> None:
    heavy, light, off = StaticProvider("heavy"), StaticProvider("light"), StaticProvider("off")
    catalog = ProviderCatalog(
        [CatalogEntry(heavy, ["m"], 9), CatalogEntry(light, ["m"], 1), CatalogEntry(off, ["m"], 0)],
        rng=random.Random(7),
    )
    picks = [(await catalog.resolve("m"))[0].name for _ in range(1000)]
    assert 800 < picks.count("heavy") < 980 and picks.count("light") > 20 and "off" not in picks


async def test_close_closes_every_provider() -> None:
    a, b = StaticProvider("a"), StaticProvider("b")
    catalog = ProviderCatalog([CatalogEntry(a, ["x"]), (b, None, 1)])
    await catalog.close()
    assert a.closed and b.closed


async def test_lists_a_real_openai_compatible_upstream(upstream: ScriptedUpstream) -> None:
    upstream.models = ["gpt-live"]
    provider = OpenAICompatProvider(name="live", base_url=upstream.base_url, max_retries=0)
    catalog = ProviderCatalog([CatalogEntry(provider)])
    try:
        assert await catalog.resolve("gpt-live") == (provider, "gpt-live")
        upstream.push(Reply(status=500), path="/v1/models")
        assert [m.id for m in await catalog.models()] == ["gpt-live", "echo"]
    finally:
        await catalog.close()


async def test_resolve_cached_answers_as_resolve_only_while_every_listing_is_fresh() -> None:
    clock = FakeClock()
    configured, listed = StaticProvider("a"), StaticProvider("b", ["m2"])
    catalog = ProviderCatalog([CatalogEntry(configured, ["m1"]), CatalogEntry(listed)],
                              aliases={"fast": "m2"}, listing_ttl=60, clock=clock)
    assert catalog.resolve_cached("m1") is None  # b was never listed: resolve would list it

    await catalog.refresh()
    listings = listed.listings
    assert catalog.resolve_cached("m1") == (configured, "m1")
    assert catalog.resolve_cached("fast") == (listed, "m2")
    assert catalog.resolve_cached("echo") == await catalog.resolve("echo")
    assert catalog.resolve_cached("unknown") is None  # the refusal is resolve's to give
    assert listed.listings == listings  # none of it listed anything

    clock.now = 61  # b's listing is stale again
    assert catalog.resolve_cached("m1") is None
