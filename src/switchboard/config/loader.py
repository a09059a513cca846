"""Find and read the YAML config; fall back to OPENAI_API_KEY / OPENAI_BASE_URL when no provider is set."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from switchboard.config.settings import ProviderSettings, Settings


class ConfigError(Exception):
    pass


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    path = path or os.environ.get("SWITCHBOARD_CONFIG")
    data: dict[str, Any] = {}
    if path:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must hold a mapping at the top level")
        data.update(loaded)
    data.update(overrides)
    settings = Settings(**data)
    if not settings.providers and os.environ.get("OPENAI_API_KEY"):
        base_url = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1")
        settings.providers = [ProviderSettings(name="openai", base_url=base_url, api_key=os.environ["OPENAI_API_KEY"])]
    return settings
