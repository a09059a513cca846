"""Token estimates without a tokenizer download (tiktoken fetches its vocabularies at first use
and fails offline). Used only where the provider reports no usage, and to size quota
reservations before a call, so erring slightly high is the safe side.

    ASCII text          about 1 token per 4 characters
    CJK characters      about 1 token each
    other non-ASCII     about 1 token per 2 characters (accented Latin, Cyrillic, emoji ...)
    each message        a few tokens of role/formatting overhead
    an image            a fixed amount (OpenAI's high-detail 1024x1024 tile count)
"""

from __future__ import annotations

import re
from typing import Any

import orjson

_CJK = re.compile(
    "[\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\uac00-\ud7af]"  # hangul syllables
)

MESSAGE_OVERHEAD = 4  # role, separators
REPLY_PRIMING = 3  # the assistant turn every request opens
IMAGE_TOKENS = 765
AUDIO_TOKENS = 400
FILE_TOKENS = 400


class HeuristicTokenCounter:
    def count_text(self, text: str) -> int:
        if not text:
            return 0
        ascii_chars = len(text.encode("ascii", "ignore"))
        others = len(text) - ascii_chars
        if not others:
            return -(-ascii_chars // 4)
        cjk = len(_CJK.findall(text))
        return -(-ascii_chars // 4) + cjk + -(-(others - cjk) // 2)

    def count_messages(self, messages: list[dict[str, Any]]) -> int:
        total = REPLY_PRIMING
        for message in messages:
            total += MESSAGE_OVERHEAD + self._count_content(message.get("content"))
            if message.get("name"):
                total += 1 + self.count_text(str(message["name"]))
            # relayed bodies are the client's JSON as sent: a malformed call counts as nothing, never raises
            calls = message.get("tool_calls")
            for call in calls if isinstance(calls, list) else ():
                function = call.get("function") if isinstance(call, dict) else None
                function = function if isinstance(function, dict) else {}
                total += MESSAGE_OVERHEAD + self.count_text(str(function.get("name") or ""))
                total += self.count_text(str(function.get("arguments") or ""))
        return total

    def count_tools(self, tools: list[dict[str, Any]]) -> int:
        """Tool definitions are sent with every request and count against the prompt too."""
        return self.count_text(orjson.dumps(tools).decode()) if tools else 0

    def _count_content(self, content: Any) -> int:
        if content is None:
            return 0
        if isinstance(content, str):
            return self.count_text(content)
        if isinstance(content, list):
            return sum(self._count_part(part) for part in content)
        return self.count_text(str(content))

    def _count_part(self, part: Any) -> int:
        if not isinstance(part, dict):
            return self.count_text(str(part))
        kind = part.get("type")
        if kind == "text":
            return self.count_text(str(part.get("text") or ""))
        if kind in ("image_url", "image"):
            return IMAGE_TOKENS
        if kind in ("input_audio", "audio"):
            return AUDIO_TOKENS
        return FILE_TOKENS
