"""A message from an IM platform, in terms every platform shares, and what goes back."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ChatKind = Literal["private", "group"]


@dataclass(frozen=True, slots=True)
class Incoming:
    platform_id: str  # the configured id ("qq"), as in AstrBot's umo strings
    bot_id: str  # which bot account received it (OneBot's self_id)
    chat: ChatKind
    chat_id: str  # the group's id, or the sender's in a private chat
    sender_id: str
    text: str  # the plain text, @-mentions and quotes removed
    message_id: str = ""
    sender_name: str | None = None
    mentions_bot: bool = False
    replies_to_bot: bool = False
    images: tuple[str, ...] = ()  # where each image is: an http(s) URL, base64://…, data:…


@dataclass(slots=True)
class Image:
    """Media made for an answer: a picture, or a video or speech as `mime` says."""

    data: bytes
    mime: str = "image/png"


@dataclass(slots=True)
class Reply:
    """An answer, whole: its text (split by the platform's sender) and the images it made."""

    text: str = ""
    images: list[Image] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Target:
    """Where a proactive message goes: AstrBot's `<platform>:FriendMessage:<user>` / `GroupMessage:<group>`."""

    chat: ChatKind
    chat_id: str
