"""One stored conversation per Mio-Chat LLM contact, although `openai/completions` names none.

The web client sends the contact's whole history with every request (frontend src/lib/contactor.js
`webSend`: the messages from `firstMessageIndex` on) and no contact id. A contact's requests are
recognised by their beginning: the client id, the system prompts and the first user message make
the conversation's key (clearing the context in the client moves `firstMessageIndex`, which gives
a new beginning and so, rightly, a new conversation). A request continues the stored conversation
when the history it sends before its question says what is stored; then only the question and the
answer are stored, and the model sees the system prompts, the stored history and the question.
Otherwise (the client deleted or edited a message, or two contacts began alike) a new conversation
with the same key starts, and the client's history goes to the model as it was sent."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from switchboard.core.domain.chat import PriorTurn
from switchboard.core.domain.conversations import Conversation, Message
from switchboard.core.domain.users import Principal
from switchboard.core.services.bundle import Services
from switchboard.core.services.conversations.history import NewConversation

OPENAI_ORIGIN = "miochat-openai"
MAX_STORED = 1000


@dataclass(frozen=True, slots=True)
class Thread:
    conversation: Conversation
    prior: list[PriorTurn]  # what the model sees before the stored history
    created: bool


def thread_key(client_id: str, prior: Sequence[PriorTurn], question_text: str) -> str:
    systems = [_text(t) for t in prior if t.role == "system"]
    first_user = next((_text(t) for t in prior if t.role == "user"), question_text)
    digest = hashlib.sha256("\x1f".join([*systems, first_user]).encode()).hexdigest()[:24]
    return f"{client_id}:{digest}"


def _text(turn: PriorTurn) -> str:
    return "".join(p.text or "" for p in turn.parts if p.type == "text")


def _said(turns: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """(role, text) turns with consecutive turns of one role joined and whitespace ignored: the
    client splits one answer into a message per text piece around its tool calls."""
    out: list[tuple[str, str]] = []
    for role, text in turns:
        squeezed = "".join(text.split())
        if not squeezed:
            continue
        if out and out[-1][0] == role:
            out[-1] = (role, out[-1][1] + squeezed)
        else:
            out.append((role, squeezed))
    return out


def continues(stored: Sequence[Message], prior: Sequence[PriorTurn]) -> bool:
    kept = _said([(m.role, m.text) for m in stored if m.role in ("user", "assistant")])
    sent = _said([(t.role, _text(t)) for t in prior if t.role != "system"])
    return kept == sent


async def thread_for(services: Services, principal: Principal, client_id: str, prior: list[PriorTurn],
                     question_text: str) -> Thread:
    key = thread_key(client_id, prior, question_text)
    found = await services.conversations.find(principal, OPENAI_ORIGIN, key)
    if found is not None:
        stored = await services.conversations.messages(principal, found.id, MAX_STORED)
        if continues(stored, prior):
            return Thread(found, [t for t in prior if t.role == "system"], created=False)
    title = " ".join(question_text.split())[:60] or "Mio-Chat"
    conversation = await services.conversations.create(principal, NewConversation(
        title=title, origin=OPENAI_ORIGIN, external_key=key))
    return Thread(conversation, prior, created=True)
