"""Several model calls working together on one task (MuseBot's /task and /mcp).

A planner splits the task into steps (its own conversation, no tools); a worker runs the steps one
after the other in a second conversation, with tools (for /mcp: told to act with the MCP tools);
a last turn of the worker writes the final answer. Every call goes through the chat engine, so
quotas, usage, persistence and real tool calls are the same as in any chat.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

from switchboard.core.domain.chat import ChatRequest
from switchboard.core.domain.conversations import ConversationSettings, TokenUsage, text_parts
from switchboard.core.domain.events import ChatEvent, Done, Failed, TextDelta, ToolCallRunning
from switchboard.core.domain.tools import ToolSpec
from switchboard.core.domain.users import Principal
from switchboard.core.services.chat.engine import ChatEngine
from switchboard.core.services.conversations.history import ConversationService, NewConversation
from switchboard.core.services.tools.runner import ToolRunner

PLANNER_PROMPT = (
    "You are a planner. Split the user's task into at most {steps} short, concrete steps that an assistant "
    "with tools can carry out one after another. Answer with a JSON array of strings and nothing else."
)
WORKER_PROMPT = (
    "You are a careful worker agent. You carry out one step of a larger task at a time, using the tools "
    "you are offered when they help, and report the step's result briefly and factually."
)
MCP_HINT = "Act with these MCP tools where they fit:\n{tools}"
_NUMBERED = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+(.+)$")

AgentChunk = str | TokenUsage


@dataclass(frozen=True, slots=True)
class AgentJob:
    acting: Principal
    task: str
    external_key: str
    origin: str  # conversations are created under this origin (kept out of the user's records)
    model: str | None  # the worker's model; None = the default
    planner_model: str | None
    max_steps: int
    mcp: bool = False
    streamed: bool = True  # False: the steps' answers leave as one message (CommandStyle.streamed)


async def stream_turn(engine: ChatEngine, request: ChatRequest, principal: Principal) -> AsyncIterator[ChatEvent]:
    """One engine turn; DomainError before streaming propagates. Closing this closes the turn, so
    an abandoned answer is stored as interrupted."""
    turn = await engine.start(request, principal)
    events = turn.events()
    try:
        async for event in events:
            yield event
    finally:
        closer = getattr(events, "aclose", None)
        if closer is not None:
            await closer()


class AgentRunner:
    def __init__(self, engine: ChatEngine, conversations: ConversationService, tools: ToolRunner) -> None:
        self._engine = engine
        self._conversations = conversations
        self._tools = tools

    async def mcp_tools(self) -> list[ToolSpec]:
        return [spec for spec in await self._tools.offered(None) if spec.category == "mcp"]

    async def run(self, job: AgentJob) -> AsyncIterator[AgentChunk]:
        tools = await self.mcp_tools() if job.mcp else []
        if job.mcp and not tools:
            yield "No MCP tools are connected, so the MCP agent cannot act. Add a server first (/mcp/update).\n"
            return
        hint = MCP_HINT.format(tools="\n".join(f"- {t.name}: {t.description}" for t in tools)) if tools else ""
        yield "🧭 Planning…\n"
        steps: list[str] = []
        async for chunk in self._plan(job, hint):
            if isinstance(chunk, list):
                steps = chunk
            else:
                yield chunk
        yield "📋 Plan:\n" + "".join(f"{i}. {step}\n" for i, step in enumerate(steps, 1))
        worker = await self._conversations.create(job.acting, NewConversation(
            title=f"task: {job.task}"[:200], origin=job.origin, external_key=job.external_key,
            settings=ConversationSettings(model=job.model, system_prompt=WORKER_PROMPT + ("\n" + hint if hint else "")),
        ))
        for number, step in enumerate(steps, 1):
            yield f"\n▶ Step {number}/{len(steps)}: {step}\n"
            prompt = f"Overall task: {job.task}\nStep {number} of {len(steps)}: {step}\nCarry out this step now."
            ok = True
            async for chunk in self._say(job, worker.id, prompt, show=True):
                ok = ok and not (isinstance(chunk, str) and chunk.startswith("\n⚠️"))
                yield chunk
            if not ok:
                yield "The task stopped at this step.\n"
                return
        yield "\n✅ Final answer:\n"
        summary = f"All steps are done. Answer the overall task for the user from the results above: {job.task}"
        async for chunk in self._say(job, worker.id, summary, show=True):
            yield chunk
        yield "\n"

    async def _plan(self, job: AgentJob, hint: str) -> AsyncIterator[AgentChunk | list[str]]:
        planner = await self._conversations.create(job.acting, NewConversation(
            title=f"plan: {job.task}"[:200], origin=job.origin, external_key=job.external_key,
            settings=ConversationSettings(
                model=job.planner_model or job.model, tools_enabled=False,
                system_prompt=PLANNER_PROMPT.format(steps=job.max_steps),
            ),
        ))
        text: list[str] = []
        async for chunk in self._say(job, planner.id, job.task + ("\n\n" + hint if hint else ""), show=False):
            if isinstance(chunk, str) and not chunk.startswith("\n⚠️"):
                text.append(chunk)
            else:
                yield chunk
        yield parse_steps("".join(text), job.max_steps) or [job.task]

    async def _say(self, job: AgentJob, conversation_id: str, prompt: str, *, show: bool) -> AsyncIterator[AgentChunk]:
        """One turn; text is passed on (`show`) or collected by the caller; tool calls become lines."""
        # what is not shown (the plan) or shown only whole is asked for whole
        request = ChatRequest(conversation_id=conversation_id, parts=text_parts(prompt),
                              streamed=show and job.streamed)
        async for event in stream_turn(self._engine, request, job.acting):
            if isinstance(event, TextDelta):
                yield event.text
            elif isinstance(event, ToolCallRunning) and show:
                yield f"\n🔧 {event.name}\n"
            elif isinstance(event, Done):
                yield event.usage
            elif isinstance(event, Failed):
                yield f"\n⚠️ {event.message}\n"


def parse_steps(text: str, limit: int) -> list[str]:
    """A JSON array of strings anywhere in the text, else numbered or bulleted lines."""
    start, end = text.find("["), text.rfind("]")
    if 0 <= start < end:
        try:
            value = json.loads(text[start:end + 1])
        except ValueError:
            value = None
        if isinstance(value, list):
            steps = [str(item).strip() for item in value if str(item).strip()]
            if steps:
                return steps[:limit]
    lines = [m.group(1).strip() for m in map(_NUMBERED.match, text.splitlines()) if m]
    return lines[:limit]
