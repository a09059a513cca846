"""History -> the messages a provider sees (OpenAI wire shape, the lingua franca of providers)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from switchboard.core.domain.conversations import Message, MessageStatus, Part
from switchboard.core.domain.errors import NotFound

# resolves a stored image to something a vision model can fetch (a data URI)
ImageResolver = Callable[[str], Awaitable[str]]
# a stored file's text, for files a model can read as text (None: not one of those)
TextResolver = Callable[[str], Awaitable[str | None]]


async def _no_text(file_id: str) -> str | None:
    return None


async def provider_messages(
    system_prompt: str | None, history: list[Message], resolve_image: ImageResolver,
    resolve_text: TextResolver = _no_text,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if system_prompt:
        out.append({"role": "system", "content": system_prompt})
    answered = _answered_tool_calls(history)
    for message in history:
        if message.is_deleted or message.status is MessageStatus.FAILED:
            continue
        if message.role == "tool":
            if message.tool_call_id in answered:
                out.append({"role": "tool", "tool_call_id": message.tool_call_id, "content": message.text})
            continue
        if message.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": message.text or None}
            calls = [c for c in message.tool_calls if c.id in answered]
            if calls:
                entry["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments or "{}"}}
                    for c in calls
                ]
            elif not message.text:
                continue  # an empty answer (interrupted before any word) tells the model nothing
            out.append(entry)
            continue
        out.append({"role": message.role, "content": await _content(message.parts, resolve_image, resolve_text)})
    return out


def _answered_tool_calls(history: list[Message]) -> set[str]:
    """Tool calls that have a stored result: a call without one (an interrupted turn) would be
    rejected by providers, so both sides of an unfinished pair are left out."""
    return {m.tool_call_id for m in history if m.role == "tool" and m.tool_call_id and not m.is_deleted}


async def _content(
    parts: list[Part], resolve_image: ImageResolver, resolve_text: TextResolver
) -> str | list[dict[str, Any]]:
    if all(p.type == "text" for p in parts):
        return "".join(p.text or "" for p in parts)
    content: list[dict[str, Any]] = []
    for part in parts:
        if part.type == "text" and part.text:
            content.append({"type": "text", "text": part.text})
        elif part.type == "image":
            url = part.url
            if part.file_id:
                try:
                    url = await resolve_image(part.file_id)
                except NotFound:
                    url = None
            if url:
                content.append({"type": "image_url", "image_url": {"url": url}})
        elif part.name or part.file_id:
            # a text file is given as its text; other files are named so the model knows they exist
            # (tools can read them by id)
            label = f"[attached {part.type}: {part.name or ''} id={part.file_id}]"
            text = await _file_text(part.file_id, resolve_text) if part.type == "file" else None
            content.append({"type": "text", "text": f"{label}\n{text}" if text is not None else label})
    return content


async def _file_text(file_id: str | None, resolve_text: TextResolver) -> str | None:
    if not file_id:
        return None
    try:
        return await resolve_text(file_id)
    except NotFound:  # deleted since: the name is all there is
        return None
