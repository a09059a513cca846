"""The offline echo demo model."""

from __future__ import annotations

from switchboard.adapters.providers.echo import EchoProvider
from switchboard.core.domain.chat import ProviderCall
from switchboard.core.domain.events import Finish, TextDelta, Usage


async def test_echoes_the_last_user_message_word_by_word() -> None:
    provider = EchoProvider(word_delay=0)
    messages = [
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "Echo: first"},
        {"role": "user", "content": [{"type": "text", "text": "hello there"}, {"type": "image_url"}]},
    ]
    events = [e async for batch in provider.stream(ProviderCall("echo", messages)) for e in batch]
    deltas = [e for e in events if isinstance(e, TextDelta)]
    assert "".join(d.text for d in deltas) == "Echo: hello there"
    assert len(deltas) == 3
    assert events[-2] == Finish("stop")
    usage = events[-1]
    assert isinstance(usage, Usage) and usage.estimated
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
    assert await provider.list_models() == ["echo"]
    await provider.close()


async def test_nothing_to_echo() -> None:
    events = [e async for batch in EchoProvider(word_delay=0).stream(ProviderCall("echo", [])) for e in batch]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Echo: (nothing to echo)"


async def test_a_whole_answer_comes_as_one_list_without_the_word_delay() -> None:
    call = ProviderCall("echo", [{"role": "user", "content": "hi there"}], streamed=False)
    batches = [batch async for batch in EchoProvider(word_delay=60).stream(call)]
    assert len(batches) == 1 and batches[0][:2] == [TextDelta("Echo: hi there"), Finish("stop")]
    assert isinstance(batches[0][-1], Usage)
