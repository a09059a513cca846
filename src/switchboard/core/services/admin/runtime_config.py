"""Settings an administrator changes while the server runs (MuseBot's /conf/*), in MuseBot's sections.

    config.current.llm.temperature                     # services read the live values on every use
    await config.update(admin, "llm", "temperature", 0.3)   # validated, saved, applied at once
    await config.update_many(admin, {"temperature": 0.3, "registration": "closed"})  # by key alone

The config file gives the defaults; changes are kept in the settings table under `runtime` as
`{section: {key: value}}` and applied again at every start. A wrong type or an unknown key is an
InvalidInput and nothing changes. Parts outside the services (media defaults, the tool loop's rounds,
registration) follow through listeners the composition root registers.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from switchboard.core.domain.errors import InvalidInput
from switchboard.core.domain.users import Principal
from switchboard.core.ports.push import ChangeAnnouncer
from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.services.accounts.auth import AccountService
from switchboard.core.services.accounts.guards import require_admin
from switchboard.core.services.accounts.identities import IdentityService
from switchboard.core.services.media.generation import MediaService
from switchboard.core.services.tools.runner import ToolRunner

log = logging.getLogger(__name__)

RUNTIME_SETTINGS_KEY = "runtime"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class BaseSection(_Section):
    default_model: str | None = Field(default=None, max_length=200)  # every chat without a chosen model
    registration: Literal["open", "closed"] = "open"
    default_token_allowance: int = Field(default=0, ge=0)  # new users (sign-ups, bot users); 0 = unlimited


class LlmSection(_Section):
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    tool_rounds: int = Field(default=8, ge=0, le=100)  # tool-call rounds of one answer
    planner_model: str | None = Field(default=None, max_length=200)  # /task and /mcp; None = the chat model
    max_task_steps: int = Field(default=5, ge=1, le=20)


class AudioSection(_Section):
    transcription_model: str = Field(default="whisper-1", min_length=1, max_length=200)


class PhotoSection(_Section):
    image_model: str = Field(default="gpt-image-1", min_length=1, max_length=200)
    image_edit_model: str = Field(default="gpt-image-1", min_length=1, max_length=200)
    image_size: str | None = Field(default=None, max_length=20)


class VideoSection(_Section):
    video_model: str = Field(default="sora-2", max_length=200)  # "" = no video generation
    video_poll_seconds: float = Field(default=5.0, gt=0, le=600)
    video_seconds: int | None = Field(default=None, ge=1, le=600)
    video_size: str | None = Field(default=None, max_length=20)
    video_max_wait_seconds: float = Field(default=900.0, gt=0, le=7200)


class RagSection(_Section):
    """Shown for MuseBot's admin page; Switchboard has no retrieval store, so it cannot be changed."""

    rag_enabled: bool = False


class RuntimeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base: BaseSection = Field(default_factory=BaseSection)
    audio: AudioSection = Field(default_factory=AudioSection)
    llm: LlmSection = Field(default_factory=LlmSection)
    photo: PhotoSection = Field(default_factory=PhotoSection)
    rag: RagSection = Field(default_factory=RagSection)
    video: VideoSection = Field(default_factory=VideoSection)


SECTIONS = tuple(RuntimeConfig.model_fields)
READ_ONLY = frozenset({"rag"})
# the settings an administrator may change, by key alone (keys are unique across sections, as
# MuseBot's command-line flags are): the native API's flat view
SECTION_OF_KEY = {key: section for section, values in RuntimeConfig().model_dump().items()
                  if section not in READ_ONLY for key in values}
Listener = Callable[[RuntimeConfig], None]


class RuntimeConfigService:
    def __init__(self, uow: UnitOfWork, defaults: RuntimeConfig, listeners: list[Listener] | None = None) -> None:
        self._uow = uow
        self.defaults = defaults
        self._current = defaults
        self._listeners = list(listeners or [])
        self._lock = asyncio.Lock()
        self.announcer: ChangeAnnouncer | None = None  # other workers load() again when told

    @property
    def current(self) -> RuntimeConfig:
        return self._current

    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)
        listener(self._current)

    async def load(self) -> None:
        """Applies the saved changes on top of the defaults; a saved value that no longer fits is
        logged and left out."""
        async with self._uow() as tx:
            saved = await tx.settings.get(RUNTIME_SETTINGS_KEY)
        config = self.defaults
        for section, values in (saved or {}).items() if isinstance(saved, dict) else ():
            for key, value in (values or {}).items() if isinstance(values, dict) else ():
                try:
                    config = _with(config, section, key, value)
                except InvalidInput as exc:
                    log.warning("saved runtime setting %s.%s ignored: %s", section, key, exc.message)
        self._apply(config)

    def sections(self, principal: Principal) -> dict[str, dict[str, Any]]:
        require_admin(principal)
        return self._current.model_dump(mode="json")

    def changeable(self, principal: Principal) -> dict[str, Any]:
        """The settings `update_many` changes, by key, with their current values."""
        require_admin(principal)
        return _changeable(self._current)

    async def update(self, principal: Principal, section: str, key: str, value: Any) -> RuntimeConfig:
        require_admin(principal)
        if section in READ_ONLY:
            raise InvalidInput(f"the '{section}' settings are read-only: Switchboard has no retrieval store",
                               param="type")
        async with self._lock:
            config = _with(self._current, section, key, value)
            await self._save(config, [(section, key)])
        return config

    async def update_many(self, principal: Principal, values: Mapping[str, Any]) -> dict[str, Any]:
        """Several settings by key alone, all or none: one unknown key or bad value changes nothing."""
        require_admin(principal)
        async with self._lock:
            config, changed = self._current, []
            for key, value in values.items():
                section = SECTION_OF_KEY.get(key)
                if section is None:
                    raise InvalidInput(f"unknown setting '{key}'; known: {', '.join(SECTION_OF_KEY)}", param=key)
                config = _with(config, section, key, value)
                changed.append((section, key))
            if changed:
                await self._save(config, changed)
        return _changeable(config)

    def changed_flags(self, principal: Principal) -> list[tuple[str, str]]:
        """The values that differ from the defaults (the config file), as MuseBot's command-line flags."""
        require_admin(principal)
        flags: list[tuple[str, str]] = []
        for section in SECTIONS:
            now = getattr(self._current, section).model_dump(mode="json")
            before = getattr(self.defaults, section).model_dump(mode="json")
            flags += [(key, _flag_text(value)) for key, value in now.items() if value != before[key]]
        return flags

    async def _save(self, config: RuntimeConfig, changed: list[tuple[str, str]]) -> None:
        """Keeps the changed values among the saved ones, then applies `config` (under the lock)."""
        async with self._uow() as tx:
            saved = await tx.settings.get(RUNTIME_SETTINGS_KEY)
            saved = dict(saved) if isinstance(saved, dict) else {}
            for section, key in changed:
                value = getattr(config, section).model_dump(mode="json")[key]
                saved[section] = {**(saved.get(section) or {}), key: value}
            await tx.settings.put(RUNTIME_SETTINGS_KEY, saved)
        self._apply(config)
        if self.announcer is not None:
            self.announcer.announce("runtime")

    def _apply(self, config: RuntimeConfig) -> None:
        self._current = config
        for listener in self._listeners:
            listener(config)


def _with(config: RuntimeConfig, section: str, key: str, value: Any) -> RuntimeConfig:
    if section not in SECTIONS:
        raise InvalidInput(f"unknown settings type '{section}'; use one of: {', '.join(SECTIONS)}", param="type")
    current: _Section = getattr(config, section)
    if key not in type(current).model_fields:
        known = ", ".join(type(current).model_fields)
        raise InvalidInput(f"unknown key '{key}' in '{section}'; known keys: {known}", param="key")
    try:
        changed = type(current).model_validate({**current.model_dump(), key: value})
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise InvalidInput(f"{section}.{key}: {problem.get('msg', 'invalid value')}", param="value") from exc
    return config.model_copy(update={section: changed})


def _changeable(config: RuntimeConfig) -> dict[str, Any]:
    sections = config.model_dump(mode="json")
    return {key: sections[section][key] for key, section in SECTION_OF_KEY.items()}


def _flag_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def live_applier(media: MediaService, tools: ToolRunner, accounts: AccountService,
                 identities: IdentityService | None = None) -> Listener:
    """Pushes the live values into the services that keep their own copies."""

    def apply(config: RuntimeConfig) -> None:
        media.defaults = dataclasses.replace(
            media.defaults, image_model=config.photo.image_model, image_edit_model=config.photo.image_edit_model,
            transcription_model=config.audio.transcription_model, video_model=config.video.video_model,
            video_poll_seconds=config.video.video_poll_seconds,
        )
        tools.policy = dataclasses.replace(tools.policy, max_rounds=config.llm.tool_rounds)
        accounts.policy = dataclasses.replace(
            accounts.policy, registration_open=config.base.registration == "open",
            default_token_allowance=config.base.default_token_allowance,
        )
        if identities is not None:  # MuseBot's token_per_user: what each new bot user may spend
            identities.default_token_allowance = config.base.default_token_allowance

    return apply
