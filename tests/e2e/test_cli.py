"""The `switchboard` console script as a person uses it: real processes, one data directory."""

import os
import subprocess
import sys
from pathlib import Path

import httpx

from switchboard.app.asgi import create_app
from switchboard.config.settings import Settings
from switchboard.core.services.quotas.allowances import QuotaPolicy, QuotaService

SWITCHBOARD = str(Path(sys.executable).with_name("switchboard"))


def run(data_dir: Path, *args: str, program: str = SWITCHBOARD,
        extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SWITCHBOARD_DATA_DIR": str(data_dir), "SWITCHBOARD_LOG_LEVEL": "warning",
           "SWITCHBOARD_DEFAULT_TOKEN_ALLOWANCE": "100", **(extra_env or {})}
    env.pop("OPENAI_API_KEY", None)
    return subprocess.run([program, *args], capture_output=True, text=True, env=env, timeout=60)


async def test_users_keys_and_allowances_from_the_command_line(tmp_path: Path) -> None:
    assert run(tmp_path, "migrate").returncode == 0
    created = run(tmp_path, "users", "create", "carol", "--password", "a-long-password", "--admin")
    assert created.returncode == 0 and "admin 'carol'" in created.stdout
    key = run(tmp_path, "keys", "create", "--user", "carol", "--scopes", "chat,admin", "--expires-days", "7")
    assert key.returncode == 0
    secret = key.stdout.strip()
    assert secret.startswith("sb-") and len(secret) > 30  # printed once, nothing else on stdout
    allowance = run(tmp_path, "users", "allowance", "carol", "--add", "500")
    assert allowance.returncode == 0 and "allowance 600" in allowance.stdout  # 100 at creation + 500

    app = create_app(Settings(data_dir=tmp_path, default_token_allowance=100))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://sb") as client:
            me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {secret}"})
            assert me.status_code == 200 and me.json()["data"]["role"] == "admin"
            users = await client.get("/api/admin/users", headers={"Authorization": f"Bearer {secret}"})
            assert users.json()["data"]["items"][0]["token_allowance"] == 600


async def test_releasing_what_a_crashed_worker_left_reserved(tmp_path: Path) -> None:
    assert run(tmp_path, "users", "create", "carol", "--password", "a-long-password").returncode == 0
    metered = run(tmp_path, "keys", "create", "--user", "carol", "--token-quota", "1000").stdout.strip()
    app = create_app(Settings(data_dir=tmp_path, default_token_allowance=100))
    async with app.router.lifespan_context(app):  # a call holds 60 tokens, and its worker dies
        services = app.state.runtime.services
        carol = await services.accounts.principal_from_token(metered)
        assert carol.key_tokens_left == 1000
        # held by a worker that never beat (no row to find): only the manual release frees it
        await QuotaService(app.state.runtime.uow, QuotaPolicy(), "wrk_gone").reserve(carol, 20, 40)

    released = run(tmp_path, "users", "release", "carol")
    assert released.returncode == 0 and "carol: released 60 reserved tokens" in released.stdout
    everyone = run(tmp_path, "users", "release")
    assert everyone.returncode == 0 and "released 0 reserved tokens of every user" in everyone.stdout
    unknown = run(tmp_path, "users", "release", "nobody")
    assert unknown.returncode == 1 and "no user named 'nobody'" in unknown.stderr
    app = create_app(Settings(data_dir=tmp_path, default_token_allowance=100))
    async with app.router.lifespan_context(app):
        quota = await app.state.runtime.services.quotas.quota(carol.user_id)
        assert (quota.reserved, quota.allowance - quota.used) == (0, 100)


def test_mistakes_get_a_clear_message_and_a_non_zero_exit(tmp_path: Path) -> None:
    unknown = run(tmp_path, "keys", "create", "--user", "nobody")
    assert unknown.returncode == 1 and "no user named 'nobody'" in unknown.stderr
    assert run(tmp_path, "users", "create", "dave", "--password", "long-enough-pw").returncode == 0
    bad_scope = run(tmp_path, "keys", "create", "--user", "dave", "--scopes", "chat,root")
    assert bad_scope.returncode == 2 and "unknown scope" in bad_scope.stderr
    not_admin = run(tmp_path, "keys", "create", "--user", "dave", "--scopes", "admin")
    assert not_admin.returncode == 1 and "administrator" in not_admin.stderr
    taken = run(tmp_path, "users", "create", "dave", "--password", "long-enough-pw")
    assert taken.returncode == 1 and "taken" in taken.stderr
    short = run(tmp_path, "users", "create", "erin", "--password", "short")
    assert short.returncode == 1 and "at least 8" in short.stderr
    assert "Traceback" not in unknown.stderr + bad_scope.stderr + taken.stderr + short.stderr


def test_a_broken_config_file_is_reported_not_raised(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("providers: [unclosed\n")
    result = run(tmp_path, "--config", str(config), "migrate")
    assert result.returncode == 2 and "cannot read config file" in result.stderr


def test_a_command_builds_only_the_account_services_and_migrates_quietly(tmp_path: Path) -> None:
    """What keeps `switchboard users …` quick: no MCP, HTTP client, faces or alembic (on a current
    database) is imported, and alembic's step-by-step lines stay out of the output."""
    env_info = {"SWITCHBOARD_LOG_LEVEL": "info"}
    first = run(tmp_path, "users", "create", "dave", "--password", "a-long-password", extra_env=env_info)
    assert first.returncode == 0, first.stderr
    assert "database migrated from empty to" in first.stderr and "alembic" not in first.stderr
    probe = (
        "import sys; from switchboard.app.cli import main; code = main(['users', 'allowance', 'dave', '--add', '1']);"
        "heavy = [m for m in ('mcp', 'aiohttp', 'alembic', 'redis', 'switchboard.faces', 'fastapi')"
        " if m in sys.modules];"
        "print('heavy:', heavy); sys.exit(code)"
    )
    second = run(tmp_path, "-c", probe, program=sys.executable, extra_env=env_info)
    assert second.returncode == 0, second.stderr
    assert "heavy: []" in second.stdout and "migrated" not in second.stderr


def test_every_option_says_what_it_does_and_its_default() -> None:
    help_text = subprocess.run([SWITCHBOARD, "serve", "--help"], capture_output=True, text=True, timeout=60).stdout
    for option, default in (("--host", "127.0.0.1"), ("--port", "8080"), ("--workers", "1")):
        line = " ".join(help_text.split(option, 2)[-1].split())  # the option's help, wrapped lines joined
        assert line.split("(default:")[0].strip(" " + option.upper().lstrip("-")), f"{option} has no help"
        assert f"(default: {default})" in line


def test_serve_refuses_several_workers_without_redis(tmp_path: Path) -> None:
    refused = run(tmp_path, "serve", "--workers", "2", "--port", "0")
    assert refused.returncode == 2 and "--workers 2 needs redis_url" in refused.stderr
