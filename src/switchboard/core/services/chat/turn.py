"""One turn of a conversation in flight: stream the model, run its tools, store everything.

Persistence (design.md): the assistant message already exists as `streaming`; a background task
writes the text so far every few seconds (never per token, never awaited in the token loop); the
end state — completed, failed or interrupted — is written once, in the same transaction that
settles the quota.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from switchboard.core.domain.chat import ChatRequest, ProviderCall
from switchboard.core.domain.conversations import (
    Conversation,
    Message,
    MessageStatus,
    TokenUsage,
    ToolCall,
    text_parts,
)
from switchboard.core.domain.errors import DomainError, QuotaExceeded
from switchboard.core.domain.events import (
    ChatEvent,
    Done,
    Failed,
    MessageSaved,
    ReasoningDelta,
    Started,
    TextDelta,
    ToolCallDelta,
    ToolCallRunning,
    Usage,
)
from switchboard.core.domain.quotas import UsageEntry
from switchboard.core.domain.tools import ToolContext, ToolSpec
from switchboard.core.domain.users import Principal
from switchboard.core.ports.providers import ChatProvider
from switchboard.core.ports.storage import Tx, UnitOfWork
from switchboard.core.ports.system import Clock, TokenCounter
from switchboard.core.services.chat.history_cache import PendingHistory
from switchboard.core.services.quotas.allowances import STREAM_SLACK_EVENTS, Hold, QuotaService
from switchboard.core.services.tools.runner import ToolCallAssembler, ToolRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TurnDeps:
    uow: UnitOfWork
    quotas: QuotaService
    tools: ToolRunner
    counter: TokenCounter
    clock: Clock
    flush_seconds: float


class Turn:
    def __init__(
        self, deps: TurnDeps, principal: Principal, conversation: Conversation, user_message: Message,
        assistant: Message, model: str, provider: ChatProvider, upstream_model: str,
        messages: list[dict[str, Any]], offered: list[ToolSpec], hold: Hold, request: ChatRequest,
        history: PendingHistory,
    ) -> None:
        self._deps = deps
        self.principal = principal
        self.conversation = conversation
        self.user_message = user_message
        self.assistant = assistant
        self.model = model
        self._provider = provider
        self._upstream_model = upstream_model
        self._messages = messages
        self._offered = offered
        self._hold = hold
        self._request = request
        self._history = history  # what the turn leaves in the worker's history cache, if provable
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._spent = TokenUsage()
        self._last_prompt = 0  # the prompt of the latest provider request, for clients that show context size
        self._finish_reason = "stop"  # the model's last word on why it stopped
        self._dirty = False
        self._flusher: asyncio.Task[None] | None = None
        self._flush_write: asyncio.Future[None] | None = None  # a flush on its way to the database

    async def events(self) -> AsyncIterator[ChatEvent]:
        """The turn's events one at a time, for a face that renders them so; closing it closes
        the turn (`batches` is the same stream as lists)."""
        batches = self.batches()
        try:
            async for batch in batches:
                for event in batch:
                    yield event
        finally:
            await batches.aclose()  # now, not when collected: an interrupted turn stores its end here

    async def batches(self) -> AsyncGenerator[list[ChatEvent], None]:
        """The turn's events in lists, never empty: while the model streams, what one network read
        brought (one list per read instead of an object per token through every layer)."""
        yield [Started(self.conversation.id, self.assistant.id, self.user_message.id or None, self.model)]
        self._start_flusher()
        status, error = MessageStatus.INTERRUPTED, "the client went away or the server stopped"
        try:
            for round_number in range(self._deps.tools.policy.max_rounds + 1):
                # the last round offers no tools, so the model must answer in words
                tools = self._offered if round_number < self._deps.tools.policy.max_rounds else []
                assembler = ToolCallAssembler()
                async for events in self._stream_round(tools, assembler):
                    yield events
                calls = assembler.calls()
                if not calls or not tools:
                    break
                async for event in self._run_tools(calls):
                    yield [event]
            status = MessageStatus.COMPLETED
            saved = await self._finish(status, None)
            yield [
                Usage(self._spent.prompt_tokens, self._spent.completion_tokens, self._spent.estimated,
                      self._last_prompt),
                MessageSaved(saved.id, saved.updated_at),
                Done(saved.id, saved.text, saved.reasoning, self._spent, self._finish_reason),
            ]
        except DomainError as exc:
            status, error = MessageStatus.FAILED, exc.message
            saved = await self._finish(status, error)
            yield [Failed(exc.code, exc.message, saved.id)]
        except Exception:
            # a bug must not leave a message `streaming` forever nor leak details to clients
            log.exception("chat turn failed in conversation %s", self.conversation.id)
            status, error = MessageStatus.FAILED, "internal error"
            saved = await self._finish(status, error)
            yield [Failed("internal_error", "the server failed while answering; the error was logged", saved.id)]
        finally:
            if status is MessageStatus.INTERRUPTED:
                # cancelled or closed mid-stream: keep what was produced; shield so the write lands
                await asyncio.shield(self._finish(status, error))

    async def _stream_round(
        self, tools: list[ToolSpec], assembler: ToolCallAssembler
    ) -> AsyncIterator[list[ChatEvent]]:
        """The model's events for the client, a list per provider list; the text kept, tool calls
        assembled, usage and the reason it stopped noted on the turn."""
        options = self._options()
        call = ProviderCall(self._upstream_model, self._messages, options, [t.to_openai() for t in tools],
                            self._request.streamed)
        reported: Usage | None = None
        text, reasoning = self._text, self._reasoning
        # a limited turn's answer is capped (max_tokens); a provider that ignores the cap is stopped
        # about there, counting a delta as a token
        limit = options["max_tokens"] + STREAM_SLACK_EVENTS if self._hold.completion_budget is not None else None
        deltas = 0
        stream = self._provider.stream(call)
        try:
            # the hot loop: append to lists, mark dirty, pass the events on; no awaits on storage here
            async for events in stream:
                over = False
                if limit is not None and reported is None:
                    room, deltas = limit - deltas, deltas + len(events)
                    if deltas > limit:
                        over, events = True, events[:room]
                passed: list[ChatEvent] = []
                for event in events:
                    if isinstance(event, TextDelta):
                        text.append(event.text)
                        self._dirty = True
                        passed.append(event)
                    elif isinstance(event, ReasoningDelta):
                        reasoning.append(event.text)
                        self._dirty = True
                        passed.append(event)
                    elif isinstance(event, ToolCallDelta):
                        passed += assembler.feed(event)
                    elif isinstance(event, Usage):
                        reported = event
                    else:
                        self._finish_reason = event.reason
                if passed:
                    yield passed
                if over:
                    self._finish_reason = "length"
                    break
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:  # stops the upstream request when the loop ended early
                await close()
        self._count_round(reported, assembler)

    def _options(self) -> dict[str, Any]:
        request, settings = self._request, self.conversation.settings
        options: dict[str, Any] = dict(request.extra)
        temperature = request.temperature if request.temperature is not None else settings.temperature
        if temperature is not None:
            options["temperature"] = temperature
        if request.top_p is not None:
            options["top_p"] = request.top_p
        wanted = request.max_tokens
        if self._hold.completion_budget is not None:
            # a limited allowance caps the answer so the turn never spends more than it holds
            spent = self._spent.total_tokens
            prompt_now = self._deps.counter.count_messages(self._messages) if spent else self._hold.prompt_estimate
            left = self._hold.tokens - spent - prompt_now
            if left < 1:
                raise QuotaExceeded("the tokens held for this turn are used up; the answer stops here")
            wanted = min(wanted or left, left)
        if wanted is not None:
            options["max_tokens"] = wanted
        return options

    def _count_round(self, reported: Usage | None, assembler: ToolCallAssembler) -> None:
        if reported is not None:
            prompt, completion, estimated = reported.prompt_tokens, reported.completion_tokens, False
        else:
            counter = self._deps.counter
            prompt = counter.count_messages(self._messages)
            produced = "".join(self._text) + "".join(self._reasoning) + "".join(c.arguments for c in assembler.calls())
            completion, estimated = counter.count_text(produced), True
        self._last_prompt = prompt
        spent = self._spent
        self._spent = TokenUsage(
            prompt_tokens=spent.prompt_tokens + prompt, completion_tokens=spent.completion_tokens + completion,
            estimated=spent.estimated or estimated,
        )

    async def _run_tools(self, calls: list[ToolCall]) -> AsyncIterator[ChatEvent]:
        """Store the assistant's tool calls, run them in parallel, store the results, and start a
        new assistant message for the model's next round."""
        await self._stop_flusher()
        self._history.untrack()  # the simple way to stay correct: a turn with tool rounds updates no cache
        deps, now = self._deps, self._deps.clock.now()
        self.assistant.tool_calls = calls
        self._fill(self.assistant, MessageStatus.COMPLETED, None)
        self.assistant.usage = None  # the turn's usage goes on its last message
        for call in calls:
            yield ToolCallRunning(call.id, call.name, call.arguments)
        ctx = ToolContext(self.principal.user_id, self.conversation.id, deps.tools.policy.allow_private_network)
        results = {}
        async for result in deps.tools.run_all(calls, self._offered, ctx):
            results[result.call_id] = result
            yield result
        self._messages = [
            *self._messages,
            {"role": "assistant", "content": "".join(self._text) or None, "tool_calls": [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments or "{}"}}
                for c in calls
            ]},
            *({"role": "tool", "tool_call_id": c.id, "content": results[c.id].content} for c in calls),
        ]
        # what crash recovery charges if this worker dies in the next round: the rounds so far and
        # the next prompt's estimate, plus the text streamed by then
        so_far = TokenUsage(prompt_tokens=self._spent.prompt_tokens + deps.counter.count_messages(self._messages),
                            completion_tokens=self._spent.completion_tokens, estimated=True)
        answered, hold_id = self.assistant, self._hold.id
        tool_messages = [Message(
            id=0, conversation_id=self.conversation.id, role="tool", parts=text_parts(results[call.id].content),
            status=MessageStatus.COMPLETED, created_at=now, updated_at=now, tool_call_id=call.id,
            name=call.name, error="tool error" if results[call.id].is_error else None,
        ) for call in calls]
        next_answer = Message(
            id=0, conversation_id=self.conversation.id, role="assistant", parts=[],
            status=MessageStatus.STREAMING, created_at=now, updated_at=now, model=self.model,
            usage=so_far, worker_id=answered.worker_id,
        )

        async def store(tx: Tx) -> Message:
            await tx.messages.update(answered)
            for tool_message in tool_messages:
                await tx.messages.add(tool_message)
            added = await tx.messages.add(next_answer)
            if hold_id:
                await tx.holds.attach(hold_id, added.id)
            return added

        self.assistant = await deps.uow.run(store)
        self._text, self._reasoning = [], []
        self._start_flusher()

    def _fill(self, message: Message, status: MessageStatus, error: str | None) -> None:
        message.parts = text_parts("".join(self._text))
        message.reasoning = "".join(self._reasoning)
        message.status = status
        message.error = error
        message.updated_at = self._deps.clock.now()

    async def _finish(self, status: MessageStatus, error: str | None) -> Message:
        """The one write that ends the turn: final message state + quota settlement together."""
        await self._stop_flusher()
        if status is MessageStatus.INTERRUPTED and not self._spent.total_tokens:
            counter = self._deps.counter
            produced = counter.count_text("".join(self._text) + "".join(self._reasoning))
            self._spent = TokenUsage(
                prompt_tokens=counter.count_messages(self._messages), completion_tokens=produced, estimated=True
            )
        message = self.assistant
        self._fill(message, status, error)
        message.usage = self._spent
        entry = UsageEntry(
            user_id=self.principal.user_id, tokens_prompt=self._spent.prompt_tokens,
            tokens_completion=self._spent.completion_tokens, model=self.model, created_at=message.updated_at,
            key_id=self.principal.key_id, conversation_id=self.conversation.id, message_id=message.id,
            estimated=self._spent.estimated,
        )
        hold, history = self._hold, self._history

        async def settle(tx: Tx) -> int | None:
            return await self._deps.quotas.finish_turn_in(tx, message, hold, entry)

        history.finished(await history.counted(self._deps.uow.run(settle)), message)
        return message

    def _start_flusher(self) -> None:
        # an unstreamed answer arrives whole and its round ends in a write of its own (the final
        # state, or a tool round's): there is never text to flush, so no task to make and cancel
        if self._request.streamed:
            self._flusher = asyncio.create_task(self._flush_periodically())

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._deps.flush_seconds)
            if not self._dirty:
                continue
            self._dirty = False
            snapshot = dataclasses.replace(
                self.assistant, parts=text_parts("".join(self._text)), reasoning="".join(self._reasoning)
            )
            # its own task, so that stopping the flusher never cuts a write short (see _stop_flusher);
            # counted there, as one of the turn's own writes, by the task that sees how it ended
            write = self._history.counted(self._deps.uow.run(_text_update(snapshot)))
            self._flush_write = asyncio.ensure_future(write)
            with contextlib.suppress(Exception):  # a missed flush is retried next period
                await asyncio.shield(self._flush_write)

    async def _stop_flusher(self) -> None:
        """Stops the periodic flush; a flush already on its way lands first, so the write that
        follows (the final state, or a tool round's) is never overwritten by an older snapshot."""
        flusher, self._flusher = self._flusher, None
        if flusher is not None:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
        writing, self._flush_write = self._flush_write, None
        if writing is not None:
            with contextlib.suppress(Exception):
                await writing


def _text_update(snapshot: Message) -> Callable[[Tx], Awaitable[None]]:
    """A flush's step: the text so far, written over the streaming message."""
    return lambda tx: tx.messages.update(snapshot)
