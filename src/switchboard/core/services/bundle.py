"""Every service, built once by the composition root and handed to faces and platforms."""

from __future__ import annotations

from dataclasses import dataclass, field

from switchboard.core.ports.push import PushBus
from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.ports.system import Clock
from switchboard.core.services.accounts import AccountService
from switchboard.core.services.admin import AdminService
from switchboard.core.services.chat_engine import ChatEngine
from switchboard.core.services.commands import CommandService
from switchboard.core.services.conversations import ConversationService
from switchboard.core.services.files import FileService
from switchboard.core.services.gateway import GatewayService
from switchboard.core.services.identities import IdentityService
from switchboard.core.services.keys import KeyService
from switchboard.core.services.media import MediaService
from switchboard.core.services.models import ModelService
from switchboard.core.services.proactive import ProactiveService
from switchboard.core.services.profiles import ProfileService
from switchboard.core.services.quotas import QuotaService
from switchboard.core.services.records import RecordService
from switchboard.core.services.runtime_config import RuntimeConfigService
from switchboard.core.services.shares import ShareService
from switchboard.core.services.tool_loop import ToolRunner
from switchboard.core.services.tools import McpAdminService, ToolService


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
    # slash commands, platform users' records and live settings (MuseBot); the composition root sets
    # them right after building the rest, because they are made from the services above
    commands: CommandService = field(init=False)
    records: RecordService = field(init=False)
    runtime_config: RuntimeConfigService = field(init=False)
