"""Tools the model may call: their public description and the outcome of one call."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import Any

from switchboard.core.domain.users import Principal, Role

EVERYONE = "*"  # in ToolPolicy.code_users: every user may run code


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON Schema of the arguments object
    category: str  # crawler | code | data | weather | mcp | ...
    timeout_s: float = 30.0
    source: str = "builtin"  # builtin | mcp:<server>
    # runs code the caller writes (run_python): only for administrators and the users they name
    runs_code: bool = False
    # why the tool cannot run, for this user or on this server (no sandbox); None = it can
    unavailable: str | None = None

    def to_openai(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    content: str
    is_error: bool = False
    data: Any = None  # structured result when the tool has one
    attachments: tuple[str, ...] = field(default_factory=tuple)  # stored file ids


@dataclass(frozen=True, slots=True)
class ToolContext:
    """Who runs the tool, so a tool can reach that user's files and nothing else."""

    user_id: int
    conversation_id: str | None = None
    allow_private_network: bool = False


def as_seen_by(spec: ToolSpec, principal: Principal | None, code_users: Collection[str]) -> ToolSpec:
    """The spec as one user sees it: a tool that runs code is unavailable to everyone but the
    administrators and the users in `code_users` (EVERYONE opens it to all). Nobody in particular
    (None) is nobody allowed. Administrators are users with the admin role, whatever credential
    they came with; the allow-list names users too."""
    if not spec.runs_code or spec.unavailable is not None:
        return spec
    if principal is not None and (
        principal.role is Role.ADMIN or EVERYONE in code_users or principal.username in code_users
    ):
        return spec
    return replace(spec, unavailable="running code is limited to administrators and the users they allow")
