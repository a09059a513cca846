from switchboard.platforms._shared.messages import Incoming
from switchboard.platforms._shared.triggers import TriggerPolicy, triggered


def message(text: str, chat: str = "group", **kw: object) -> Incoming:
    return Incoming("qq", "10000", chat, "g1" if chat == "group" else "u1", "u1", text, **kw)  # type: ignore[arg-type]


def test_private_chats_are_always_answered() -> None:
    assert triggered(message(" hi ", chat="private"), TriggerPolicy()) == "hi"


def test_a_group_message_is_answered_only_when_addressed() -> None:
    policy = TriggerPolicy(wake_words=("bot",))
    assert triggered(message("hello all"), policy) is None
    assert triggered(message("hello", mentions_bot=True), policy) == "hello"
    assert triggered(message("hello", replies_to_bot=True), policy) == "hello"
    assert triggered(message("Bot, what time is it"), policy) == "what time is it"
    assert triggered(message("robot wars"), policy) is None
    assert triggered(message("bottles of water"), policy) is None  # a word that merely starts alike
    assert triggered(message("bot"), policy) == ""
    assert triggered(message("小助手你好"), TriggerPolicy(wake_words=("小助手",))) == "你好"


def test_mentions_and_replies_can_be_turned_off() -> None:
    policy = TriggerPolicy(answer_mentions=False, answer_replies=False)
    assert triggered(message("hello", mentions_bot=True, replies_to_bot=True), policy) is None


def test_group_allow_and_deny_lists() -> None:
    assert triggered(message("hi", mentions_bot=True), TriggerPolicy(deny_groups=frozenset({"g1"}))) is None
    assert triggered(message("hi", mentions_bot=True), TriggerPolicy(allow_groups=frozenset({"g2"}))) is None
    assert triggered(message("hi", mentions_bot=True), TriggerPolicy(allow_groups=frozenset({"g1"}))) == "hi"
    # the lists are about groups: a private chat is answered whatever they say
    assert triggered(message("hi", chat="private"), TriggerPolicy(allow_groups=frozenset())) == "hi"
