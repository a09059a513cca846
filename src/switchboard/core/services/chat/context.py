"""History -> the messages a provider sees (OpenAI wire shape, the lingua franca of providers).

Two halves, so a turn that inlines no stored file can build its messages without awaiting
anything (inside its one storage step): `inline_files` fetches what the messages carry inline,
`build_messages` is pure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from switchboard.core.domain.conversations import Message, MessageStatus, Part
from switchboard.core.domain.errors import NotFound

# resolves a stored image to something a vision model can fetch (a data URI)
ImageResolver = Callable[[str], Awaitable[str]]
# a stored file's text, for files a model can read as text (None: not one of those)
TextResolver = Callable[[str], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class Inlined:
    """Stored files by id, as the provider gets them; None: gone since (or not readable as text)."""

    images: Mapping[str, str | None] = field(default_factory=dict)
    texts: Mapping[str, str | None] = field(default_factory=dict)


NO_FILES = Inlined()


async def _no_text(file_id: str) -> str | None:
    return None


async def provider_messages(
    system_prompt: str | None, history: list[Message], resolve_image: ImageResolver,
    resolve_text: TextResolver = _no_text,
) -> list[dict[str, Any]]:
    return build_messages(system_prompt, history, await inline_files(history, resolve_image, resolve_text))


def files_to_inline(history: list[Message]) -> list[Part]:
    """The parts whose stored file goes to the provider inline: an image as a data URI, a file as
    its text. Empty: `build_messages(..., NO_FILES)` is the whole payload."""
    return inlined_parts(part for message in _spoken(history) for part in message.parts)


def inlined_parts(parts: Iterable[Part]) -> list[Part]:
    return [part for part in parts if part.file_id and part.type in ("image", "file")]


async def inline_files(history: list[Message], resolve_image: ImageResolver, resolve_text: TextResolver) -> Inlined:
    images: dict[str, str | None] = {}
    texts: dict[str, str | None] = {}
    for part in files_to_inline(history):
        assert part.file_id is not None  # files_to_inline keeps only parts with one
        if part.type == "image":
            images[part.file_id] = await _or_none(resolve_image, part.file_id)
        else:
            texts[part.file_id] = await _or_none(resolve_text, part.file_id)
    return Inlined(images, texts)


def build_messages(system_prompt: str | None, history: list[Message], inlined: Inlined) -> list[dict[str, Any]]:
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
        out.append({"role": message.role, "content": _content(message.parts, inlined)})
    return out


def _spoken(history: list[Message]) -> Iterator[Message]:
    """The messages whose own parts become content (the user's, the system's)."""
    for message in history:
        if not (message.is_deleted or message.status is MessageStatus.FAILED or message.role in ("tool", "assistant")):
            yield message


def _answered_tool_calls(history: list[Message]) -> set[str]:
    """Tool calls that have a stored result: a call without one (an interrupted turn) would be
    rejected by providers, so both sides of an unfinished pair are left out."""
    return {m.tool_call_id for m in history if m.role == "tool" and m.tool_call_id and not m.is_deleted}


def _content(parts: list[Part], inlined: Inlined) -> str | list[dict[str, Any]]:
    if all(p.type == "text" for p in parts):
        return "".join(p.text or "" for p in parts)
    content: list[dict[str, Any]] = []
    for part in parts:
        if part.type == "text" and part.text:
            content.append({"type": "text", "text": part.text})
        elif part.type == "image":
            url = inlined.images.get(part.file_id) if part.file_id else part.url
            if url:
                content.append({"type": "image_url", "image_url": {"url": url}})
        elif part.name or part.file_id:
            # a text file is given as its text; other files are named so the model knows they exist
            # (tools can read them by id)
            label = f"[attached {part.type}: {part.name or ''} id={part.file_id}]"
            text = inlined.texts.get(part.file_id) if part.type == "file" and part.file_id else None
            content.append({"type": "text", "text": f"{label}\n{text}" if text is not None else label})
    return content


async def _or_none(resolve: Callable[[str], Awaitable[str | None]], file_id: str) -> str | None:
    try:
        return await resolve(file_id)
    except NotFound:  # deleted since: the model gets the part without it
        return None
