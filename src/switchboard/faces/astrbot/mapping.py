"""Pure functions between AstrBot's wire shapes and the core's nouns."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from switchboard.core.domain.conversations import Conversation, Part
from switchboard.core.domain.errors import InvalidInput
from switchboard.core.domain.files import StoredFile
from switchboard.core.domain.platforms import ImBot, Profile
from switchboard.faces.astrbot.schemas import BotAccountOut, BotOut, ConfigOut, MessagePartBody, SessionOut, WireMessage

MEDIA_PARTS = ("image", "record", "file", "video")
MESSAGE_TYPES = ("GroupMessage", "FriendMessage", "OtherMessage")
# a stored file's kind (AstrBot's names) -> the core's part type
PART_TYPE = {"image": "image", "record": "audio", "video": "video", "file": "file"}
EMPTY_CHAT = "Message content is empty (reply only is not allowed)"


def utc_iso(moment: datetime) -> str:
    """`2026-03-24T02:23:11.482913+00:00`, as AstrBot writes its timestamps."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat()


def config_out(profile: Profile) -> dict[str, Any]:
    return ConfigOut(
        id=profile.id, name=profile.name, path=f"profiles/{profile.id}", is_default=profile.is_default,
    ).model_dump()


def session_out(conversation: Conversation) -> dict[str, Any]:
    username = conversation.meta.get("username")
    titled = conversation.title and not conversation.title.startswith("New conversation")
    return SessionOut(
        session_id=conversation.external_key or conversation.id, platform_id=conversation.origin,
        creator=str(username) if username is not None else "", display_name=conversation.title if titled else None,
        created_at=utc_iso(conversation.created_at), updated_at=utc_iso(conversation.updated_at),
    ).model_dump()


def parse_umo(umo: str) -> tuple[str, str, str]:
    """`<platform_id>:<GroupMessage|FriendMessage|OtherMessage>:<session_id>`, split on the first
    two colons (the session id may hold more); a webchat id `webchat!<user>!<session>` is unwrapped."""
    pieces = umo.split(":", 2)
    if len(pieces) != 3:
        raise InvalidInput(f"Invalid umo: expected 'platform:message_type:session_id', got '{umo[:100]}'")
    platform, message_type, session_id = pieces
    if message_type not in MESSAGE_TYPES:
        raise InvalidInput(f"Invalid umo: '{message_type[:50]}' is not a valid MessageType")
    if not platform or not session_id:
        raise InvalidInput("Invalid umo: platform and session id must not be empty")
    if session_id.startswith("webchat!") and session_id.count("!") >= 2:
        session_id = session_id.split("!", 2)[2]
    return platform, message_type, session_id


def attachment_ids(message: WireMessage | None) -> list[str]:
    if not isinstance(message, list):
        return []
    return [p.attachment_id for p in message if p.type in MEDIA_PARTS and p.attachment_id]


def core_parts(message: WireMessage | None, files: Mapping[str, StoredFile], *, empty: str = EMPTY_CHAT,
               lenient: bool = False) -> list[Part]:
    """An AstrBot message (text, or a chain of parts) -> core parts. `files` holds the caller's
    attachments named in the chain (looked up beforehand; absent = not found or not theirs).

    `lenient` is AstrBot's chat: a part it cannot use (an unknown type, an unknown or missing
    attachment id, a server `path`) is dropped and the rest is answered, failing only when nothing
    remains (the OpenAPI document's own example names an attachment no server has). Proactive
    messages (`im/message`) are strict, as AstrBot's are: every part must be usable."""
    if message is None:
        raise InvalidInput("Missing key: message")
    if isinstance(message, str):
        if not message.strip():
            raise InvalidInput(empty)
        return [Part(type="text", text=message)]
    parts: list[Part] = []
    for wire in message:
        try:
            part = _part(wire, files)
        except InvalidInput:
            if not lenient:
                raise
            continue
        if part is not None:
            parts.append(part)
    if not any(p.type != "text" or (p.text or "").strip() for p in parts if not _is_reply(p)):
        raise InvalidInput(empty)
    return parts


def _is_reply(part: Part) -> bool:
    return part.type == "text" and part.name == "reply"


def _part(wire: MessagePartBody, files: Mapping[str, StoredFile]) -> Part | None:
    kind = wire.type.strip()
    if kind == "plain":
        return Part(type="text", text=wire.text) if wire.text else None
    if kind == "reply":
        if wire.message_id is None:
            raise InvalidInput("reply part missing message_id")
        quoted = (wire.selected_text or "").strip()
        text = f"[replying to message {wire.message_id}" + (f': "{quoted}"]\n' if quoted else "]\n")
        return Part(type="text", text=text, name="reply")
    if kind not in MEDIA_PARTS:
        raise InvalidInput(f"unsupported message part type: {kind[:20]}")
    if wire.attachment_id:
        stored = files.get(wire.attachment_id)
        if stored is None:
            raise InvalidInput(f"attachment not found: {wire.attachment_id}")
        return Part(
            type=PART_TYPE.get(stored.kind, "file"),  # type: ignore[arg-type]
            file_id=stored.id, mime=stored.mime, name=(wire.filename or "").strip() or stored.name,
        )
    if wire.path:
        raise InvalidInput(f"{kind} part by server path is not supported here; upload it and send its attachment_id")
    raise InvalidInput(f"{kind} part missing attachment_id or path")


def bot_out(bot: ImBot) -> dict[str, Any]:
    return BotOut(id=bot.platform_id, type=bot.type, status=bot.status, running=bot.running, detail=bot.detail,
                  accounts=[BotAccountOut(id=k, online=v) for k, v in bot.accounts.items()]).model_dump()
