"""ChatEvent stream -> Mio-Chat's openai frames: pending, update (chunk / tool_call), completed | failed.

`update.data.index` counts the updates of one request from 0 (the real backend's `index++`);
a tool call goes through the actions started -> pending (arguments so far) -> running (all
arguments) -> finished (the result)."""

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

    def update(self, chunk: str = "", tool_call: dict[str, Any] | None = None) -> dict[str, Any]:
        frame = success(self.request_id, {"index": self._index, "chunk": chunk, "tool_call": tool_call},
                        protocol=PROTOCOL, message="update")
        self._index += 1
        return frame

    def tool(self, call_id: str, action: str, params: str, name: str | None = None) -> dict[str, Any]:
        name = name or self._names.get(call_id, "")
        return self.update(tool_call={"name": name, "action": action, "params": params})

    def render(self, event: ev.ChatEvent) -> dict[str, Any] | None:
        """One engine event -> one frame, or None for events Mio-Chat has no frame for."""
        if isinstance(event, ev.TextDelta):
            return self.update(event.text) if event.text else None
        if isinstance(event, ev.ToolCallStarted):
            self._names[event.call_id] = event.name
            self._args[event.call_id] = ""
            return self.tool(event.call_id, "started", "")
        if isinstance(event, ev.ToolCallArgsDelta):
            self._args[event.call_id] = self._args.get(event.call_id, "") + event.delta
            return self.tool(event.call_id, "pending", self._args[event.call_id])
        if isinstance(event, ev.ToolCallRunning):
            return self.tool(event.call_id, "running", event.arguments, event.name)
        if isinstance(event, ev.ToolResult):
            return self.tool(event.call_id, "finished", event.content, event.name)
        if isinstance(event, ev.Done):
            return self.completed()
        if isinstance(event, ev.Failed):
            return self.failed(event.message)
        return None  # Started, ReasoningDelta, Attachment, Usage, MessageSaved


async def openai_frames(events: AsyncIterator[ev.ChatEvent], frames: OpenaiFrames) -> AsyncIterator[dict[str, Any]]:
    async for event in events:
        frame = frames.render(event)
        if frame is not None:
            yield frame
