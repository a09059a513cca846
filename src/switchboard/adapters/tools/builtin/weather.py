"""Weather tools over Open-Meteo's geocoding and forecast APIs.

Both base URLs come from the admin's configuration (tests point them at a local server), so these
requests are not subject to the crawler's private-network guard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import aiohttp

from switchboard.adapters.tools.builtin.base import ToolFailure, object_schema
from switchboard.core.domain.tools import ToolContext, ToolOutcome, ToolSpec

_WMO_CODES = {
    0: "clear sky", 1: "mainly clear", 2: "partly cloudy", 3: "overcast", 45: "fog", 48: "depositing rime fog",
    51: "light drizzle", 53: "moderate drizzle", 55: "dense drizzle", 56: "light freezing drizzle",
    57: "dense freezing drizzle", 61: "slight rain", 63: "moderate rain", 65: "heavy rain",
    66: "light freezing rain", 67: "heavy freezing rain", 71: "slight snow fall", 73: "moderate snow fall",
    75: "heavy snow fall", 77: "snow grains", 80: "slight rain showers", 81: "moderate rain showers",
    82: "violent rain showers", 85: "slight snow showers", 86: "heavy snow showers", 95: "thunderstorm",
    96: "thunderstorm with slight hail", 99: "thunderstorm with heavy hail",
}  # fmt: skip
_CURRENT = (
    "temperature_2m,apparent_temperature,relative_humidity_2m,precipitation,weather_code,"
    "cloud_cover,wind_speed_10m,wind_direction_10m,is_day"
)
_DAILY = (
    "weather_code,temperature_2m_max,temperature_2m_min,precipitation_sum,"
    "precipitation_probability_max,wind_speed_10m_max"
)
_IMPERIAL = {"temperature_unit": "fahrenheit", "wind_speed_unit": "mph", "precipitation_unit": "inch"}
_COORDINATES = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*,\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
_PLACE_SCHEMA = {
    "type": "string",
    "minLength": 2,
    "maxLength": 200,
    "description": "A place name such as 'Berlin' or 'Paris, France', or 'latitude,longitude'.",
}
_UNITS_SCHEMA = {"type": "string", "enum": ["metric", "imperial"], "default": "metric"}


def describe_code(code: Any) -> str:
    return _WMO_CODES.get(code, f"weather code {code}") if isinstance(code, int) else "unknown conditions"


@dataclass(frozen=True, slots=True)
class Place:
    label: str
    latitude: float
    longitude: float


class OpenMeteoClient:
    def __init__(self, *, geocoding_base_url: str, weather_base_url: str, timeout_s: float = 10.0) -> None:
        self._geocoding = geocoding_base_url.rstrip("/")
        self._weather = weather_base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _get_json(self, url: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            async with self._client().get(url, params=params) as response:
                body = await response.json(content_type=None)
        except TimeoutError as exc:
            raise ToolFailure("the weather service did not answer in time") from exc
        except (aiohttp.ClientError, ValueError) as exc:
            raise ToolFailure(f"the weather service could not be reached: {exc}") from exc
        if not isinstance(body, dict):
            raise ToolFailure("the weather service sent an unexpected answer")
        if response.status != 200 or body.get("error"):
            raise ToolFailure(f"the weather service refused: {body.get('reason') or f'HTTP {response.status}'}")
        return body

    async def find_place(self, query: str) -> Place:
        coordinates = _COORDINATES.match(query)
        if coordinates:
            latitude, longitude = float(coordinates[1]), float(coordinates[2])
            return Place(label=f"{latitude}, {longitude}", latitude=latitude, longitude=longitude)
        body = await self._get_json(
            f"{self._geocoding}/v1/search", {"name": query.strip(), "count": "1", "format": "json"}
        )
        results = body.get("results") or []
        if not results:
            raise ToolFailure(f"no place called {query!r} was found; try another spelling or add the country")
        best = results[0]
        parts = [best.get("name"), best.get("admin1"), best.get("country")]
        label = ", ".join(dict.fromkeys(str(part) for part in parts if part))
        return Place(label=label, latitude=float(best["latitude"]), longitude=float(best["longitude"]))

    async def forecast(self, place: Place, units: str, extra: dict[str, str]) -> dict[str, Any]:
        params = {"latitude": str(place.latitude), "longitude": str(place.longitude), "timezone": "auto"}
        params |= extra
        if units == "imperial":
            params |= _IMPERIAL
        return await self._get_json(f"{self._weather}/v1/forecast", params)


def _with_unit(value: Any, unit: str) -> str:
    return f"{value}{'' if unit in ('', '°') else ' '}{unit}"


class CurrentWeather:
    def __init__(self, client: OpenMeteoClient) -> None:
        self._client = client
        self.spec = ToolSpec(
            name="current_weather",
            description="Current weather for a place: conditions, temperature, humidity, wind, precipitation.",
            parameters=object_schema({"place": _PLACE_SCHEMA, "units": _UNITS_SCHEMA}, ["place"]),
            category="weather",
            timeout_s=20.0,
        )

    async def run(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        place = await self._client.find_place(arguments["place"])
        body = await self._client.forecast(place, arguments.get("units", "metric"), {"current": _CURRENT})
        current, units = body.get("current") or {}, body.get("current_units") or {}
        if not current:
            raise ToolFailure("the weather service sent no current conditions")

        def unit(key: str) -> str:
            return str(units.get(key, ""))

        lines = [
            f"Current weather in {place.label} ({place.latitude}, {place.longitude}) "
            f"at {current.get('time')} ({body.get('timezone', 'UTC')}):",
            f"{describe_code(current.get('weather_code'))}, "
            f"{_with_unit(current.get('temperature_2m'), unit('temperature_2m'))}",
        ]
        labelled = (
            ("feels like", "apparent_temperature"),
            ("humidity", "relative_humidity_2m"),
            ("precipitation", "precipitation"),
            ("cloud cover", "cloud_cover"),
            ("wind", "wind_speed_10m"),
            ("wind direction", "wind_direction_10m"),
        )
        lines += [f"{label}: {_with_unit(current[key], unit(key))}" for label, key in labelled if key in current]
        return ToolOutcome(content="\n".join(lines), data={"place": place.label, **body})


class WeatherForecast:
    def __init__(self, client: OpenMeteoClient) -> None:
        self._client = client
        self.spec = ToolSpec(
            name="weather_forecast",
            description="Daily weather forecast for a place: conditions, min/max temperature, rain, wind.",
            parameters=object_schema(
                {
                    "place": _PLACE_SCHEMA,
                    "days": {"type": "integer", "minimum": 1, "maximum": 16, "default": 3},
                    "units": _UNITS_SCHEMA,
                },
                ["place"],
            ),
            category="weather",
            timeout_s=20.0,
        )

    async def run(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        place = await self._client.find_place(arguments["place"])
        days = int(arguments.get("days", 3))
        extra = {"daily": _DAILY, "forecast_days": str(days)}
        body = await self._client.forecast(place, arguments.get("units", "metric"), extra)
        daily, units = body.get("daily") or {}, body.get("daily_units") or {}
        dates = daily.get("time") or []
        if not dates:
            raise ToolFailure("the weather service sent no forecast")

        def value(key: str, index: int) -> str:
            series = daily.get(key) or []
            return _with_unit(series[index], str(units.get(key, ""))) if index < len(series) else "?"

        lines = [f"Forecast for {place.label} ({place.latitude}, {place.longitude}), {body.get('timezone', 'UTC')}:"]
        for index, date in enumerate(dates):
            codes = daily.get("weather_code") or []
            lines.append(
                f"{date}: {describe_code(codes[index] if index < len(codes) else None)}, "
                f"{value('temperature_2m_min', index)} to {value('temperature_2m_max', index)}, "
                f"precipitation {value('precipitation_sum', index)} "
                f"(chance {value('precipitation_probability_max', index)}), "
                f"wind up to {value('wind_speed_10m_max', index)}"
            )
        return ToolOutcome(content="\n".join(lines), data={"place": place.label, **body})
