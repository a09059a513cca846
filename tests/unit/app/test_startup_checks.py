"""Risky settings are said at start; several workers without Redis are refused."""

from __future__ import annotations

from pathlib import Path

from switchboard.app.startup_checks import risks, workers_problem
from switchboard.config.face_settings import ChatgptProxySettings
from switchboard.config.settings import AdminSettings, Settings, ToolSettings


def test_the_safe_settings_say_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, registration="closed", redis_url="redis://127.0.0.1:6379/0")
    assert risks(settings) == [] and workers_problem(settings, 4) is None


def test_each_risk_is_said(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, admin=AdminSettings(password="change-me-now"),
                        chatgpt_proxy=ChatgptProxySettings(allow_anonymous=True),
                        tools=ToolSettings(allow_private_network=True, code_users="*"),
                        redis_url="redis://127.0.0.1:6379/0",
                        platforms=[{"id": "tg", "type": "telegram", "token": "1:A"}])
    said = " | ".join(risks(settings, workers=2))
    for words in ("registration is open and new users get unlimited tokens", "README's example",
                  "allow_anonymous is on", "allow_private_network is on", 'tools.code_users is "*"',
                  "2 workers share one SQLite file"):
        assert words in said
    assert "IM platforms" not in said  # each bot's connection runs in one worker (its lease): nothing to warn of


def test_several_workers_need_redis(tmp_path: Path) -> None:
    problem = workers_problem(Settings(data_dir=tmp_path), 2)
    assert problem is not None and "redis_url" in problem
    assert workers_problem(Settings(data_dir=tmp_path), 1) is None
