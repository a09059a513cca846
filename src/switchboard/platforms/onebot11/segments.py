"""OneBot 11 messages: a segment array (`[{"type": "text", "data": {"text": "hi"}}, ...]`) or the same
as a CQ-code string (`hi[CQ:at,qq=10000]`), both read into segments; segments read into what the
shared platform code needs (text, @bot, the quoted message, images) and written for answers."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

Segment = dict[str, Any]  # {"type": ..., "data": {...}} exactly as on the wire

_CQ = re.compile(r"\[CQ:([A-Za-z0-9_.\-]+)((?:,[^\]]*)?)\]")
_TEXT_ESCAPES = (("&#91;", "["), ("&#93;", "]"), ("&amp;", "&"))  # &amp; last: "&amp;#91;" is "&#91;"


def _unescape(text: str, *, param: bool = False) -> str:
    if param:
        text = text.replace("&#44;", ",")
    for escaped, plain in _TEXT_ESCAPES:
        text = text.replace(escaped, plain)
    return text


def parse_cq(message: str) -> list[Segment]:
    """A CQ-code string as segments: text between the codes, each code with its parameters."""
    segments: list[Segment] = []
    at = 0
    for match in _CQ.finditer(message):
        if match.start() > at:
            segments.append(text_segment(_unescape(message[at:match.start()])))
        data: dict[str, str] = {}
        for pair in match.group(2).split(",")[1:]:
            key, _, value = pair.partition("=")
            if key:
                data[key] = _unescape(value, param=True)
        segments.append({"type": match.group(1), "data": data})
        at = match.end()
    if at < len(message):
        segments.append(text_segment(_unescape(message[at:])))
    return segments


def as_segments(message: object) -> list[Segment]:
    """The `message` field of an event, whichever form it came in; anything else reads as nothing."""
    if isinstance(message, str):
        return parse_cq(message)
    if isinstance(message, dict):
        message = [message]
    if not isinstance(message, list):
        return []
    return [s for s in message if isinstance(s, dict) and isinstance(s.get("type"), str)
            and isinstance(s.get("data", {}), dict)]


@dataclass(slots=True)
class Reading:
    text: str = ""
    mentions: list[str] = field(default_factory=list)  # the qq ids @-mentioned ("all" for @everyone)
    reply_to: str | None = None  # the id of the quoted message
    images: list[str] = field(default_factory=list)  # url, else file when it is inline or a URL


def read(segments: list[Segment]) -> Reading:
    reading = Reading()
    texts: list[str] = []
    for segment in segments:
        kind, data = segment["type"], segment.get("data") or {}
        if kind == "text":
            texts.append(str(data.get("text", "")))
        elif kind == "at" and data.get("qq") is not None:
            reading.mentions.append(str(data["qq"]))
        elif kind == "reply" and data.get("id") is not None:
            reading.reply_to = str(data["id"])
        elif kind == "image":
            source = str(data.get("url") or data.get("file") or "")
            if source.startswith(("http://", "https://", "base64://", "data:")):
                reading.images.append(source)
    reading.text = "".join(texts).strip()
    return reading


def text_segment(text: str) -> Segment:
    return {"type": "text", "data": {"text": text}}


def media_segment(data: bytes, mime: str = "image/png") -> Segment:
    """An image, a video or a voice message (OneBot's `record`), inline."""
    kind = {"video": "video", "audio": "record"}.get(mime.split("/")[0], "image")
    return {"type": kind, "data": {"file": "base64://" + base64.b64encode(data).decode()}}


def reply_segment(message_id: str) -> Segment:
    return {"type": "reply", "data": {"id": message_id}}


def at_segment(qq: str) -> Segment:
    return {"type": "at", "data": {"qq": qq}}
