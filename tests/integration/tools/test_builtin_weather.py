"""current_weather / weather_forecast against a local server speaking Open-Meteo's geocoding and
forecast APIs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from switchboard.adapters.tools.builtin_host import BuiltinToolHost
from switchboard.core.domain.tools import ToolContext

CTX = ToolContext(user_id=1)
BERLIN = {
    "id": 2950159, "name": "Berlin", "latitude": 52.52437, "longitude": 13.41053, "elevation": 74.0,
    "feature_code": "PPLC", "country_code": "DE", "timezone": "Europe/Berlin", "population": 3426354,
    "country": "Germany", "admin1": "Land Berlin",
}  # fmt: skip


class FakeOpenMeteo:
    """Both APIs on one local server; it records the query strings it was sent."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, dict[str, str]]] = []
        self.fail_forecast = False
        app = web.Application()
        app.router.add_get("/v1/search", self._search)
        app.router.add_get("/v1/forecast", self._forecast)
        self.server = TestServer(app, host="127.0.0.1", port=0)

    @property
    def base_url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    async def _search(self, request: web.Request) -> web.Response:
        self.queries.append((request.path, dict(request.query)))
        if request.query["name"].lower() != "berlin":
            return web.json_response({"generationtime_ms": 0.4})  # Open-Meteo's "nothing found"
        return web.json_response({"results": [BERLIN], "generationtime_ms": 0.6})

    async def _forecast(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        self.queries.append((request.path, query))
        if self.fail_forecast:
            return web.json_response({"error": True, "reason": "Latitude must be in range of -90 to 90°."}, status=400)
        fahrenheit = query.get("temperature_unit") == "fahrenheit"
        body: dict[str, Any] = {
            "latitude": 52.52, "longitude": 13.419998, "generationtime_ms": 0.1, "utc_offset_seconds": 3600,
            "timezone": "Europe/Berlin", "timezone_abbreviation": "CET", "elevation": 38.0,
        }  # fmt: skip
        if "current" in query:
            body["current_units"] = {
                "time": "iso8601", "interval": "seconds", "temperature_2m": "°F" if fahrenheit else "°C",
                "apparent_temperature": "°C", "relative_humidity_2m": "%", "precipitation": "mm",
                "weather_code": "wmo code", "cloud_cover": "%", "wind_speed_10m": "km/h", "wind_direction_10m": "°",
                "is_day": "",
            }  # fmt: skip
            body["current"] = {
                "time": "2025-01-15T14:00", "interval": 900, "temperature_2m": 41.2 if fahrenheit else 5.1,
                "apparent_temperature": 1.9, "relative_humidity_2m": 81, "precipitation": 0.0, "weather_code": 3,
                "cloud_cover": 100, "wind_speed_10m": 14.8, "wind_direction_10m": 250, "is_day": 1,
            }  # fmt: skip
        if "daily" in query:
            days = int(query["forecast_days"])
            body["daily_units"] = {
                "time": "iso8601", "weather_code": "wmo code", "temperature_2m_max": "°C",
                "temperature_2m_min": "°C", "precipitation_sum": "mm", "precipitation_probability_max": "%",
                "wind_speed_10m_max": "km/h",
            }  # fmt: skip
            body["daily"] = {
                "time": [f"2025-01-{15 + day}" for day in range(days)],
                "weather_code": [61, 0, 95][:days],
                "temperature_2m_max": [6.0, 8.5, 12.1][:days],
                "temperature_2m_min": [1.2, -0.5, 4.0][:days],
                "precipitation_sum": [3.4, 0.0, 12.0][:days],
                "precipitation_probability_max": [80, 5, 90][:days],
                "wind_speed_10m_max": [20.1, 11.0, 35.5][:days],
            }
        return web.json_response(body)


@pytest.fixture
async def meteo() -> AsyncIterator[FakeOpenMeteo]:
    fake = FakeOpenMeteo()
    await fake.server.start_server()
    yield fake
    await fake.server.close()


@pytest.fixture
async def host(meteo: FakeOpenMeteo) -> AsyncIterator[BuiltinToolHost]:
    # The weather service is admin-configured: it may live on 127.0.0.1 even with the crawler guard on.
    host = BuiltinToolHost(weather_base_url=meteo.base_url, geocoding_base_url=meteo.base_url + "/")
    yield host
    await host.close()


async def test_current_weather_geocodes_then_asks_for_current_conditions(host, meteo) -> None:
    outcome = await host.call("current_weather", {"place": "Berlin"}, CTX)
    assert not outcome.is_error, outcome.content
    assert outcome.content.splitlines()[:3] == [
        "Current weather in Berlin, Land Berlin, Germany (52.52437, 13.41053) at 2025-01-15T14:00 (Europe/Berlin):",
        "overcast, 5.1 °C",
        "feels like: 1.9 °C",
    ]
    assert "humidity: 81 %" in outcome.content and "wind direction: 250°" in outcome.content
    (search_path, search), (forecast_path, forecast) = meteo.queries
    assert search_path == "/v1/search" and search["name"] == "Berlin" and search["count"] == "1"
    assert forecast_path == "/v1/forecast"
    assert (forecast["latitude"], forecast["longitude"], forecast["timezone"]) == ("52.52437", "13.41053", "auto")
    assert "temperature_2m" in forecast["current"].split(",") and "weather_code" in forecast["current"]


async def test_forecast_for_several_days(host, meteo) -> None:
    outcome = await host.call("weather_forecast", {"place": "berlin", "days": 2}, CTX)
    assert not outcome.is_error, outcome.content
    lines = outcome.content.splitlines()
    assert lines[1] == (
        "2025-01-15: slight rain, 1.2 °C to 6.0 °C, precipitation 3.4 mm (chance 80 %), wind up to 20.1 km/h"
    )
    assert lines[2].startswith("2025-01-16: clear sky, -0.5 °C to 8.5 °C")
    assert len(lines) == 3
    forecast = meteo.queries[-1][1]
    assert forecast["forecast_days"] == "2" and "temperature_2m_max" in forecast["daily"]


async def test_imperial_units_are_requested(host, meteo) -> None:
    outcome = await host.call("current_weather", {"place": "Berlin", "units": "imperial"}, CTX)
    assert "41.2 °F" in outcome.content
    forecast = meteo.queries[-1][1]
    assert (forecast["temperature_unit"], forecast["wind_speed_unit"]) == ("fahrenheit", "mph")


async def test_coordinates_skip_geocoding(host, meteo) -> None:
    outcome = await host.call("current_weather", {"place": "48.85, 2.35"}, CTX)
    assert not outcome.is_error
    assert [path for path, _ in meteo.queries] == ["/v1/forecast"]
    assert meteo.queries[0][1]["latitude"] == "48.85"


async def test_unknown_place_is_a_clear_error(host, meteo) -> None:
    outcome = await host.call("weather_forecast", {"place": "Atlantis"}, CTX)
    assert outcome.is_error and "no place called 'Atlantis' was found" in outcome.content
    assert [path for path, _ in meteo.queries] == ["/v1/search"]


async def test_service_errors_carry_the_reason(host, meteo) -> None:
    meteo.fail_forecast = True
    outcome = await host.call("current_weather", {"place": "Berlin"}, CTX)
    assert outcome.is_error and "Latitude must be in range" in outcome.content


async def test_unreachable_service_is_an_error_outcome(meteo) -> None:
    url = meteo.base_url
    await meteo.server.close()
    host = BuiltinToolHost(weather_base_url=url, geocoding_base_url=url)
    try:
        outcome = await host.call("current_weather", {"place": "Berlin"}, CTX)
    finally:
        await host.close()
    assert outcome.is_error and "could not be reached" in outcome.content


async def test_arguments_are_validated(host) -> None:
    outcome = await host.call("weather_forecast", {"place": "Berlin", "days": 30}, CTX)
    assert outcome.is_error and "'days'" in outcome.content
