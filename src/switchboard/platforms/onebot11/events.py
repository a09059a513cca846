"""OneBot 11 frames (wire) -> what the platform acts on: a message as `Incoming`, a bot's online
state from `meta_event`s, an action's response. Notices, group requests and unknown post types are
read and ignored; a malformed frame is None, never an exception."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from switchboard.platforms._shared.messages import Incoming
from switchboard.platforms.onebot11.segments import as_segments, read


class _Wire(BaseModel):
    # ids arrive as numbers from most implementations and as strings from some
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class SenderInfo(_Wire):
    nickname: str | None = None
    card: str | None = None


class MessageEvent(_Wire):
    post_type: Literal["message", "message_sent"]
    message_type: Literal["private", "group"]
    self_id: str
    user_id: str
    message_id: str = ""
    group_id: str | None = None
    message: Any = None  # a segment array or a CQ-code string
    raw_message: str | None = None
    sender: SenderInfo = Field(default_factory=SenderInfo)


class HeartbeatStatus(_Wire):
    online: bool | None = None
    good: bool | None = None


class MetaEvent(_Wire):
    post_type: Literal["meta_event"]
    meta_event_type: str
    self_id: str
    sub_type: str | None = None
    status: HeartbeatStatus | None = None

    @property
    def online(self) -> bool | None:
        """What this event says of the bot's login: lifecycle enable/connect or disable, heartbeats' status."""
        if self.meta_event_type == "lifecycle":
            return {"connect": True, "enable": True, "disable": False}.get(self.sub_type or "")
        if self.meta_event_type == "heartbeat" and self.status is not None:
            return self.status.online if self.status.online is not None else self.status.good
        return None


class FriendRequest(_Wire):
    post_type: Literal["request"]
    request_type: Literal["friend"]
    self_id: str
    user_id: str
    flag: str


class ActionResponse(_Wire):
    status: str
    retcode: int = 0
    data: Any = None
    echo: str
    message: str | None = None  # NapCat, Lagrange: why it failed
    wording: str | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "async") and self.retcode in (0, 1)


Frame = MessageEvent | MetaEvent | FriendRequest | ActionResponse | None


def parse_frame(text: str | bytes) -> Frame:
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(raw, dict):
        return None
    model: type[_Wire] | None = None
    if "echo" in raw and "status" in raw:
        model = ActionResponse
    elif raw.get("post_type") == "message":  # message_sent (the bot's own messages) are not answered
        model = MessageEvent
    elif raw.get("post_type") == "meta_event":
        model = MetaEvent
    elif raw.get("post_type") == "request" and raw.get("request_type") == "friend":
        model = FriendRequest
    if model is None:
        return None
    try:
        return model.model_validate(raw)  # type: ignore[return-value]
    except ValidationError:
        return None


def to_incoming(event: MessageEvent, platform_id: str, bot_sent: Callable[[str], bool]) -> Incoming | None:
    """The message as the shared code sees it; None for a group message without a group."""
    reading = read(as_segments(event.message if event.message is not None else event.raw_message or ""))
    if event.message_type == "group" and not event.group_id:
        return None
    return Incoming(
        platform_id=platform_id, bot_id=event.self_id, chat=event.message_type,
        chat_id=event.group_id if event.message_type == "group" and event.group_id else event.user_id,
        sender_id=event.user_id, text=reading.text, message_id=event.message_id,
        sender_name=event.sender.card or event.sender.nickname,
        mentions_bot=event.self_id in reading.mentions,
        replies_to_bot=reading.reply_to is not None and bot_sent(reading.reply_to),
        images=tuple(reading.images),
    )
