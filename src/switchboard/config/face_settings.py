"""The settings sections of the compatibility faces that have their own: the ChatGPT proxy, Mio-Chat and
MuseBot (what trusted callers without credentials may do, legacy names, client-facing details)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, field_validator

from switchboard.config.section import Section


class ChatgptProxySettings(Section):
    """The 2023 ChatGPT-proxy face (/openai/*, /send)."""

    # legacy model names old front-ends send -> the chat model that answers them ("" = the default model)
    legacy_models: dict[str, str] = Field(default_factory=lambda: dict.fromkeys((
        "text-davinci-003", "text-davinci-002", "text-curie-001", "text-babbage-001", "text-ada-001",
        "davinci", "text-davinci-edit-001", "code-davinci-edit-001",
    ), ""))
    # GET /openai/models `suggest`, per task ("chat", "completions", "edits", "audio.transcriptions",
    # "audio.translations", "finetunes", "embeddings", "moderations"); a task left out lists what
    # the providers offer
    suggest: dict[str, list[str]] = Field(default_factory=dict)
    # serve callers without credentials as one built-in guest user: only on a trusted network
    allow_anonymous: bool = False
    guest_username: str = "guest"
    image_model: str | None = None  # None: the `media` section's image model
    max_n: int = 10  # most choices or images one request may ask for


class TrustedCallerSettings(Section):
    """For a face whose real clients send no credentials: `trusted_key` (an API key) lets calls
    without any act as that key, from the `trusted_clients` addresses only (loopback unless set;
    ["0.0.0.0/0", "::/0"] is everyone). Off by default: without credentials, a refusal."""

    trusted_key: str | None = None
    trusted_clients: list[str] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])

    @field_validator("trusted_clients")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry.strip(), strict=False)  # a typo is an error at start-up
        return value


class MiochatSettings(TrustedCallerSettings):
    """The Mio-Chat face (WebSocket envelopes, /api/onebot|system|openai/*, /api/share, uploads).
    The web app's fetches (share, upload) carry no credentials: `trusted_key` is the opt-in for them."""

    # shared codes a Mio-Chat client may send as `mio-chat-token` instead of an API key (as Mio-Chat
    # does); a code logs in as the named user: `code_user` (made on first use), `admin_user` (an admin)
    user_code: str | None = None
    admin_code: str | None = None
    code_user: str = "miochat"
    admin_user: str = "admin"
    bot_qq: str = "10000"  # the id the web client shows for the bot
    admin_qq: str = ""
    login_timeout_seconds: float = 2.0  # a socket without login headers must send a login frame by then
    heartbeat_timeout_seconds: float = 90.0  # a socket silent this long is closed
    max_frame_bytes: int = 1024 * 1024
    # share links are relative (/s/<id>), as the Mar 2025 client joins them to its origin; set this
    # (https://chat.example.org) for clients from Dec 2025 on, which copy the link as given
    share_base_url: str | None = None
    title: str = "Mio-Chat"  # GET /api/base_info, shown by the Mio-Chat web client
    beian: str = ""
    full_screen: bool = False
    # a Mio-Chat web build (its `dist/` folder) to serve at `/` instead of Switchboard's own web app
    web_dist: Path | None = None


class MusebotSettings(TrustedCallerSettings):
    """The MuseBot face. MuseBot's own API has no credentials, and its admin console sends none:
    `trusted_key` (e.g. SWITCHBOARD_MUSEBOT='{"trusted_key": "sk-…"}') is the opt-in for it."""
