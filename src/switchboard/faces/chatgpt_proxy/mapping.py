"""Pure functions between the proxy's wire DTOs and the core's nouns.

Completions and edits are served by chat models (the legacy models no longer exist upstream):
a completion prompt becomes the user's message as it is (the 2023 front-ends used completions as
one-shot questions); an edit becomes an instruction plus the text, under a system prompt that
asks for the edited text only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from switchboard.core.domain.chat import ChatRequest
from switchboard.core.domain.conversations import ConversationSettings, text_parts
from switchboard.core.domain.errors import InvalidInput
from switchboard.core.services.conversations.history import NewConversation
from switchboard.faces.chatgpt_proxy.schemas import ChatBody, EditsBody, SamplingBody

ORIGIN = "chatgpt_proxy"
EDIT_SYSTEM_PROMPT = (
    "You edit text. Apply the user's instruction to the user's text and reply with the edited text "
    "only: no introduction, no explanation, no quotes around it."
)
TASKS = ("chat", "completions", "edits", "audio.transcriptions", "audio.translations", "finetunes",
         "embeddings", "moderations")
# which provider models a task lists when config names none (by the names OpenAI gives them)
_HINTS = {"audio.transcriptions": "whisper", "audio.translations": "whisper", "embeddings": "embedding",
          "moderations": "moderation", "finetunes": "\0"}
# models that answer no chat: the tasks' above, and those that make images or speech
_NOT_CHAT = (*_HINTS.values(), "dall-e", "image", "tts")


def chat_model(requested: str | None, legacy_models: Mapping[str, str]) -> str | None:
    """The chat model that answers a request naming `requested`; None = the default model."""
    if requested is None or (requested in legacy_models and not legacy_models[requested]):
        return None
    return legacy_models.get(requested, requested)


def prompts(prompt: str | list[str]) -> list[str]:
    texts = [prompt] if isinstance(prompt, str) else list(prompt)
    if not texts or not any(t.strip() for t in texts):
        raise InvalidInput("prompt is empty", param="prompt")
    return texts


def check_n(n: int, copies: int, max_n: int) -> None:
    if n * copies > max_n:
        raise InvalidInput(f"n is too large: at most {max_n} results per request", param="n")


def completion_conversation(text: str, model: str | None) -> NewConversation:
    settings = ConversationSettings(model=model, tools_enabled=False)
    return NewConversation(title=_title("completions", text), settings=settings, origin=ORIGIN,
                           external_key="completions")


def edit_conversation(body: EditsBody, model: str | None) -> NewConversation:
    settings = ConversationSettings(model=model, system_prompt=EDIT_SYSTEM_PROMPT, tools_enabled=False)
    return NewConversation(title=_title("edits", body.instruction), settings=settings, origin=ORIGIN,
                           external_key="edits")


def edit_text(body: EditsBody) -> str:
    return f"Instruction: {body.instruction}\n\nText:\n{body.input}"


def chat_turn_text(body: ChatBody) -> str:
    """The new turn is the last user message; the server keeps the history before it."""
    for message in reversed(body.messages):
        if message.role == "user" and message.content.strip():
            return message.content
    raise InvalidInput("messages hold no user message to answer", param="messages")


def new_chat(body: ChatBody, model: str | None, key: str = "chat") -> NewConversation:
    """A conversation started by the proxy; `initMessage` (or a system message) is its persona."""
    persona = body.init_message.content if body.init_message else next(
        (m.content for m in body.messages if m.role == "system"), None
    )
    settings = ConversationSettings(model=model, system_prompt=persona or None)
    return NewConversation(title=_title("chat", chat_turn_text(body)), settings=settings, origin=ORIGIN,
                           external_key=key)


def new_send(text: str) -> NewConversation:
    return NewConversation(title=_title("send", text), origin=ORIGIN, external_key="send")


def chat_request(
    conversation_id: str, text: str, body: SamplingBody | None, model: str | None, *, streamed: bool,
) -> ChatRequest:
    """`streamed` False: a plain route, answered whole, so the model is asked for the whole answer."""
    if body is None:
        return ChatRequest(conversation_id=conversation_id, parts=text_parts(text), streamed=streamed)
    return ChatRequest(
        conversation_id=conversation_id, parts=text_parts(text), model=model, temperature=body.temperature,
        top_p=body.top_p, max_tokens=body.max_tokens or None,  # 0 asks for the model's default
        streamed=streamed,
    )


def suggest(configured: Mapping[str, list[str]], available: Sequence[str],
            legacy_models: Iterable[str]) -> dict[str, Any]:
    """`data.suggest`: configured lists win; otherwise chat models for chat, the legacy names plus
    chat models for completions and edits, and the providers' models by name for the rest."""
    legacy = list(legacy_models)
    chat = [m for m in available if not any(h in m for h in _NOT_CHAT)]
    defaults: dict[str, list[str]] = {
        "chat": chat,
        "completions": [m for m in legacy if "edit" not in m] + chat,
        "edits": [m for m in legacy if "edit" in m] + chat,
    }
    for task, hint in _HINTS.items():
        defaults[task] = [m for m in available if hint in m]
    flat = {task: list(configured.get(task, defaults[task])) for task in TASKS}
    return {
        "chat": flat["chat"], "completions": flat["completions"], "edits": flat["edits"],
        "audio": {"transcriptions": flat["audio.transcriptions"], "translations": flat["audio.translations"]},
        "finetunes": flat["finetunes"], "embeddings": flat["embeddings"], "moderations": flat["moderations"],
    }


def _title(kind: str, text: str) -> str:
    return f"{kind}: " + " ".join(text.split())[:60]
