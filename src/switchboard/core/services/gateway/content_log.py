"""Content logging for the gateway (off by default: gateway mode stores usage only).

With `gateway.log_content` on, each call becomes a conversation with origin "gateway": the
request's messages as sent, and the answer's text, so an administrator can audit what went
through. Built here without I/O; the usage settler writes it with the call's settlement.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from switchboard.core.domain.conversations import (
    Conversation,
    ConversationSettings,
    Message,
    MessageStatus,
    text_parts,
)
from switchboard.core.domain.ids import new_id
from switchboard.core.domain.users import Principal
from switchboard.core.services.gateway.usage import Exchange

_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool"}


def exchange_of(principal: Principal, model: str, body: dict[str, Any], answer: str, at: datetime) -> Exchange:
    conversation_id = new_id("conv")
    sent = _request_texts(body)
    first_user = next((text for role, text in sent if role == "user"), "") or "gateway call"
    conversation = Conversation(
        id=conversation_id, user_id=principal.user_id, title=" ".join(first_user.split())[:60],
        settings=ConversationSettings(model=model), created_at=at, updated_at=at, origin="gateway",
        external_key=principal.key_id,
    )
    messages = [
        Message(id=0, conversation_id=conversation_id, role=role, parts=text_parts(text),  # type: ignore[arg-type]
                status=MessageStatus.COMPLETED, created_at=at, updated_at=at)
        for role, text in sent
    ]
    messages.append(Message(id=0, conversation_id=conversation_id, role="assistant", parts=text_parts(answer),
                            status=MessageStatus.COMPLETED, created_at=at, updated_at=at, model=model))
    return Exchange(conversation, messages)


def _request_texts(body: dict[str, Any]) -> list[tuple[str, str]]:
    messages = body.get("messages")
    if isinstance(messages, list):
        out = []
        for message in messages:
            if not isinstance(message, dict):
                continue
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
            out.append((_ROLES.get(str(message.get("role")), "user"), str(content or "")))
        return out
    for name in ("prompt", "input"):
        value = body.get(name)
        if isinstance(value, str):
            return [("user", value)]
        if isinstance(value, list):
            return [("user", "\n".join(str(v) for v in value))]
    return []
