"""The composition root: the only place that knows concrete classes and reads settings.

`build_runtime(settings)` wires everything without doing I/O; `Runtime.start()` migrates the
database and starts long-lived parts; `Runtime.close()` stops them."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from switchboard.adapters.providers.catalog import CatalogEntry, ProviderCatalog
from switchboard.adapters.providers.echo import ECHO_MODEL, EchoProvider
from switchboard.adapters.providers.echo_relay import EchoRelay
from switchboard.adapters.providers.openai_compat import OpenAICompatProvider
from switchboard.adapters.providers.router import WeightedRouter
from switchboard.adapters.push.changes import ChangeFeed
from switchboard.adapters.push.redis_bus import RedisPushBus
from switchboard.adapters.security.clock import SystemClock
from switchboard.adapters.storage.migrate import upgrade_database
from switchboard.adapters.storage.uow import SqlUnitOfWork
from switchboard.adapters.tokens.estimate import HeuristicTokenCounter
from switchboard.adapters.tools.builtin.sandbox import SandboxLimits
from switchboard.adapters.tools.builtin_host import BuiltinToolHost
from switchboard.adapters.tools.composite import CompositeToolHost
from switchboard.adapters.tools.mcp_host import McpToolHost
from switchboard.app.accounts_wiring import build_account_services
from switchboard.app.changes import build_change_feed
from switchboard.app.cluster import build_answer_streams, build_leases, build_limiter, build_push_bus, build_throttle
from switchboard.app.file_store import build_blob_store
from switchboard.app.platforms import PlatformHost, build_platform_host
from switchboard.app.telemetry import PrometheusTelemetry
from switchboard.config.settings import Settings
from switchboard.core.domain.errors import Conflict
from switchboard.core.domain.ids import new_id
from switchboard.core.domain.users import Role
from switchboard.core.ports.telemetry import Telemetry
from switchboard.core.services.accounts.auth import AccountService
from switchboard.core.services.accounts.identities import IdentityService
from switchboard.core.services.admin import runtime_config as rc
from switchboard.core.services.admin.models import ModelService
from switchboard.core.services.admin.providers import ProviderAdminService
from switchboard.core.services.bundle import Services
from switchboard.core.services.chat.engine import ChatEngine, EngineSettings
from switchboard.core.services.commands.agents import AgentRunner
from switchboard.core.services.commands.media import MediaCommands
from switchboard.core.services.commands.slash import CommandDeps, CommandService
from switchboard.core.services.conversations.history import ConversationService
from switchboard.core.services.conversations.proactive import ProactiveService
from switchboard.core.services.conversations.profiles import ProfileService
from switchboard.core.services.conversations.records import RecordService
from switchboard.core.services.conversations.shares import ShareService
from switchboard.core.services.gateway.relay import GatewayPolicy, GatewayService
from switchboard.core.services.media.files import FileService
from switchboard.core.services.media.generation import MediaDefaults, MediaService
from switchboard.core.services.quotas.allowances import QuotaPolicy, QuotaService
from switchboard.core.services.quotas.recovery import CrashRecovery, WorkerIdentity, WorkerPolicy
from switchboard.core.services.tools.catalog import McpAdminService, ToolService
from switchboard.core.services.tools.runner import ToolPolicy, ToolRunner
from switchboard.faces._shared.detach import Detacher
from switchboard.platforms._shared.leadership import Leadership

log = logging.getLogger("switchboard")


@dataclass(slots=True)
class Runtime:
    settings: Settings
    services: Services
    uow: SqlUnitOfWork
    catalog: ProviderCatalog
    recovery: CrashRecovery
    builtin_tools: BuiltinToolHost | None = None
    mcp: McpToolHost | None = None
    detacher: Detacher = field(default_factory=Detacher)
    platforms: PlatformHost | None = None  # IM bots; started last, stopped first
    load_signing_secret: Callable[[], Awaitable[None]] | None = None  # when the database keeps it
    changes: ChangeFeed | None = None  # other workers' changes to what this one keeps a copy of
    telemetry: PrometheusTelemetry = field(default_factory=PrometheusTelemetry)  # the core's, for /metrics
    router: WeightedRouter | None = None  # its cool-downs, for /metrics

    async def start(self) -> None:
        await upgrade_database(self.settings.resolved_database_url)
        if self.load_signing_secret is not None:
            await self.load_signing_secret()
        await self.recovery.start()  # what crashed workers left: interrupted, charged, released
        await self.services.answers.start()
        await self._ensure_admin()
        await self.services.runtime_config.load()  # settings changed at runtime, saved earlier
        await self.services.profiles.ensure_default()
        if self.builtin_tools is not None:  # run_python's sandbox self-test; off (and logged) when it fails
            await self.builtin_tools.start()
        if self.mcp is not None:  # waits for each server's first connect attempt
            await self.mcp.start(await self.services.mcp.startup_configs(self.settings.mcp_servers))
        if self.changes is not None:  # after the copies above are made, so a change applies to them
            await self.changes.start()
        await self.catalog.refresh()  # learn upstream model lists; a failing provider only logs
        if self.platforms is not None:  # connects in the background: a platform never holds up start-up
            await self.platforms.load(await self.services.platforms.startup_entries(self.settings.platforms))
            await self.platforms.start()

    def readiness_checks(self) -> dict[str, Callable[[], Awaitable[bool]]]:
        """What /readyz asks: each must answer True for this worker to take traffic."""
        checks = {"database": self.uow.ping, "migrations": self.uow.schema_is_current}
        if isinstance(self.services.push, RedisPushBus):
            checks["redis"] = self.services.push.ping
        return checks

    async def close(self) -> None:
        if self.platforms is not None:
            await self.platforms.close()
        if self.changes is not None:
            await self.changes.close()
        await self.detacher.wait_all()
        await self.services.answers.close()
        await self.services.gateway.close()  # settles the usage still queued
        if self.mcp is not None:
            await self.mcp.close()
        if self.builtin_tools is not None:
            await self.builtin_tools.close()
        await self.catalog.close()
        if self.services.accounts.throttle is not None:
            await self.services.accounts.throttle.close()
        await self.recovery.close()
        await self.uow.close()

    async def _ensure_admin(self) -> None:
        admin = self.settings.admin
        async with self.uow() as tx:
            if await tx.users.count_admins():
                return
        if admin is None:
            log.warning("there is no administrator account: create one with "
                        "`./scripts/switchboard users create NAME --password P --admin` or set admin: in the config")
            return
        try:
            await self.services.accounts.create_user(admin.username, admin.password, role=Role.ADMIN)
            log.info("created the administrator account %r", admin.username)
        except Conflict:
            log.warning("user %r exists but is not an administrator; not changing it", admin.username)



def build_catalog(settings: Settings) -> ProviderCatalog:
    entries = [
        CatalogEntry(
            provider=OpenAICompatProvider(
                name=p.name, base_url=p.base_url, api_key=p.api_key, headers=p.headers, timeout=p.timeout,
                connect_timeout=p.connect_timeout, first_byte_timeout=p.first_byte_timeout,
                idle_timeout=p.idle_timeout, max_retries=p.max_retries, max_connections=p.max_connections,
            ),
            models=p.models,
            weight=p.weight,
        )
        for p in settings.providers
    ]
    return ProviderCatalog(entries, default_model=settings.default_model, aliases=settings.model_aliases,
                           echo=EchoProvider())


@dataclass(frozen=True, slots=True)
class UserFiles:
    """The data tools' window on a user's uploads (adapters.tools.builtin.base.UserFileReader)."""

    files: FileService

    async def read_user_file(self, user_id: int, file_id: str) -> tuple[str, str, bytes]:
        stored, data = await self.files.read(user_id, file_id)
        return stored.name, stored.mime, data


def build_tool_hosts(settings: Settings, files: FileService) -> tuple[BuiltinToolHost, McpToolHost]:
    t = settings.tools
    builtin = BuiltinToolHost(
        allow_private_network=t.allow_private_network, output_limit_chars=t.output_limit_chars,
        weather_base_url=t.weather_base_url, geocoding_base_url=t.geocoding_base_url, files=UserFiles(files),
        max_data_file_bytes=settings.limits.max_upload_bytes,
        sandbox_limits=SandboxLimits(timeout_s=t.code_timeout_seconds, memory_bytes=t.code_memory_mb * 2**20),
        bubblewrap=t.code_bwrap_path, sandbox_python=t.code_python,
    )
    mcp = McpToolHost(call_timeout_s=t.mcp_call_timeout_seconds, connect_timeout_s=t.mcp_connect_timeout_seconds)
    return builtin, mcp


def build_router(settings: Settings, catalog: ProviderCatalog, telemetry: Telemetry) -> WeightedRouter:
    g = settings.gateway
    return WeightedRouter(catalog, cooldown_seconds=g.cooldown_seconds, failures_to_cool=g.failures_to_cool,
                          builtin={ECHO_MODEL: EchoRelay(EchoProvider())}, telemetry=telemetry)


def build_gateway(settings: Settings, router: WeightedRouter, accounts: AccountService, uow: SqlUnitOfWork,
                  quotas: QuotaService, counter: HeuristicTokenCounter, clock: SystemClock) -> GatewayService:
    g = settings.gateway
    limiter = build_limiter(settings)
    return GatewayService(accounts, uow, router, limiter, quotas, counter, clock,
                          GatewayPolicy(log_content=g.log_content, lease_tokens=g.lease_tokens,
                                        lease_idle_seconds=g.lease_idle_seconds))


def build_media(settings: Settings, catalog: ProviderCatalog, files: FileService, quotas: QuotaService,
                uow: SqlUnitOfWork, counter: HeuristicTokenCounter, clock: SystemClock) -> MediaService:
    return MediaService(catalog, files, quotas, uow, counter, clock, MediaDefaults(**settings.media.model_dump()))


def attach_commands(services: Services, settings: Settings, counter: HeuristicTokenCounter,
                    catalog: ProviderCatalog) -> None:
    """Slash commands (MuseBot), platform records and the live settings, made from the other services."""
    m = settings.media
    defaults = rc.RuntimeConfig(
        base=rc.BaseSection(default_model=settings.default_model, registration=settings.registration,
                            default_token_allowance=settings.default_token_allowance),
        llm=rc.LlmSection(tool_rounds=settings.tools.max_rounds),
        audio=rc.AudioSection(transcription_model=m.transcription_model),
        photo=rc.PhotoSection(image_model=m.image_model, image_edit_model=m.image_edit_model),
        video=rc.VideoSection(video_model=m.video_model, video_poll_seconds=m.video_poll_seconds),
    )
    live = rc.RuntimeConfigService(services.uow, defaults, [rc.live_applier(services.media, services.tools,
                                                                            services.accounts, services.identities)])
    # the default model every face chats with when none is chosen follows the live setting
    live.listen(lambda config: catalog.use_default(config.base.default_model))
    agents = AgentRunner(services.chat, services.conversations, services.tools)
    services.runtime_config = live
    services.records = RecordService(services.uow, services.files, services.identities)
    services.commands = CommandService(CommandDeps(
        services.uow, services.clock, services.chat, services.conversations, services.identities, services.quotas,
        services.models, services.files, MediaCommands(services.media, live, counter), agents, live,
    ))


def build_runtime(settings: Settings) -> Runtime:
    wiring = build_account_services(settings)
    clock, uow, accounts = wiring.clock, wiring.uow, wiring.accounts
    accounts.throttle = build_throttle(settings)  # the server's logins only (the command line has none)
    counter = HeuristicTokenCounter()
    catalog = build_catalog(settings)
    worker = WorkerIdentity(new_id("wrk"), socket.gethostname(), os.getpid())
    telemetry = PrometheusTelemetry()
    quotas = QuotaService(uow, QuotaPolicy(settings.quota.completion_reserve, settings.quota.min_completion),
                          worker.id, telemetry)
    files = FileService(uow, build_blob_store(settings), clock, settings.limits.max_upload_bytes)
    builtin_tools, mcp = build_tool_hosts(settings, files)
    tool_host = CompositeToolHost(builtin_tools, mcp)
    tools = ToolRunner(tool_host, ToolPolicy(
        max_rounds=settings.tools.max_rounds,
        allowed=frozenset(settings.tools.allowed) if settings.tools.allowed is not None else None,
        allow_private_network=settings.tools.allow_private_network,
        code_users=frozenset(settings.tools.code_users),
    ))
    engine = ChatEngine(
        uow, catalog, quotas, tools, files, counter, clock,
        EngineSettings(settings.streaming.flush_seconds, settings.limits.history_messages,
                       settings.limits.max_message_chars, settings.tools.allow_private_network),
        telemetry,
    )
    router = build_router(settings, catalog, telemetry)  # its health is what the admin's provider list shows
    push = build_push_bus(settings)
    services = Services(
        uow=uow, clock=clock,
        accounts=accounts,
        keys=wiring.keys, admin=wiring.admin,
        conversations=ConversationService(uow, clock), quotas=quotas, files=files,
        models=ModelService(catalog, router), tools=tools, chat=engine,
        identities=IdentityService(uow, clock, settings.default_token_allowance),
        push=push, profiles=ProfileService(uow, clock), proactive=ProactiveService(uow, clock, push),
        shares=ShareService(uow, clock),
        media=build_media(settings, catalog, files, quotas, uow, counter, clock),
        gateway=build_gateway(settings, router, accounts, uow, quotas, counter, clock),
        providers=ProviderAdminService(router), answers=build_answer_streams(settings, uow, push),
        tool_service=ToolService(uow, tools, tool_host), mcp=McpAdminService(uow, mcp),
    )
    attach_commands(services, settings, counter, catalog)
    recovery = CrashRecovery(uow, counter, clock, worker, WorkerPolicy(settings.workers.heartbeat_seconds,
                                                                       settings.workers.dead_after_seconds))
    leases = build_leases(settings, worker.id)
    # empty until start (the config file's and the saved entries); the admin API may add some at runtime
    platforms = build_platform_host(services, build_limiter(settings),
                                    allow_private_network=settings.tools.allow_private_network,
                                    leadership=Leadership(leases, settings.workers.platform_lease_seconds),
                                    routing_bus=push if isinstance(push, RedisPushBus) else None,
                                    worker_id=worker.id)
    changes = build_change_feed(settings, services, wiring.principals, worker.id)
    return Runtime(settings, services, uow, catalog, recovery, builtin_tools, mcp, platforms=platforms,
                   load_signing_secret=wiring.load_signing_secret, changes=changes, telemetry=telemetry,
                   router=router)
