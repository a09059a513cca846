"""When a bot answers: always in private chats; in groups when @-mentioned, when the message
replies to the bot, or when it starts with a wake word — in groups the allow/deny lists permit."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.platforms._shared.messages import Incoming


@dataclass(frozen=True, slots=True)
class TriggerPolicy:
    wake_words: tuple[str, ...] = ()
    answer_mentions: bool = True
    answer_replies: bool = True
    allow_groups: frozenset[str] | None = None  # None: every group not denied
    deny_groups: frozenset[str] = frozenset()

    def group_allowed(self, group_id: str) -> bool:
        if group_id in self.deny_groups:
            return False
        return self.allow_groups is None or group_id in self.allow_groups


def triggered(message: Incoming, policy: TriggerPolicy) -> str | None:
    """The text to answer (a wake word removed), or None when the bot should stay silent."""
    text = message.text.strip()
    if message.chat == "private":
        return text
    if not policy.group_allowed(message.chat_id):
        return None
    if (policy.answer_mentions and message.mentions_bot) or (policy.answer_replies and message.replies_to_bot):
        return text
    folded = text.casefold()
    for word in policy.wake_words:
        if word and folded.startswith(word.casefold()) and not _runs_on(word, text[len(word):len(word) + 1]):
            return text[len(word):].lstrip(" ,:，：")
    return None


def _runs_on(word: str, after: str) -> bool:
    """`bot` must not wake on `bottle`; Chinese has no spaces, so `小助手你好` still wakes `小助手`."""
    return bool(after) and _latin_alnum(word[-1]) and _latin_alnum(after)


def _latin_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()
