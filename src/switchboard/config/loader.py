"""Find and read the YAML config; fall back to OPENAI_API_KEY / OPENAI_BASE_URL when no provider is set.

Every mistake is a ConfigError that names the key, and for an unknown key the closest known one:
`unknown key 'registraton' (did you mean 'registration'?)`. The same holds for SWITCHBOARD_*
environment variables that match no key."""

from __future__ import annotations

import difflib
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from switchboard.config.settings import ProviderSettings, Settings

ENV_PREFIX = "SWITCHBOARD_"
# read by the scripts and the loader itself, not settings
NOT_SETTINGS = frozenset({"SWITCHBOARD_CONFIG"})


class ConfigError(Exception):
    pass


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    path = path or os.environ.get("SWITCHBOARD_CONFIG")
    check_environment(os.environ)
    data: dict[str, Any] = {}
    source = "settings"
    if path:
        source = str(path)
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must hold a mapping at the top level")
        data.update(loaded)
    data.update(overrides)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(describe(exc, source)) from None
    if not settings.providers and os.environ.get("OPENAI_API_KEY"):
        base_url = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1")
        settings.providers = [ProviderSettings(name="openai", base_url=base_url, api_key=os.environ["OPENAI_API_KEY"])]
    return settings


def check_environment(environ: Mapping[str, str]) -> None:
    known = {ENV_PREFIX + name.upper() for name in _names(Settings)}
    for variable in environ:
        upper = variable.upper()
        if upper.startswith(ENV_PREFIX) and upper not in known and upper not in NOT_SETTINGS:
            raise ConfigError(f"unknown environment variable {variable}{_closest(upper, known)}")


def describe(error: ValidationError, source: str) -> str:
    """One line per problem, in the words of the config file's keys."""
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"])
        if problem["type"] == "extra_forbidden":
            known = _names(_model_at(problem["loc"][:-1]))
            lines.append(f"unknown key '{where}'{_closest(str(problem['loc'][-1]), known)}")
        else:
            lines.append(f"'{where}': {problem['msg']}")
    return f"{source}: " + "; ".join(lines)


def _closest(name: str, known: set[str]) -> str:
    match = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def _names(model: type[BaseModel] | None) -> set[str]:
    if model is None:
        return set()
    return {name for key, field in model.model_fields.items() for name in (key, field.alias) if name}


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The settings model that the key at `loc` belongs to (list indexes and dict keys skipped)."""
    model: type[BaseModel] | None = Settings
    for part in loc:
        if model is None or isinstance(part, int):
            continue
        field = model.model_fields.get(part) or next(
            (f for f in model.model_fields.values() if f.alias == part), None)
        model = _model_in(field.annotation) if field is not None else None
    return model


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        return next((m for arg in typing.get_args(annotation) if (m := _model_in(arg))), None)
    return None
