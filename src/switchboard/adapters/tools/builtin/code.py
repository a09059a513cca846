"""Code tools: run a Python script in a bubblewrap sandbox; evaluate arithmetic safely."""

from __future__ import annotations

import math
import signal
from dataclasses import replace
from typing import Any

from switchboard.adapters.tools.builtin.base import ToolFailure, object_schema
from switchboard.adapters.tools.builtin.bubblewrap import SandboxUnavailable
from switchboard.adapters.tools.builtin.calculator import CalculationError, evaluate
from switchboard.adapters.tools.builtin.sandbox import PythonSandbox, RunResult
from switchboard.core.domain.tools import ToolContext, ToolOutcome, ToolSpec

MAX_CODE_CHARS = 100_000


def _describe_exit(result: RunResult, timeout_s: float) -> str:
    if result.timed_out:
        return f"killed: time limit of {timeout_s:g}s exceeded"
    code = result.exit_code
    if code is not None and code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def render_run(result: RunResult, timeout_s: float) -> str:
    parts = [f"{_describe_exit(result, timeout_s)} ({result.duration_s:g}s)"]
    for label, text, truncated in (
        ("stdout", result.stdout, result.stdout_truncated),
        ("stderr", result.stderr, result.stderr_truncated),
    ):
        if text or truncated:
            parts.append(f"--- {label} ---\n{text.rstrip()}")
            if truncated:
                parts.append(f"[{label} truncated: only the first {len(text.encode())} bytes are shown]")
    if len(parts) == 1:
        parts.append("(no output)")
    return "\n".join(parts)


class RunPython:
    """Off (listed with the reason, never run) while its sandbox is off; see sandbox.PythonSandbox."""

    def __init__(self, sandbox: PythonSandbox) -> None:
        self._sandbox = sandbox
        limits = sandbox.limits
        max_timeout = limits.timeout_s
        self._spec = ToolSpec(
            name="run_python",
            description=(
                "Run a Python 3 script in an isolated sandbox and return its exit code, stdout and stderr. "
                "Standard library only; no network, no files but its own. A scratch directory is the working "
                f"directory, at most {max_timeout:g}s and {limits.memory_bytes // 2**20} MB. "
                "Print what you want to see."
            ),
            parameters=object_schema(
                {
                    "code": {"type": "string", "minLength": 1, "maxLength": MAX_CODE_CHARS},
                    "timeout_seconds": {
                        "type": "number",
                        "exclusiveMinimum": 0,
                        "maximum": max_timeout,
                        "description": f"Wall-clock limit, default and maximum {max_timeout:g}.",
                    },
                },
                ["code"],
            ),
            category="code",
            # A little longer than the sandbox's own limit, so the sandbox reports the timeout itself.
            timeout_s=max_timeout + 5,
            runs_code=True,
        )

    @property
    def spec(self) -> ToolSpec:
        return replace(self._spec, unavailable=self._sandbox.unavailable)

    async def run(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        limit = self._sandbox.limits.timeout_s
        timeout_s = min(float(arguments.get("timeout_seconds", limit)), limit)
        try:
            result = await self._sandbox.run(arguments["code"], timeout_s)
        except SandboxUnavailable as exc:
            raise ToolFailure(f"the code sandbox is off: {exc}") from exc
        data = {
            "exit_code": result.exit_code,
            "timed_out": result.timed_out,
            "stdout": result.stdout,
            "stderr": result.stderr,
            "duration_s": result.duration_s,
        }
        return ToolOutcome(content=render_run(result, timeout_s), is_error=result.failed, data=data)


def _format_number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return repr(value)


class Calculate:
    def __init__(self) -> None:
        self.spec = ToolSpec(
            name="calculate",
            description=(
                "Evaluate an arithmetic expression exactly: + - * / // % ** and parentheses, "
                "functions sqrt cbrt exp log(x[, base]) ln log10 log2 sin cos tan asin acos atan atan2 "
                "sinh cosh tanh degrees radians hypot floor ceil abs round min max gcd factorial, "
                "constants pi e tau. Angles are in radians."
            ),
            parameters=object_schema(
                {"expression": {"type": "string", "minLength": 1, "maxLength": 500, "examples": ["2**10 / 3"]}},
                ["expression"],
            ),
            category="code",
            timeout_s=5.0,
        )

    async def run(self, arguments: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        expression = arguments["expression"]
        try:
            value = evaluate(expression)
        except CalculationError as exc:
            raise ToolFailure(f"cannot calculate {expression!r}: {exc}") from exc
        shown = _format_number(value)
        return ToolOutcome(content=f"{expression.strip()} = {shown}", data={"result": value})
