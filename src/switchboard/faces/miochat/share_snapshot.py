"""What a Mio-Chat share holds: the contactor the browser posts (name, avatar, options and its
`messageChain`), stored as it is; and the reverse, a contactor made of a stored conversation.

A `messageChain` entry, as the web client keeps it (src/lib/contactor.js, src/lib/adapter/*.js):
`{"id", "role": "user" | "other" | "mio_system", "time": epoch ms, "content": [segment, ...]}`,
a segment `{"type": "text", "data": {"text": ...}}`, an image `{"type": "image", "data": {...}}`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from switchboard.core.domain.conversations import Message
from switchboard.core.domain.platforms import Share

MAX_CHAIN = 2000  # messages kept in one snapshot


@dataclass(frozen=True, slots=True)
class ChainLine:
    role: str  # "user" | "assistant"
    text: str


def chain_of(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Stored messages -> messageChain entries (text only; a bot's answer is role "other")."""
    return [
        {"id": str(m.id), "role": "user" if m.role == "user" else "other",
         "time": int(m.created_at.timestamp() * 1000), "content": [{"type": "text", "data": {"text": m.text}}]}
        for m in messages
    ]


def chain_lines(contactor: dict[str, Any]) -> list[ChainLine]:
    """The readable lines of a contactor's messageChain (text segments; system notes left out)."""
    chain = contactor.get("messageChain")
    lines: list[ChainLine] = []
    for entry in chain if isinstance(chain, list) else []:
        if not isinstance(entry, dict) or entry.get("role") in ("mio_system", "system"):
            continue
        content = entry.get("content")
        texts = [str(s["data"].get("text", "")) for s in content if isinstance(s, dict)
                 and s.get("type") == "text" and isinstance(s.get("data"), dict)] if isinstance(content, list) else []
        text = "".join(texts).strip()
        if text:
            lines.append(ChainLine("user" if entry.get("role") == "user" else "assistant", text))
    return lines


def trimmed(contactor: dict[str, Any]) -> dict[str, Any]:
    """The contactor to store: as posted, its chain cut to the last MAX_CHAIN messages."""
    chain = contactor.get("messageChain")
    if isinstance(chain, list) and len(chain) > MAX_CHAIN:
        return {**contactor, "messageChain": chain[-MAX_CHAIN:]}
    return contactor


def shared_contactor(share: Share, messages: Sequence[Message] = ()) -> dict[str, Any]:
    """What `GET /api/share?id=` hands out: the snapshot with the share's id as the contact's id
    (as the original backend did, so importing it never overwrites a contact the reader has)."""
    contactor = dict(share.snapshot) if share.snapshot is not None else {
        "name": share.title or "Mio-Chat", "platform": "openai", "messageChain": chain_of(messages)}
    contactor["id"] = share.id
    return contactor


def share_title(share: Share, contactor: dict[str, Any]) -> str:
    name = contactor.get("name")
    return share.title or (name if isinstance(name, str) and name else "Mio-Chat")
