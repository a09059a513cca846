"""The base of every part of the settings (config/settings.py, config/face_settings.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A part of the settings. An unknown key is an error, never silently ignored: a typo such as
    `registraton: closed` must not leave registration open."""

    model_config = ConfigDict(extra="forbid")
