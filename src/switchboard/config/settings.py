"""Settings: a YAML file (``--config`` or ``SWITCHBOARD_CONFIG``) under environment variables
``SWITCHBOARD_<KEY>`` (one per top-level key; structured values as JSON). Read only by `app`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from switchboard.config.face_settings import ChatgptProxySettings, MiochatSettings, MusebotSettings
from switchboard.config.section import Section
from switchboard.core.domain.platform_settings import PlatformSettings


class ProviderSettings(Section):
    name: str
    base_url: str
    api_key: str | None = None
    models: list[str] | None = None  # None: ask GET {base_url}/models
    timeout: float = 600.0  # whole request
    connect_timeout: float = 10.0
    first_byte_timeout: float = 120.0
    idle_timeout: float = 120.0  # longest silence between two chunks
    max_retries: int = 2
    max_connections: int = 256  # aiohttp's per-host default of 100 silently queues the rest
    headers: dict[str, str] = Field(default_factory=dict)
    weight: int = 1  # share of traffic when several providers serve one model


class AdminSettings(Section):
    username: str = "admin"
    password: str


class PasswordSettings(Section):
    """argon2id cost. The defaults follow argon2-cffi's recommendation; lower them only for tests."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4


class QuotaSettings(Section):
    # held per call before the model answers: prompt estimate + this many completion tokens
    # (capped by the request's max_tokens and by what the user has left)
    completion_reserve: int = 4096
    min_completion: int = 16  # refuse when less than this is left for the answer


class WorkerSettings(Section):
    """Worker heartbeats: a worker process not seen for `dead_after_seconds` is dead, and another
    (or the next to start) interrupts its streaming answers and releases its reserved tokens."""

    heartbeat_seconds: float = Field(default=10.0, gt=0)
    dead_after_seconds: float = Field(default=60.0, gt=0)
    # an IM platform's dialled connection (Telegram polling, forward OneBot) runs in the one worker
    # holding its lease; another takes it over within about this long after that worker dies
    platform_lease_seconds: float = Field(default=15.0, ge=1.0, le=600.0)


class StreamingSettings(Section):
    heartbeat_seconds: float = 15.0
    flush_seconds: float = 2.0  # how often a streaming answer is written to the database
    cancel_on_disconnect: bool = True
    # resumable answers (GET /api/messages/{id}/stream): how long an answer outlives a client that
    # went away while cancel_on_disconnect is on, and how long and how much of its events are kept
    resume_grace_seconds: float = Field(default=10.0, ge=0)
    resume_ttl_seconds: float = Field(default=600.0, gt=0)
    # once an answer has ended its events are kept this long only (a resume later gets the stored
    # message): a busy server would otherwise hold every token of the last ten minutes
    resume_ended_ttl_seconds: float = Field(default=30.0, gt=0)
    resume_max_events: int = Field(default=20_000, ge=100)


class LimitSettings(Section):
    max_body_bytes: int = 2 * 1024 * 1024
    max_upload_bytes: int = 20 * 1024 * 1024
    max_message_chars: int = 200_000
    history_messages: int = 100
    # failed password logins (and Mio-Chat code guesses, taken names at registration) before 429,
    # per account name and per client address, in a window opened by the first failure
    login_failures_per_account: int = Field(default=5, ge=0)
    login_failures_per_address: int = Field(default=20, ge=0)
    login_window_seconds: float = Field(default=900.0, gt=0)
    ws_idle_seconds: float = Field(default=300.0, gt=0)  # a WebSocket silent this long is closed
    ws_turns_per_socket: int = Field(default=4, ge=1)  # answers one WebSocket may have running at once
    ws_turns_per_user: int = Field(default=8, ge=1)  # ... and all sockets of one user together


class MediaSettings(Section):
    """Default models of the non-chat APIs (a face may let the caller pick another)."""

    image_model: str = "gpt-image-1"
    image_edit_model: str = "gpt-image-1"
    transcription_model: str = "whisper-1"
    speech_model: str = "tts-1"
    embedding_model: str = "text-embedding-3-small"
    video_model: str = "sora-2"
    video_poll_seconds: float = 5.0  # how often a video job's status is asked for


class GatewaySettings(Section):
    """The OpenAI-compatible gateway (/v1/*)."""

    log_content: bool = False  # store requests and answers as conversations (origin "gateway"); else usage only
    cooldown_seconds: float = 30.0  # a provider that keeps failing sits out this long
    failures_to_cool: int = 3  # consecutive failures (before the first byte) that start a cool-down
    # quota leases: a limited user's allowance is reserved in blocks of this many tokens, and calls
    # are held from the block in memory (0: one database reservation per call)
    lease_tokens: int = Field(default=20_000, ge=0)
    lease_idle_seconds: float = Field(default=5.0, gt=0)  # an unused block goes back after this long


class ToolSettings(Section):
    max_rounds: int = 8
    output_limit_chars: int = 20_000
    default_timeout_seconds: float = 30.0
    allowed: list[str] | None = None  # admin allow-list; None = every tool
    allow_private_network: bool = False  # crawler may reach 10.x/127.x/169.254.x ...
    weather_base_url: str = "https://api.open-meteo.com"
    geocoding_base_url: str = "https://geocoding-api.open-meteo.com"
    code_timeout_seconds: float = 10.0  # run_python's wall-clock limit
    code_memory_mb: int = 256  # run_python's address-space limit
    # who may use run_python besides the administrators: usernames, or "*" for every user
    code_users: list[str] = Field(default_factory=list)
    # bubblewrap, run_python's sandbox (a name on PATH or a path); without it run_python is off
    code_bwrap_path: str = "bwrap"
    code_python: str | None = None  # the interpreter in the sandbox; None: /usr/bin/python3, else the server's
    mcp_call_timeout_seconds: float = 60.0  # one MCP tool call
    mcp_connect_timeout_seconds: float = 30.0  # one MCP connect attempt (startup waits for the first)

    @field_validator("code_users", mode="before")
    @classmethod
    def _everyone(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value  # `code_users: "*"` reads as a list of one


def _repo_web_build() -> Path:
    """`web/dist` of the source checkout this package runs from (src/switchboard -> the repo)."""
    return Path(__file__).resolve().parents[3] / "web" / "dist"


class WebSettings(Section):
    """The web app at `/`: the folder of its Vite build (`./scripts/build-web` makes it)."""

    dist_dir: Path = Field(default_factory=_repo_web_build)


class MetricsSettings(Section):
    """GET /metrics (Prometheus). Not public: an administrator's token or an admin-scope key."""

    public: bool = False  # true: anyone who reaches the server may read it (a scraper on a private network)


class S3Settings(Section):
    """An S3-compatible object store; credentials left out come from boto3's chain (AWS_* variables, ~/.aws, a role)."""

    bucket: str = Field(min_length=1)
    endpoint_url: str | None = None  # None: AWS itself; e.g. http://minio:9000 for MinIO
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    prefix: str = ""  # prepended to every object's name, e.g. "switchboard/"
    max_connections: int = Field(default=32, ge=1)


class FileStoreSettings(Section):
    """Where uploaded and generated files live: a directory (one shared volume for several hosts)
    or an S3-compatible object store."""

    store: Literal["local", "s3"] = "local"
    directory: Path | None = None  # the `local` store's folder; None: <data_dir>/files
    s3: S3Settings | None = None

    @model_validator(mode="after")
    def _s3_needs_its_section(self) -> FileStoreSettings:
        if self.store == "s3" and self.s3 is None:
            raise ValueError("store 's3' needs an 's3' section with at least a bucket")
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SWITCHBOARD_", extra="forbid", populate_by_name=True)

    data_dir: Path = Path("./data")
    database_url: str | None = None  # default: sqlite+aiosqlite:///<data_dir>/switchboard.db
    redis_url: str | None = None
    providers: list[ProviderSettings] = Field(default_factory=list)
    default_model: str | None = None
    model_aliases: dict[str, str] = Field(default_factory=dict)
    admin: AdminSettings | None = None
    registration: Literal["open", "closed"] = "open"
    default_token_allowance: int = 0  # 0 = unlimited
    jwt_ttl_minutes: int = 60 * 24
    # signs access tokens; every worker and host must share it. Unset: made once and kept in the
    # database (PostgreSQL), or in <data_dir>/secret.key (SQLite, one host)
    secret_key: SecretStr | None = Field(default=None, min_length=32)
    # how long a resolved credential is trusted without a database read; changes made on another
    # worker (logout, key revoked, user deactivated) take effect within this many seconds
    auth_cache_seconds: float = 5.0
    quota: QuotaSettings = Field(default_factory=QuotaSettings)
    workers: WorkerSettings = Field(default_factory=WorkerSettings)
    passwords: PasswordSettings = Field(default_factory=PasswordSettings)
    streaming: StreamingSettings = Field(default_factory=StreamingSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    tools: ToolSettings = Field(default_factory=ToolSettings)
    chatgpt_proxy: ChatgptProxySettings = Field(default_factory=ChatgptProxySettings)
    miochat: MiochatSettings = Field(default_factory=MiochatSettings)
    musebot: MusebotSettings = Field(default_factory=MusebotSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    files: FileStoreSettings = Field(default_factory=FileStoreSettings)
    platforms: list[PlatformSettings] = Field(default_factory=list)  # IM bots (core/domain/platform_settings.py)
    mcp_servers: dict[str, dict[str, Any]] = Field(default_factory=dict, alias="mcpServers")
    cors_origins: list[str] = Field(default_factory=list)
    log_level: str = "info"
    log_format: Literal["text", "json"] = "text"
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)  # json: one object per line, with the request id

    @field_validator("platforms")
    @classmethod
    def _unique_platform_ids(cls, value: list[PlatformSettings]) -> list[PlatformSettings]:
        ids = [p.id for p in value]
        if len(ids) != len(set(ids)):
            raise ValueError("platform ids must be unique")
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'switchboard.db').resolve()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # environment first, then what the loader passed in (the YAML file's keys)
        return (env_settings, init_settings)
