"""Links between a Switchboard user and the ids other systems know them by (a QQ number, a
Telegram id, a MuseBot `user_id`, a Mio-Chat client id ...), and the faces' saved profiles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class PlatformIdentity:
    platform: str  # "musebot" | "miochat" | "qq" | "telegram" | ...
    external_id: str
    user_id: int
    created_at: datetime
    display_name: str | None = None
    # which user's key created the link; for identities scoped under a key owner (AstrBot usernames)
    owner_id: int | None = None
    settings: dict[str, object] = field(default_factory=dict)  # e.g. MuseBot `mode` (the chosen model)


@dataclass(slots=True)
class Profile:
    """A named bundle of chat settings (AstrBot's config files): model, persona, temperature, tools."""

    id: str
    name: str
    created_at: datetime
    updated_at: datetime
    model: str | None = None
    system_prompt: str | None = None
    temperature: float | None = None
    tools_enabled: bool = True
    allowed_tools: list[str] | None = None
    is_default: bool = False


@dataclass(slots=True)
class Share:
    """A read-only link to what a user shared. `id` is the unguessable token in the URL;
    `snapshot` what was shared, as it was then; `conversation_id` the stored conversation it was
    made from, if any (deleting that conversation deletes the share)."""

    id: str
    user_id: int
    conversation_id: str | None
    created_at: datetime
    revoked_at: datetime | None = None
    title: str | None = None
    snapshot: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ImBot:
    """A configured IM platform (QQ through OneBot, Telegram) as its connection reports it."""

    platform_id: str  # the configured id, as in AstrBot umo strings ("qq")
    type: str  # "onebot11" | "telegram"
    status: str  # "starting" | "connected" | "waiting" | "retrying" | "stopped"
    detail: str | None = None  # what went wrong last
    accounts: dict[str, bool] = field(default_factory=dict)  # bot account id -> online
    settings: dict[str, object] = field(default_factory=dict)  # its configuration, secrets masked

    @property
    def running(self) -> bool:
        return self.status == "connected" and any(self.accounts.values())
