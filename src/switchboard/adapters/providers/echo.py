"""`echo`: an offline DEMO model. It repeats the conversation's last user message back
("Echo: <text>"), word by word, so Switchboard can be tried, shown and tested end to end with
no API key and no network. It is not a language model and never calls anything."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

from switchboard.adapters.tokens.estimate import HeuristicTokenCounter
from switchboard.core.domain.chat import ProviderCall
from switchboard.core.domain.events import Finish, ProviderEvent, TextDelta, Usage
from switchboard.core.ports.system import TokenCounter

ECHO_MODEL = "echo"
_WORDS = re.compile(r"\s*\S+")


class EchoProvider:
    def __init__(self, *, word_delay: float = 0.02, counter: TokenCounter | None = None) -> None:
        self.name = "echo"
        self._word_delay = word_delay  # a small pause makes the stream visible in a UI
        self._counter = counter or HeuristicTokenCounter()

    async def stream(self, call: ProviderCall) -> AsyncIterator[list[ProviderEvent]]:
        said = last_user_text(call.messages)
        answer = f"Echo: {said}" if said else "Echo: (nothing to echo)"
        end: list[ProviderEvent] = [Finish("stop"), Usage(
            prompt_tokens=self._counter.count_messages(call.messages),
            completion_tokens=self._counter.count_text(answer),
            estimated=True,
        )]
        if not call.streamed:  # nobody watches it grow: the whole answer at once
            yield [TextDelta(answer), *end]
            return
        for index, word in enumerate(_WORDS.findall(answer)):
            if index and self._word_delay:
                await asyncio.sleep(self._word_delay)
            yield [TextDelta(word)]
        yield end

    async def list_models(self) -> list[str]:
        return [ECHO_MODEL]

    async def close(self) -> None:
        return None


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):
            texts = [str(p.get("text") or "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
            return " ".join(t for t in texts if t)
        return str(content or "")
    return ""
