"""BuiltinToolHost: the built-in tools behind the ToolHost port.

The host owns everything the tools must not each get right on their own: argument validation
against the tool's JSON Schema, the per-tool timeout, the output size limit, and turning every
failure into an error outcome the model can read, so a broken tool never breaks a chat turn.
A tool whose spec says it is unavailable (run_python without a working sandbox) is never run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from switchboard.adapters.tools.arguments import describe
from switchboard.adapters.tools.builtin.base import BuiltinTool, ToolFailure, UserFileReader
from switchboard.adapters.tools.builtin.code import Calculate, RunPython
from switchboard.adapters.tools.builtin.crawler import FetchPage, FindInPage
from switchboard.adapters.tools.builtin.data import ColumnStats, QueryData, TableLoader
from switchboard.adapters.tools.builtin.net_guard import (
    AddressPolicy,
    NetGuard,
    Resolve,
    allow_every_address,
    is_public_address,
    system_resolve,
)
from switchboard.adapters.tools.builtin.sandbox import PythonSandbox, SandboxLimits
from switchboard.adapters.tools.builtin.weather import CurrentWeather, OpenMeteoClient, WeatherForecast
from switchboard.adapters.tools.builtin.web_fetch import CrawlerNetwork, FetchLimits, GuardedFetcher
from switchboard.core.domain.errors import DomainError, InvalidInput, NotFound
from switchboard.core.domain.tools import ToolContext, ToolOutcome, ToolSpec

logger = logging.getLogger(__name__)


class BuiltinToolHost:
    def __init__(
        self,
        *,
        allow_private_network: bool = False,
        output_limit_chars: int = 20_000,
        weather_base_url: str = "https://api.open-meteo.com",
        geocoding_base_url: str = "https://geocoding-api.open-meteo.com",
        files: UserFileReader | None = None,
        max_data_file_bytes: int = 20 * 1024 * 1024,
        fetch_limits: FetchLimits | None = None,
        sandbox_limits: SandboxLimits | None = None,
        bubblewrap: str = "bwrap",
        sandbox_python: str | None = None,
        resolve: Resolve = system_resolve,
        address_policy: AddressPolicy = is_public_address,
        enabled: Collection[str] | None = None,
        extra_tools: Sequence[BuiltinTool] = (),
    ) -> None:
        """`allow_private_network` is the admin switch for the crawler; `resolve` and `address_policy`
        replace DNS and the SSRF policy (tests); `enabled` is the admin allow-list of tool names
        (None = all); `extra_tools` adds tools of the same shape. `bubblewrap` (a name on PATH or a
        path) and `sandbox_python` (None: the system's python3) make run_python's sandbox, which
        `start()` checks."""
        limits = fetch_limits or FetchLimits()
        self._network = CrawlerNetwork(
            strict=GuardedFetcher(guard=NetGuard(resolve=resolve, is_allowed=address_policy), limits=limits),
            open_=GuardedFetcher(guard=NetGuard(resolve=resolve, is_allowed=allow_every_address), limits=limits),
            allow_private_network=allow_private_network,
        )
        self._weather = OpenMeteoClient(geocoding_base_url=geocoding_base_url, weather_base_url=weather_base_url)
        loader = TableLoader(files, max_data_file_bytes)
        self._sandbox = PythonSandbox(sandbox_limits, bubblewrap, sandbox_python)
        tools: list[BuiltinTool] = [
            FetchPage(self._network, timeout_s=limits.timeout_s + 5),
            FindInPage(self._network, timeout_s=limits.timeout_s + 5),
            RunPython(self._sandbox),
            Calculate(),
            QueryData(loader),
            ColumnStats(loader),
            CurrentWeather(self._weather),
            WeatherForecast(self._weather),
            *extra_tools,
        ]
        self._tools: dict[str, BuiltinTool] = {}
        self._validators: dict[str, Draft202012Validator] = {}
        for tool in tools:
            name = tool.spec.name
            if name in self._tools:
                raise ValueError(f"two built-in tools are named {name!r}")
            if enabled is not None and name not in enabled:
                continue
            Draft202012Validator.check_schema(tool.spec.parameters)  # a broken schema is our bug: fail now
            self._tools[name] = tool
            self._validators[name] = Draft202012Validator(tool.spec.parameters)
        self._output_limit = output_limit_chars

    async def start(self) -> None:
        """Checks run_python's sandbox once; when it fails the tool stays off (listed as
        unavailable with the reason, never run unsandboxed) and the operator is told why."""
        if "run_python" not in self._tools:
            return
        reason = await self._sandbox.check()
        if reason is not None:
            logger.warning("the code tool run_python is OFF: %s", reason)
        elif (bubblewrap := self._sandbox.bubblewrap) is not None:
            logger.info("run_python runs %s in a bubblewrap sandbox (%s)", bubblewrap.python, bubblewrap.executable)

    async def specs(self) -> list[ToolSpec]:
        return [tool.spec for tool in self._tools.values()]

    def spec(self, name: str) -> ToolSpec:
        return self._tool(name).spec

    def _tool(self, name: str) -> BuiltinTool:
        tool = self._tools.get(name)
        if tool is None:
            raise NotFound(f"no tool named {name!r}", param="name")
        return tool

    def validate(self, name: str, arguments: Any) -> None:
        """Raises NotFound for an unknown tool, InvalidInput naming the bad field otherwise."""
        self._tool(name)
        if not isinstance(arguments, dict):
            raise InvalidInput(f"{name}: arguments must be a JSON object", param="arguments")
        validator = self._validators[name]
        error = best_match(validator.iter_errors(arguments))
        if error is not None:
            field, message = describe(error)
            raise InvalidInput(f"{name}: {message}", param=field)

    async def check_arguments(self, name: str, arguments: dict[str, Any]) -> None:
        self.validate(name, arguments)

    async def call(self, name: str, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        tool = self._tool(name)
        if (unavailable := tool.spec.unavailable) is not None:
            return ToolOutcome(content=f"{name} is unavailable: {unavailable}", is_error=True)
        try:
            self.validate(name, arguments)
        except InvalidInput as exc:
            return ToolOutcome(content=exc.message, is_error=True)
        timeout_s = tool.spec.timeout_s
        try:
            outcome = await asyncio.wait_for(tool.run(arguments, ctx), timeout=timeout_s)
        except TimeoutError:
            return ToolOutcome(content=f"{name} timed out after {timeout_s:g}s", is_error=True)
        except ToolFailure as exc:
            return ToolOutcome(content=f"{name} failed: {exc}", is_error=True)
        except DomainError as exc:
            return ToolOutcome(content=f"{name} failed: {exc.message}", is_error=True)
        except Exception as exc:
            logger.exception("built-in tool %s crashed", name)
            return ToolOutcome(content=f"{name} failed unexpectedly: {type(exc).__name__}: {exc}", is_error=True)
        return self._limited(outcome)

    def _limited(self, outcome: ToolOutcome) -> ToolOutcome:
        content = outcome.content
        if len(content) <= self._output_limit:
            return outcome
        note = f"\n[output truncated: showing {self._output_limit} of {len(content)} characters]"
        return ToolOutcome(
            content=content[: self._output_limit] + note,
            is_error=outcome.is_error,
            data=outcome.data,
            attachments=outcome.attachments,
        )

    async def close(self) -> None:
        await self._network.close()
        await self._weather.close()
