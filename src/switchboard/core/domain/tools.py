"""Tools the model may call: their public description and the outcome of one call."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]  # JSON Schema of the arguments object
    category: str  # crawler | code | data | weather | mcp | ...
    timeout_s: float = 30.0
    source: str = "builtin"  # builtin | mcp:<server>

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
