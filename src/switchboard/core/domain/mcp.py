"""MCP servers as the admin sees them: one entry of the Claude-desktop `mcpServers` map, and its status.

A config entry looks like `{"command": "npx", "args": [...], "env": {...}}` (a child process spoken to
over stdio) or `{"url": "https://...", "headers": {...}}` (streamable HTTP, or legacy SSE when the URL
ends in `/sse` or the transport says so). Other clients spell the transport `type`; both are accepted.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from switchboard.core.domain.errors import InvalidInput

McpTransport = Literal["stdio", "http", "sse"]
McpState = Literal["connected", "connecting", "error", "disabled"]

# Spellings of the transport seen in the wild (Claude desktop, Claude Code, Cursor, VS Code).
_TRANSPORT_ALIASES: dict[str, McpTransport] = {
    "stdio": "stdio",
    "http": "http",
    "streamable-http": "http",
    "streamable_http": "http",
    "streamablehttp": "http",
    "sse": "sse",
}

SERVER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
TOOL_NAME_MAX = 64  # what OpenAI-compatible function calling accepts
_UNSAFE_TOOL_CHARS = re.compile(r"[^A-Za-z0-9_-]")


class McpServerConfig(BaseModel):
    """One server entry. Unknown keys from other clients (`alwaysAllow`, `timeout`, ...) are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    url: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    transport: McpTransport | None = None
    type: str | None = Field(default=None, max_length=40)  # the client's own spelling, kept to be shown back
    description: str = ""
    disabled: bool = False

    @model_validator(mode="before")
    @classmethod
    def _accept_type_spelling(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        raw = data.get("transport") or data.get("type")
        if raw is None:
            return data
        spelled = _TRANSPORT_ALIASES.get(str(raw).strip().lower())
        if spelled is None:
            raise ValueError(f"unknown MCP transport {raw!r}: use stdio, http or sse")
        return {**data, "transport": spelled}

    @model_validator(mode="after")
    def _has_an_endpoint(self) -> McpServerConfig:
        if self.resolved_transport == "stdio":
            if not (self.command and self.command.strip()):
                raise ValueError("a stdio MCP server needs a command")
        elif not (self.url and self.url.strip()):
            raise ValueError(f"an {self.resolved_transport} MCP server needs a url")
        return self

    @property
    def resolved_transport(self) -> McpTransport:
        """The explicit transport, else: a command means stdio, a URL ending in /sse legacy SSE,
        any other URL streamable HTTP."""
        if self.transport is not None:
            return self.transport
        if self.command:
            return "stdio"
        if self.url and self.url.split("?", 1)[0].rstrip("/").endswith("/sse"):
            return "sse"
        return "http"

    def redacted(self) -> McpServerConfig:
        """The entry as shown to people: `env` and `headers` often hold API tokens."""
        return self.model_copy(update={
            "env": {k: SECRET_MASK for k in self.env}, "headers": {k: SECRET_MASK for k in self.headers},
        })

    def keeping_secrets_of(self, previous: McpServerConfig | None) -> McpServerConfig:
        """An edited entry sent back with masked values keeps the stored ones for those keys."""
        if previous is None:
            return self
        return self.model_copy(update={
            "env": {k: previous.env.get(k, v) if v == SECRET_MASK else v for k, v in self.env.items()},
            "headers": {k: previous.headers.get(k, v) if v == SECRET_MASK else v for k, v in self.headers.items()},
        })


class McpServerStatus(BaseModel):
    """What the admin sees for one server. `error` keeps the last failure while reconnecting."""

    name: str
    transport: McpTransport
    state: McpState
    error: str | None = None
    tool_count: int = 0
    config: McpServerConfig

    def redacted(self) -> McpServerStatus:
        return self.model_copy(update={"config": self.config.redacted()})


SECRET_MASK = "***"


def validate_server_name(name: str) -> str:
    """Server names prefix tool names, so they are kept to the characters a tool name may hold."""
    if not SERVER_NAME_PATTERN.match(name):
        raise InvalidInput(
            "an MCP server name is 1-40 letters, digits, '_' or '-', starting with a letter or digit",
            param="name",
        )
    return name


def mcp_tool_name(server: str, tool: str) -> str:
    """`<server>__<tool>` with unsafe characters replaced; a name over the limit is cut and given a
    short hash of the full name, so two long names never end up the same."""
    full = _UNSAFE_TOOL_CHARS.sub("_", f"{server}__{tool}")
    if len(full) <= TOOL_NAME_MAX:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:8]
    return f"{full[: TOOL_NAME_MAX - 9]}_{digest}"
