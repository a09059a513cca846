"""Mio-Chat wire <-> core, pure functions: segments and parts, client histories, model lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from switchboard.core.domain.chat import ModelInfo, PriorTurn
from switchboard.core.domain.conversations import Part
from switchboard.core.domain.errors import InvalidInput
from switchboard.faces.miochat.schemas import ChatMessageIn, ContentPart, Segment
from switchboard.faces.miochat.uploads import uploaded_file

MAX_TEXT = 200_000


def group_models(models: Sequence[ModelInfo]) -> list[dict[str, Any]]:
    """Mio-Chat lists models grouped by owner: `[{"owner": "openai", "models": ["gpt-4o", ...]}]`."""
    groups: dict[str, list[str]] = {}
    for model in models:
        groups.setdefault(model.owned_by or model.provider, []).append(model.id)
    return [{"owner": owner, "models": ids} for owner, ids in groups.items()]


def image_source(segment: Segment) -> str | None:
    """An image segment's address, wherever the client put it (Mio-Chat `image`, OneBot `file`/`url`)."""
    for key in ("image", "file", "url"):
        value = segment.data.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def is_data_uri(value: str) -> bool:
    return value.startswith("data:") and ";base64," in value[:200]


def segment_parts(segments: Sequence[Segment]) -> list[Part]:
    """Text and image segments -> parts. Images stay as their URL here (the face stores data URIs
    as files before the turn); other segment kinds (face, at, record ...) are named in text."""
    parts: list[Part] = []
    for segment in segments:
        if segment.type == "text":
            text = segment.data.get("text")
            if isinstance(text, str) and text:
                parts.append(Part(type="text", text=text))
        elif segment.type == "image":
            source = image_source(segment)
            if source is None:
                raise InvalidInput("an image segment needs data.image (a URL or a data URI)", param="message")
            if not is_data_uri(source) and not source.startswith(("http://", "https://")) and (
                    uploaded_file(source) is None):
                raise InvalidInput("an image must be an http(s) URL or a data URI", param="message")
            parts.append(Part(type="image", url=source))
        else:
            parts.append(Part(type="text", text=f"[{segment.type}]"))
    return parts


def part_segments(parts: Sequence[Part], image_urls: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Parts -> OneBot segments; an image carries its address as both `image` (Mio-Chat) and `file` (OneBot)."""
    segments: list[dict[str, Any]] = []
    for part in parts:
        if part.type == "text" and part.text:
            segments.append({"type": "text", "data": {"text": part.text}})
        elif part.type == "image":
            url = part.url or (image_urls or {}).get(part.file_id or "")
            if url:
                segments.append({"type": "image", "data": {"image": url, "file": url}})
        elif part.file_id or part.url:
            named = part.name or part.file_id or part.url
            segments.append({"type": "text", "data": {"text": f"[{part.type}: {named}]"}})
    return segments


def content_parts(content: str | list[ContentPart] | None) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [Part(type="text", text=content)] if content else []
    parts: list[Part] = []
    for item in content:
        if item.type == "text" and item.text:
            parts.append(Part(type="text", text=item.text))
        elif item.type == "image_url" and item.image_url:
            url = item.image_url if isinstance(item.image_url, str) else item.image_url.get("url")
            if isinstance(url, str) and url:
                parts.append(Part(type="image", url=url))
    return parts


def split_history(messages: Sequence[ChatMessageIn]) -> tuple[list[PriorTurn], list[Part]]:
    """The client's whole history -> (what came before, the question). The question is the last
    user message; anything after it (a half-written assistant turn) is left out. Tool messages of
    the client's own earlier turns are dropped: their calls are not in the history we were sent."""
    last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
    if last_user is None:
        raise InvalidInput("messages must contain a user message", param="messages")
    prior = [
        PriorTurn(role=m.role, parts=content_parts(m.content))
        for m in messages[:last_user] if m.role != "tool" and m.content
    ]
    question = content_parts(messages[last_user].content)
    if sum(len(p.text or "") for p in question) > MAX_TEXT:
        raise InvalidInput("the message is too long", param="messages")
    return [p for p in prior if p.parts], question
