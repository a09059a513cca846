"""Where the token signing secret comes from: the config, the data directory (SQLite) or the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from switchboard.app.accounts_wiring import configured_secret
from switchboard.config.settings import Settings

KEY = "k" * 40


def test_the_configured_secret_wins_on_any_database(tmp_path: Path) -> None:
    for url in (None, "postgresql://db/switchboard"):
        settings = Settings(data_dir=tmp_path, database_url=url, secret_key=KEY)
        assert configured_secret(settings) == KEY
    assert not (tmp_path / "secret.key").exists()


def test_sqlite_keeps_it_in_the_data_directory(tmp_path: Path) -> None:
    first = configured_secret(Settings(data_dir=tmp_path))
    assert first and (tmp_path / "secret.key").read_text() == first
    assert configured_secret(Settings(data_dir=tmp_path)) == first  # survives a restart


def test_postgresql_leaves_it_to_the_database(tmp_path: Path) -> None:
    assert configured_secret(Settings(data_dir=tmp_path, database_url="postgresql://db/switchboard")) is None
    assert not (tmp_path / "secret.key").exists()


def test_the_environment_sets_it_and_it_never_prints(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_SECRET_KEY", KEY)
    settings = Settings(data_dir=tmp_path)
    assert configured_secret(settings) == KEY
    assert KEY not in repr(settings) and KEY not in str(settings.model_dump())


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(data_dir=tmp_path, secret_key="too-short")
