"""ChatEvent stream -> Mio-Chat's openai frames: pending, update (chunk / tool_call /
reasoning_content), completed | failed.

`update.data.index` counts the updates of one request from 0 (the real backend's `index++`).
A tool call is `{"name", "id", "action", "params", "result"}` as the Dec 2024 backend sent it
(lib/chat/openai.js) and the client reads it (frontend src/lib/contactor.js, ToolCallBar.vue):
the client keys the card by `id`, appends `params` on `pending` (so each pending frame carries
only the new piece of the arguments), shows `params` on running/finished as they come, and reads
`result` (`{"error": null, "result": ...}` on success, `{"error": "..."}` on failure) on
`finished`. Reasoning travels as `data.reasoning_content` (the Mar 2025 client's key), with an
empty `chunk` and no `tool_call`, so the Dec 2024 client skips it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from switchboard.core.domain import events as ev
from switchboard.faces.miochat.envelope import failure, success
from switchboard.faces.miochat.schemas import RequestId

PROTOCOL = "openai"
INTERRUPTED = "interrupted by the client"


class OpenaiFrames:
    def __init__(self, request_id: RequestId) -> None:
        self.request_id = request_id
        self._index = 0
        self._names: dict[str, str] = {}
        self._args: dict[str, str] = {}

    def pending(self) -> dict[str, Any]:
        return success(self.request_id, protocol=PROTOCOL, message="pending")

    def completed(self) -> dict[str, Any]:
        return success(self.request_id, protocol=PROTOCOL, message="completed")

    def failed(self, reason: str) -> dict[str, Any]:
        return failure(self.request_id, reason, protocol=PROTOCOL)

    def update(self, chunk: str = "", tool_call: dict[str, Any] | None = None, reasoning: str | None = None
               ) -> dict[str, Any]:
        data: dict[str, Any] = {"index": self._index, "chunk": chunk, "tool_call": tool_call}
        if reasoning is not None:
            data["reasoning_content"] = reasoning
        self._index += 1
        return success(self.request_id, data, protocol=PROTOCOL, message="update")

    def tool(self, call_id: str, action: str, params: str, name: str | None = None, result: Any = "") -> dict[str, Any]:
        name = name or self._names.get(call_id, "")
        return self.update(tool_call={"name": name, "id": call_id, "action": action, "params": params,
                                      "result": result})

    def render(self, event: ev.ChatEvent) -> dict[str, Any] | None:
        """One engine event -> one frame, or None for events Mio-Chat has no frame for."""
        if isinstance(event, ev.TextDelta):
            return self.update(event.text) if event.text else None
        if isinstance(event, ev.ReasoningDelta):
            return self.update(reasoning=event.text) if event.text else None
        if isinstance(event, ev.ToolCallStarted):
            self._names[event.call_id] = event.name
            self._args[event.call_id] = ""
            return self.tool(event.call_id, "started", "")
        if isinstance(event, ev.ToolCallArgsDelta):
            if not event.delta:
                return None
            self._args[event.call_id] = self._args.get(event.call_id, "") + event.delta
            return self.tool(event.call_id, "pending", event.delta)
        if isinstance(event, ev.ToolCallRunning):
            self._args[event.call_id] = event.arguments
            return self.tool(event.call_id, "running", event.arguments, event.name)
        if isinstance(event, ev.ToolResult):
            outcome = {"error": event.content} if event.is_error else {"error": None, "result": event.content}
            return self.tool(event.call_id, "finished", self._args.get(event.call_id, ""), event.name, outcome)
        if isinstance(event, ev.Done):
            return self.completed()
        if isinstance(event, ev.Failed):
            return self.failed(event.message)
        return None  # Started, Attachment, Usage, MessageSaved


async def openai_frames(events: AsyncIterator[ev.ChatEvent], frames: OpenaiFrames) -> AsyncIterator[dict[str, Any]]:
    async for event in events:
        frame = frames.render(event)
        if frame is not None:
            yield frame
