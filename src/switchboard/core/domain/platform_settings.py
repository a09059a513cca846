"""`platforms:` — the IM platforms Switchboard is a bot on, one entry each, told apart by `type`.
The same entries come from the config file and from the admin API (/api/admin/platforms).

    platforms:
      - id: qq                 # the platform id in AstrBot umo strings: qq:GroupMessage:<group>
        type: onebot11
        mode: reverse          # the implementation dials /onebot/v11/ws; forward: Switchboard dials `url`
        access_token: "…"      # checked on reverse connections, sent on forward ones
      - id: tg
        type: telegram
        token: "123:ABC…"
        api_base: https://api.telegram.org
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator


class _Platform(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_\-]{1,40}$")
    enabled: bool = True
    allow_new_users: bool = True  # a new IM user gets an account with default_token_allowance; else refused
    # groups: answer an @-mention, a reply to the bot's own message, or text starting with a wake word
    wake_words: list[str] = Field(default_factory=list)
    answer_mentions: bool = True
    answer_replies: bool = True
    allow_groups: list[str] | None = None  # None: every group not denied
    deny_groups: list[str] = Field(default_factory=list)
    # a group's conversation: "group" — each member has their own conversation per group; "user" —
    # a member's groups and private chat share one conversation
    group_conversation: Literal["group", "user"] = "group"
    messages_per_minute: int | None = Field(default=20, ge=1)  # per sender; more are dropped
    max_input_chars: int = Field(default=8000, ge=1)  # a longer message is refused with a reply
    max_message_chars: int = Field(default=3000, ge=50)  # a longer answer is split
    reconnect_initial_seconds: float = Field(default=1.0, gt=0)
    reconnect_max_seconds: float = Field(default=60.0, gt=0)


class OneBot11Platform(_Platform):
    type: Literal["onebot11"]
    mode: Literal["reverse", "forward"] = "reverse"
    url: str | None = None  # forward mode: ws://host:port of the implementation
    access_token: str | None = None
    action_timeout_seconds: float = Field(default=30.0, gt=0)
    # answers longer than this many messages go out as one forward message (groups only)
    forward_after_messages: int = Field(default=3, ge=1)
    accept_friend_requests: bool = False  # approve every friend request (set_friend_add_request)

    @model_validator(mode="after")
    def _forward_needs_url(self) -> OneBot11Platform:
        if self.mode == "forward" and not self.url:
            raise ValueError(f"platform {self.id!r}: forward mode needs url: ws://…")
        return self


class TelegramPlatform(_Platform):
    type: Literal["telegram"]
    token: str = Field(min_length=1)  # from @BotFather
    api_base: str = Field(default="https://api.telegram.org", pattern=r"^https?://")  # a test points it at 127.0.0.1
    poll_timeout_seconds: int = Field(default=30, ge=0, le=50)  # how long one getUpdates long poll is held
    edit_interval_seconds: float = Field(default=1.0, ge=0)  # a growing answer is edited at most this often
    markdown: bool = True  # answers as formatted text (HTML parse mode); plain text when Telegram refuses it
    max_message_chars: int = Field(default=4096, ge=50, le=4096)  # Telegram's limit for one message


PlatformSettings = Annotated[OneBot11Platform | TelegramPlatform, Field(discriminator="type")]

PLATFORM_SETTINGS: TypeAdapter[PlatformSettings] = TypeAdapter(PlatformSettings)

SECRETS = ("access_token", "token")
MASK = "***"  # a secret as administrators see it; sent back in an edit, it keeps the saved secret


def masked(p: OneBot11Platform | TelegramPlatform) -> dict[str, object]:
    """The platform's settings as administrators see them: secrets only say whether they are set."""
    return {k: (MASK if v else v) if k in SECRETS else v for k, v in p.model_dump(mode="json").items()}
