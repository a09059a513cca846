"""run_python in its real bubblewrap sandbox with real limits, and the calculator's answers and refusals.
(What the sandbox keeps out, attack by attack, is in test_code_sandbox.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from switchboard.adapters.tools.builtin.sandbox import SandboxLimits
from switchboard.adapters.tools.builtin_host import BuiltinToolHost
from switchboard.core.domain.tools import ToolContext

CTX = ToolContext(user_id=1)


@pytest.fixture
async def host() -> AsyncIterator[BuiltinToolHost]:
    host = BuiltinToolHost(sandbox_limits=SandboxLimits(timeout_s=5.0, output_bytes=2000, file_size_bytes=1024 * 1024))
    await host.start()
    assert host.spec("run_python").unavailable is None, host.spec("run_python").unavailable
    yield host
    await host.close()


async def run(host: BuiltinToolHost, code: str, **extra: object):  # type: ignore[no-untyped-def]
    return await host.call("run_python", {"code": code, **extra}, CTX)


async def test_runs_code_and_reports_output_and_exit_code(host) -> None:
    outcome = await run(host, "import sys\nprint(6 * 7)\nprint('warned', file=sys.stderr)")
    assert not outcome.is_error
    assert outcome.content.startswith("exit code 0")
    assert outcome.data["stdout"] == "42\n" and outcome.data["stderr"] == "warned\n"


async def test_a_failing_script_is_an_error_outcome(host) -> None:
    outcome = await run(host, "raise ValueError('broken on purpose')")
    assert outcome.is_error and outcome.data["exit_code"] == 1
    assert "ValueError: broken on purpose" in outcome.content
    syntax = await run(host, "def (:")
    assert syntax.is_error and "SyntaxError" in syntax.content


async def test_an_infinite_loop_is_killed_at_the_time_limit(host) -> None:
    outcome = await run(host, "print('started', flush=True)\nwhile True:\n    pass", timeout_seconds=1)
    assert outcome.is_error and outcome.data["timed_out"]
    assert "time limit of 1s exceeded" in outcome.content
    assert "started" in outcome.data["stdout"]  # what it printed before dying is kept


async def test_a_script_killed_by_a_signal_is_reported_so(host) -> None:
    outcome = await run(host, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    assert outcome.is_error and outcome.data["exit_code"] == -9
    assert outcome.content.startswith("killed by signal SIGKILL")


async def test_memory_is_limited(host) -> None:
    outcome = await run(host, "block = bytearray(1024 ** 3)\nprint('allocated')")
    assert outcome.is_error and "MemoryError" in outcome.content and "allocated" not in outcome.content


async def test_no_secret_from_the_server_environment_is_visible(host, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-leak")
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", "postgresql://user:pw@db/prod")
    outcome = await run(host, "import os\nprint(sorted(os.environ))\nprint(list(os.environ.values()))")
    assert not outcome.is_error
    assert "sk-must-not-leak" not in outcome.content and "OPENAI_API_KEY" not in outcome.content
    assert "SWITCHBOARD" not in outcome.content and "postgresql" not in outcome.content


async def test_a_private_scratch_directory_is_the_cwd_and_each_run_gets_a_fresh_one(host) -> None:
    code = "import os\nprint(os.getcwd(), sorted(os.listdir('.')))\nopen('notes.txt', 'w').write('hi')"
    first = await run(host, code)
    second = await run(host, code)
    assert first.data["stdout"] == second.data["stdout"] == "/tmp ['main.py']\n"


async def test_output_is_truncated(host) -> None:
    outcome = await run(host, "print('x' * 100_000)")
    assert not outcome.is_error
    assert len(outcome.data["stdout"]) == 2000
    assert "[stdout truncated: only the first 2000 bytes are shown]" in outcome.content


async def test_big_files_are_refused(host) -> None:
    outcome = await run(host, "open('big.bin', 'wb').write(b'0' * (2 * 1024 * 1024))")
    assert outcome.is_error and "File too large" in outcome.content


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", "7"),
        ("(1 + 2) * 3", "9"),
        ("2 ** 10", "1024"),
        ("7 // 2 + 7 % 2", "4"),
        ("10 / 4", "2.5"),
        ("-3 ** 2", "-9"),
        ("sqrt(16) + log(e) + log(8, 2)", "8"),
        ("round(sin(pi / 2) + cos(0), 3)", "2"),
        ("factorial(20)", "2432902008176640000"),
        ("max(3, 9, 4) - min(3, 9, 4)", "6"),
        ("2 ** 0.5", "1.4142135623730951"),
    ],
)
async def test_calculator_results(host, expression: str, expected: str) -> None:
    outcome = await host.call("calculate", {"expression": expression}, CTX)
    assert not outcome.is_error, outcome.content
    assert outcome.content == f"{expression} = {expected}"


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("__import__('os').system('id')", "Attribute is not allowed"),
        ("(1).real", "Attribute is not allowed"),
        ("().__class__", "Attribute is not allowed"),
        ("open('/etc/passwd')", "unknown function 'open'"),
        ("x + 1", "unknown name 'x'"),
        ("'a' * 3", "only numbers are allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("[1, 2][0]", "is not allowed"),
        ("9 ** 9 ** 9", "result too large"),
        ("2 ** 10 ** 10", "result too large"),
        ("10 ** 5000 * 10 ** 5000", "result too large"),
        ("factorial(100000)", "factorial is limited"),
        ("exp(100000)", "result too large"),
        ("1 / 0", "division by zero"),
        ("sqrt(-1)", "math error"),
        ("(-8) ** 0.5", "not a real number"),
        ("1 +", "not a valid expression"),
        ("sqrt(x=4)", "positional arguments only"),
        ("1 if 1 else 2", "is not allowed"),
    ],
)
async def test_calculator_refusals(host, expression: str, reason: str) -> None:
    outcome = await host.call("calculate", {"expression": expression}, CTX)
    assert outcome.is_error and reason in outcome.content, outcome.content


async def test_calculator_refuses_overlong_input(host) -> None:
    outcome = await host.call("calculate", {"expression": "1+" * 300 + "1"}, CTX)
    assert outcome.is_error and "expression" in outcome.content
