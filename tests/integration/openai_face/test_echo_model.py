"""The offline `echo` demo model through the gateway: listed and clearly marked, and answering in
the OpenAI wire format (plain and streamed), metered like any model."""

from tests.support.gateway import Gateway


async def test_echo_is_listed_and_marked_as_builtin(gw: Gateway) -> None:
    client = gw.client()
    listed = {m.id: m for m in (await client.models.list()).data}
    assert listed["echo"].owned_by == "switchboard"
    assert listed["echo"].model_extra == {"builtin": True, "description": listed["echo"].model_extra["description"]}
    assert "demo" in listed["echo"].model_extra["description"]
    assert "builtin" not in (listed["gpt-test"].model_extra or {})
    assert (await client.models.retrieve("echo")).id == "echo"


async def test_echo_answers_plain_and_streamed(gw: Gateway) -> None:
    client = gw.client()
    plain = await client.chat.completions.create(model="echo", messages=[{"role": "user", "content": "hello there"}])
    assert plain.choices[0].message.content == "Echo: hello there"
    assert plain.usage is not None and plain.usage.completion_tokens > 0

    stream = await client.chat.completions.create(
        model="echo", messages=[{"role": "user", "content": "one two"}], stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage = [], None
    async for chunk in stream:
        pieces += [c.delta.content or "" for c in chunk.choices]
        usage = chunk.usage or usage
    assert "".join(pieces) == "Echo: one two"
    assert usage is not None

    rows = await gw.ledger()
    assert [r["model"] for r in rows] == ["echo", "echo"]  # metered like any model
