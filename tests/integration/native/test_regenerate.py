"""Regenerate (a new answer to the last question) and edit-and-resend (a new last question), streamed
and not: the superseded messages leave the list and the provider's context but stay in the
database, no second question is stored, and someone else's conversation is a 404."""

from __future__ import annotations

from typing import Any

from tests.integration.native.conftest import Api, Start, parse_sse
from tests.support.upstream import Reply, ScriptedUpstream


async def send(api: Api, path: str, body: dict[str, Any], who: str = "alice") -> Any:
    response = await api.client.post(path, json=body, headers=api.auth(who))
    if path.endswith("/stream") and response.status_code == 200:
        frames = parse_sse(response.text)
        assert frames[-1][0] == "done", frames
    return response


def envelope(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.json()["success"] is False
    return str(response.json()["message"])


async def test_regenerate_replaces_the_last_answer(start_native: Start, upstream: ScriptedUpstream) -> None:
    api = await start_native()
    await api.user("alice")
    for path in ("/api/messages", "/api/messages/stream"):
        conversation = await api.conversation("alice")
        upstream.push(Reply(text="first answer"), Reply(text="second answer"))
        assert (await send(api, path, {"conversation_id": conversation, "content": "hi"})).status_code == 200
        [question, first] = await api.messages("alice", conversation)

        again = await send(api, path, {"conversation_id": conversation, "regenerate": True})
        assert again.status_code == 200, again.text
        assert upstream.last.json["messages"] == [{"role": "user", "content": "hi"}]
        [kept, second] = await api.messages("alice", conversation)
        assert kept["id"] == question["id"] and second["content"] == "second answer" and second["id"] != first["id"]
        assert api.runtime is not None
        async with api.runtime.uow.read() as tx:  # superseded, not destroyed
            stored = await tx.messages.list(conversation, 10, include_deleted=True)
        assert [m.text for m in stored if m.is_deleted] == ["first answer"]


async def test_edit_and_resend_supersedes_the_last_question(start_native: Start, upstream: ScriptedUpstream) -> None:
    api = await start_native()
    await api.user("alice")
    for path in ("/api/messages", "/api/messages/stream"):
        conversation = await api.conversation("alice")
        upstream.push(Reply(text="one"), Reply(text="two"), Reply(text="three"))
        await send(api, path, {"conversation_id": conversation, "content": "first"})
        await send(api, path, {"conversation_id": conversation, "content": "secnod"})
        [_, _, typo, _] = await api.messages("alice", conversation)

        body = {"conversation_id": conversation, "content": "second", "edit_message_id": typo["id"]}
        assert (await send(api, path, body)).status_code == 200
        assert [m["role"] for m in upstream.last.json["messages"]] == ["user", "assistant", "user"]
        assert upstream.last.json["messages"][-1] == {"role": "user", "content": "second"}
        listed = await api.messages("alice", conversation)
        assert [m["content"] for m in listed] == ["first", "one", "second", "three"]

        stale = {"conversation_id": conversation, "content": "again", "edit_message_id": listed[0]["id"]}
        assert "last user message" in envelope(await send(api, path, stale), 400)
        empty = {"conversation_id": conversation, "content": "", "edit_message_id": listed[2]["id"]}
        assert "empty" in envelope(await send(api, path, empty), 400)


async def test_regenerate_failures(start_native: Start, upstream: ScriptedUpstream) -> None:
    api = await start_native()
    await api.user("alice")
    await api.user("bob")
    conversation = await api.conversation("alice")
    calls = len(upstream.requests)
    for path in ("/api/messages", "/api/messages/stream"):
        nothing_yet = await send(api, path, {"conversation_id": conversation, "regenerate": True})
        assert "no earlier question" in envelope(nothing_yet, 400)
        foreign = await send(api, path, {"conversation_id": conversation, "regenerate": True}, who="bob")
        envelope(foreign, 404)
        edit_foreign = {"conversation_id": conversation, "content": "x", "edit_message_id": 1}
        envelope(await send(api, path, edit_foreign, who="bob"), 404)
        for bad in ({"conversation_id": conversation, "regenerate": "twice"},
                    {"conversation_id": conversation, "content": "x", "edit_message_id": "last"},
                    {"conversation_id": conversation, "content": "x", "edit_message_id": 0}):
            envelope(await send(api, path, bad), 422)
        no_auth = await api.client.post(path, json={"conversation_id": conversation, "regenerate": True})
        envelope(no_auth, 401)
    assert len(upstream.requests) == calls
