"""Settings for an app under test: one scripted upstream as its provider, an admin, fast flushes."""

from pathlib import Path
from typing import Any

from switchboard.config.settings import AdminSettings, ProviderSettings, Settings, StreamingSettings
from tests.support.upstream import ScriptedUpstream

MODEL = "gpt-test"
ADMIN = AdminSettings(username="admin", password="admin-password")


def app_settings(
    data_dir: Path, upstream: ScriptedUpstream, *, models: list[str] | None = None, max_retries: int = 0,
    **overrides: Any,
) -> Settings:
    """`overrides` are Settings fields; they win over everything here."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "providers": [ProviderSettings(name="up", base_url=upstream.base_url, models=models or [MODEL],
                                       max_retries=max_retries)],
        "default_model": MODEL,
        "admin": ADMIN,
        "streaming": StreamingSettings(flush_seconds=0.05, heartbeat_seconds=15),
        **overrides,
    }
    return Settings(**values)
