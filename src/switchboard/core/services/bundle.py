"""Every service, built once by the composition root and handed to faces and platforms."""

from __future__ import annotations

from dataclasses import dataclass, field

from switchboard.core.ports.push import PushBus
from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.ports.system import Clock
from switchboard.core.services.accounts.auth import AccountService
from switchboard.core.services.accounts.identities import IdentityService
from switchboard.core.services.accounts.keys import KeyService
from switchboard.core.services.admin.models import ModelService
from switchboard.core.services.admin.platforms import PlatformAdminService
from switchboard.core.services.admin.providers import ProviderAdminService
from switchboard.core.services.admin.runtime_config import RuntimeConfigService
from switchboard.core.services.admin.users import AdminService
from switchboard.core.services.chat.engine import ChatEngine
from switchboard.core.services.chat.replay import AnswerStreams
from switchboard.core.services.commands.slash import CommandService
from switchboard.core.services.conversations.history import ConversationService
from switchboard.core.services.conversations.proactive import ProactiveService
from switchboard.core.services.conversations.profiles import ProfileService
from switchboard.core.services.conversations.records import RecordService
from switchboard.core.services.conversations.shares import ShareService
from switchboard.core.services.gateway.relay import GatewayService
from switchboard.core.services.media.files import FileService
from switchboard.core.services.media.generation import MediaService
from switchboard.core.services.quotas.allowances import QuotaService
from switchboard.core.services.tools.catalog import McpAdminService, ToolService
from switchboard.core.services.tools.runner import ToolRunner


@dataclass(slots=True)
class Services:
    uow: UnitOfWork  # for readiness checks only; services own their transactions
    clock: Clock
    accounts: AccountService
    keys: KeyService
    admin: AdminService
    conversations: ConversationService
    quotas: QuotaService
    files: FileService
    models: ModelService
    tools: ToolRunner
    tool_service: ToolService  # the tools API: list, describe, run one by hand
    mcp: McpAdminService
    chat: ChatEngine
    identities: IdentityService
    push: PushBus  # proactive messages to connected clients (WebSocket sessions, bots)
    media: MediaService  # images, audio, embeddings, videos (with files and usage)
    gateway: GatewayService  # the OpenAI-compatible relay: keys, limits, routing, usage
    profiles: ProfileService  # named chat profiles (AstrBot config files)
    proactive: ProactiveService  # the bot speaks first into a platform session
    shares: ShareService  # read-only links to a conversation (Mio-Chat's share)
    providers: ProviderAdminService  # the providers' health, for administrators
    answers: AnswerStreams  # answers a client can come back to after losing its connection
    # slash commands, platform users' records and live settings (MuseBot); the composition root sets
    # them right after building the rest, because they are made from the services above
    commands: CommandService = field(init=False)
    records: RecordService = field(init=False)
    runtime_config: RuntimeConfigService = field(init=False)
    platforms: PlatformAdminService = field(init=False)  # set with the IM platforms' host
