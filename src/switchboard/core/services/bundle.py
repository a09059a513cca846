"""Every service, built once by the composition root and handed to faces and platforms."""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.ports.system import Clock
from switchboard.core.services.accounts import AccountService
from switchboard.core.services.admin import AdminService
from switchboard.core.services.chat_engine import ChatEngine
from switchboard.core.services.conversations import ConversationService
from switchboard.core.services.files import FileService
from switchboard.core.services.keys import KeyService
from switchboard.core.services.models import ModelService
from switchboard.core.services.quotas import QuotaService
from switchboard.core.services.tool_loop import ToolRunner


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
    chat: ChatEngine
