"""Slash commands of chat platforms (MuseBot first): `/cmd args` or `$cmd args` in, text chunks out.

    session = await commands.open(caller, "musebot", "12345")   # DomainError here, before streaming
    async for chunk in commands.run(session, "/photo a red fox", body=b""): ...

A platform user's chat is one conversation (origin = the platform, external_key = their id) of
the Switchboard user linked to them; their chosen model (`mode`) lives in the identity's settings.
Chats are answered by the engine in that conversation. Every other command's exchange is written
to a second conversation (origin `<platform>-log`) so it shows in the user's records without
entering the model's context. Failures become a clear sentence in the stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from switchboard.core.domain.chat import ChatRequest
from switchboard.core.domain.conversations import Conversation, Message, MessageStatus, Part, TokenUsage, text_parts
from switchboard.core.domain.errors import DomainError, InvalidInput
from switchboard.core.domain.events import Failed, TextDelta
from switchboard.core.domain.files import StoredFile
from switchboard.core.domain.platforms import PlatformIdentity
from switchboard.core.domain.users import Principal, Scope, User
from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.ports.system import Clock
from switchboard.core.services.accounts.identities import IdentityService
from switchboard.core.services.admin.models import ModelService
from switchboard.core.services.admin.runtime_config import RuntimeConfigService
from switchboard.core.services.chat.engine import ChatEngine
from switchboard.core.services.commands.agents import AgentJob, AgentRunner, stream_turn
from switchboard.core.services.commands.media import MediaCommands, Upload, sniff
from switchboard.core.services.conversations.history import ConversationService, NewConversation
from switchboard.core.services.media.files import FileService
from switchboard.core.services.quotas.allowances import QuotaService

HELP = """Commands:
/chat <text> — talk with the model (plain text does the same)
/mode [model] — list the models, or choose the one you talk to
/balance — your remaining token allowance
/state — your token use (total, today, 7 days, 30 days) and current model
/clear — clear the conversation history
/retry — answer your last question again
/photo <description> — make a picture (send an image as the body to edit it)
/video <description> — make a video
/task <task> — agents plan the task, carry out the steps with tools and sum up
/mcp <task> — an agent plans and acts with the MCP tools
/help — this list
"""
_KIND_TO_PART = {"image": "image", "video": "video", "record": "audio"}

Chunk = str | StoredFile | TokenUsage
Handler = Callable[["Session", str, "StoredUpload | None"], AsyncIterator[Chunk]]


@dataclass(frozen=True, slots=True)
class CommandStyle:
    """How a platform wants commands answered (the defaults suit IM chats)."""

    progress: bool = True  # /video's progress lines in the answer; else only logged (MuseBot's UIs)
    unknown_chats: bool = False  # `/unknown text` goes to the model as it is (MuseBot), not the help
    # False: the answer leaves as one message (an IM reply), so the model is asked for it whole
    streamed: bool = True


@dataclass(frozen=True, slots=True)
class Session:
    caller: Principal  # who sent the request (the API key's owner)
    acting: Principal  # the Switchboard user linked to the platform id, with chat rights only
    identity: PlatformIdentity
    chat: Conversation
    style: CommandStyle = CommandStyle()

    @property
    def platform(self) -> str:
        return self.identity.platform

    @property
    def external_id(self) -> str:
        return self.identity.external_id


@dataclass(frozen=True, slots=True)
class StoredUpload:
    upload: Upload
    file: StoredFile


@dataclass(frozen=True, slots=True)
class CommandDeps:
    uow: UnitOfWork
    clock: Clock
    engine: ChatEngine
    conversations: ConversationService
    identities: IdentityService
    quotas: QuotaService
    models: ModelService
    files: FileService
    media: MediaCommands
    agents: AgentRunner
    runtime: RuntimeConfigService


def parse_command(prompt: str) -> tuple[str, str]:
    """`/photo a fox` -> ("photo", "a fox"); text without a command is ("chat", text)."""
    text = prompt.strip()
    if text[:1] not in ("/", "$") or len(text) < 2:
        return "chat", text
    pieces = text[1:].split(maxsplit=1)
    return pieces[0].lower(), pieces[1].strip() if len(pieces) > 1 else ""


def sentence(error: DomainError) -> str:
    text = error.message.strip() or "the request failed"
    text = text[0].upper() + text[1:]
    return f"⚠️ {text}{'' if text.endswith(('.', '!', '?')) else '.'}\n"


class CommandService:
    def __init__(self, deps: CommandDeps) -> None:
        self._d = deps
        self._handlers: dict[str, Handler] = {
            "chat": self._chat, "retry": self._retry, "mode": self._mode, "balance": self._balance,
            "state": self._state, "clear": self._clear, "photo": self._photo, "video": self._video,
            "task": self._task, "mcp": self._mcp, "help": self._help,
        }

    async def open(self, caller: Principal, platform: str, external_id: str,
                   style: CommandStyle = CommandStyle()) -> Session:
        """The session of a platform user; Forbidden when a plain key speaks for someone else."""
        user, identity = await self._d.identities.act_as(caller, platform, external_id)
        acting = Principal(
            # never more than the caller's own scopes (its route asked for chat)
            user.id, user.username, user.role, caller.scopes & {Scope.CHAT, Scope.FILE},
            via="platform", key_id=caller.key_id, allowed_models=caller.allowed_models,
            key_tokens_left=caller.key_tokens_left,  # the bot's key pays for its users' calls
        )
        chat = await self._conversation(acting, platform, identity.external_id)
        return Session(caller, acting, identity, chat, style)

    async def open_contact(self, user: User, identity: PlatformIdentity, origin: str, key: str,
                           style: CommandStyle = CommandStyle()) -> Session:
        """The session of someone writing to a bot on an IM platform: they act as their own linked
        user (chat and files only), in the conversation `origin`/`key` (a private chat, a group)."""
        acting = Principal(user.id, user.username, user.role, frozenset({Scope.CHAT, Scope.FILE}), via="platform")
        return Session(acting, acting, identity, await self._conversation(acting, origin, key), style)

    def model_of(self, session: Session) -> str | None:
        mode = session.identity.settings.get("mode")
        return str(mode) if mode else self._d.runtime.current.base.default_model

    async def set_mode(self, session: Session, model: str) -> str:
        """Chooses the user's model; a model nobody serves (or the key may not use) is refused."""
        available = [m.id for m in await self._d.models.available(session.acting)]
        if model not in available:
            raise InvalidInput(f"unknown model '{model}'; available: {', '.join(available)}", param="mode")
        await self._d.identities.update_settings(session.identity, mode=model)
        return f"Model set to {model}.\n"

    async def run(self, session: Session, prompt: str, body: bytes = b"") -> AsyncIterator[str]:
        command, args = parse_command(prompt)
        said: list[str] = []
        made: list[StoredFile] = []
        usage = TokenUsage()
        stored: StoredUpload | None = None
        try:
            upload = sniff(body) if body else None
            if upload is not None and upload.kind != "unknown":
                stored = StoredUpload(upload, await self._d.files.store(
                    session.acting.user_id, upload.filename, upload.mime, upload.data))
            handler = self._handlers.get(command)
            if handler is None and session.style.unknown_chats:
                command, args, handler = "chat", prompt.strip(), self._chat
            if upload is not None and upload.kind == "audio":
                heard = (await self._d.media.transcribe(session.acting, upload)).strip()
                args = f"{args}\n{heard}".strip()
            async for item in (handler or self._help)(session, args, stored):
                if isinstance(item, TokenUsage):
                    usage = _add(usage, item)
                elif isinstance(item, StoredFile):
                    made.append(item)
                    yield await self._d.files.data_uri(session.acting.user_id, item.id)
                else:
                    said.append(item)
                    yield item
        except DomainError as exc:
            said.append(sentence(exc))
            yield said[-1]
        if command not in ("chat", "retry"):
            await self._log(session, prompt, stored, "".join(said), made, usage)

    # -- commands ---------------------------------------------------------------------------
    async def _chat(self, s: Session, args: str, stored: StoredUpload | None) -> AsyncIterator[Chunk]:
        parts = text_parts(args) + ([_part(stored.file)] if stored else [])
        if not args and not (stored and stored.upload.kind == "image"):
            yield "Please write something after /chat.\n"
            return
        async for chunk in self._answer(s, ChatRequest(conversation_id=s.chat.id, parts=parts)):
            yield chunk

    async def _retry(self, s: Session, args: str, stored: StoredUpload | None) -> AsyncIterator[Chunk]:
        async for chunk in self._answer(s, ChatRequest(conversation_id=s.chat.id, regenerate=True)):
            yield chunk

    async def _answer(self, s: Session, request: ChatRequest) -> AsyncIterator[Chunk]:
        llm = self._d.runtime.current.llm
        penalties = {"frequency_penalty": llm.frequency_penalty, "presence_penalty": llm.presence_penalty}
        request = request.model_copy(update={
            "model": self.model_of(s), "temperature": llm.temperature, "max_tokens": llm.max_tokens,
            "top_p": llm.top_p, "extra": {k: v for k, v in penalties.items() if v is not None},
            "streamed": s.style.streamed,
        })
        async for event in stream_turn(self._d.engine, request, s.acting):
            if isinstance(event, TextDelta):
                yield event.text
            elif isinstance(event, Failed):
                yield sentence(DomainError(event.message))

    async def _mode(self, s: Session, args: str, stored: StoredUpload | None) -> AsyncIterator[Chunk]:
        if args:
            yield await self.set_mode(s, args.split()[0])
            return
        current = self.model_of(s) or self._d.models.default_model
        models = await self._d.models.available(s.acting)
        yield "Models:\n" + "".join(f"{m.id}{' (current)' if m.id == current else ''}\n" for m in models)
        yield "Choose one with /mode <model>.\n"

    async def _balance(self, s: Session, args: str, stored: StoredUpload | None) -> AsyncIterator[Chunk]:
        quota = await self._d.quotas.quota(s.acting.user_id)
        if quota.unlimited:
            yield f"Your token allowance is unlimited ({quota.used} tokens used so far).\n"
        else:
            yield f"You have {quota.remaining} tokens left (allowance {quota.allowance}, used {quota.used}).\n"

    async def _state(self, s: Session, args: str, stored: StoredUpload | None) -> AsyncIterator[Chunk]:
        used = await self._d.quotas.summary(s.acting.user_id, self._d.clock.now())
        model = self.model_of(s) or self._d.models.default_model
        yield (f"Token use — total: {used.total}, today: {used.today}, last 7 days: {used.last_7_days}, "
               f"last 30 days: {used.last_30_days}\nCurrent model: {model}\n")

    async def _clear(self, s: Session, args: str, stored: StoredUpload | None) -> AsyncIterator[Chunk]:
        cleared = await self._d.conversations.clear(s.acting, s.chat.id)
        log = await self._conversation(s.acting, f"{s.platform}-log", s.external_id)
        cleared += await self._d.conversations.clear(s.acting, log.id)
        yield f"History cleared ({cleared} messages marked deleted; nothing is lost).\n"

    async def _photo(self, s: Session, args: str, stored: StoredUpload | None) -> AsyncIterator[Chunk]:
        async for item in self._d.media.photo(s.acting, args, stored.upload if stored else None):
            yield item

    async def _video(self, s: Session, args: str, stored: StoredUpload | None) -> AsyncIterator[Chunk]:
        async for item in self._d.media.video(s.acting, args, progress=s.style.progress):
            yield item

    async def _task(
        self, s: Session, args: str, stored: StoredUpload | None, mcp: bool = False
    ) -> AsyncIterator[Chunk]:
        if not args:
            yield f"Please describe the task after /{'mcp' if mcp else 'task'}.\n"
            return
        llm = self._d.runtime.current.llm
        job = AgentJob(s.acting, args, s.external_id, f"{s.platform}-agent", self.model_of(s), llm.planner_model,
                       llm.max_task_steps, mcp=mcp, streamed=s.style.streamed)
        async for item in self._d.agents.run(job):
            yield item

    async def _mcp(self, s: Session, args: str, stored: StoredUpload | None) -> AsyncIterator[Chunk]:
        async for item in self._task(s, args, stored, mcp=True):
            yield item

    async def _help(self, s: Session, args: str, stored: StoredUpload | None) -> AsyncIterator[Chunk]:
        yield HELP

    # -- storage ----------------------------------------------------------------------------
    async def _conversation(self, acting: Principal, origin: str, key: str) -> Conversation:
        found = await self._d.conversations.find(acting, origin, key)
        return found or await self._d.conversations.create(acting, NewConversation(
            title=f"{origin} {key}"[:200], origin=origin, external_key=key))

    async def _log(self, s: Session, question: str, stored: StoredUpload | None, answer: str,
                   made: list[StoredFile], usage: TokenUsage) -> None:
        log = await self._conversation(s.acting, f"{s.platform}-log", s.external_id)
        now = self._d.clock.now()
        asked = text_parts(question) + ([_part(stored.file)] if stored else [])
        answered = text_parts(answer) + [_part(f) for f in made]
        async with self._d.uow() as tx:
            await tx.messages.add(Message(id=0, conversation_id=log.id, role="user", parts=asked,
                                          status=MessageStatus.COMPLETED, created_at=now, updated_at=now))
            await tx.messages.add(Message(id=0, conversation_id=log.id, role="assistant", parts=answered,
                                          status=MessageStatus.COMPLETED, created_at=now, updated_at=now,
                                          usage=usage))
            await tx.conversations.touch(log.id, now)


def _part(file: StoredFile) -> Part:
    return Part(type=_KIND_TO_PART.get(file.kind, "file"), file_id=file.id, mime=file.mime, name=file.name)


def _add(a: TokenUsage, b: TokenUsage) -> TokenUsage:
    return TokenUsage(prompt_tokens=a.prompt_tokens + b.prompt_tokens,
                      completion_tokens=a.completion_tokens + b.completion_tokens, estimated=a.estimated or b.estimated)

