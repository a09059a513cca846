"""Pure functions between native wire DTOs and the core's nouns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

import orjson

from switchboard.core.domain.chat import ProviderStatus
from switchboard.core.domain.conversations import Conversation, ConversationSettings, Message, Part
from switchboard.core.domain.files import StoredFile
from switchboard.core.domain.mcp import McpServerStatus
from switchboard.core.domain.platforms import ImBot
from switchboard.core.domain.quotas import Quota
from switchboard.core.domain.tools import ToolOutcome, ToolSpec
from switchboard.core.domain.users import ApiKey, User
from switchboard.core.services.admin.models import ModelChoice
from switchboard.core.services.conversations.history import ConversationPatch, NewConversation
from switchboard.core.services.quotas.allowances import UsageReport
from switchboard.faces.native.schemas import (
    ConversationBody,
    ConversationOut,
    ConversationPatchBody,
    FileOut,
    MessageBody,
    UserOut,
)


def user_out(user: User) -> dict[str, Any]:
    return UserOut(
        id=user.id, username=user.username, email=user.email, role=user.role.value, is_active=user.is_active,
        created_at=user.created_at,
    ).model_dump(mode="json")


def admin_user_out(user: User, quota: Quota) -> dict[str, Any]:
    return {
        **user_out(user),
        "token_allowance": None if quota.unlimited else quota.allowance,
        "unlimited": quota.unlimited, "tokens_used": quota.used, "tokens_reserved": quota.reserved,
        "tokens_remaining": None if quota.unlimited else quota.remaining,
        "tools": user.settings.get("tools"),
    }


def admin_key_out(key: ApiKey, username: str) -> dict[str, Any]:
    return {**key_out(key), "user_id": key.user_id, "username": username}


def provider_status_out(status: ProviderStatus) -> dict[str, Any]:
    until = status.cooling_down_until
    return {"name": status.name, "base_url": status.base_url, "models": list(status.models),
            "healthy": status.healthy, "cooling_down_until": until.isoformat() if until else None,
            "last_error": status.last_error}


def platform_out(bot: ImBot) -> dict[str, Any]:
    return {"id": bot.platform_id, "type": bot.type, "status": bot.status, "running": bot.running,
            "detail": bot.detail, "accounts": [{"id": k, "online": v} for k, v in bot.accounts.items()],
            "settings": bot.settings}


TOOL_CATEGORIES = ("crawler", "code", "data", "weather", "mcp")


def tool_out(spec: ToolSpec) -> dict[str, Any]:
    return {"name": spec.name, "description": spec.description, "category": spec.category,
            "parameters": spec.parameters, "source": spec.source,
            "available": spec.unavailable is None, "unavailable_reason": spec.unavailable}


def tools_out(specs: list[ToolSpec]) -> dict[str, Any]:
    """Seed 004: `{tools, categorized: {crawler, code, data, weather, ...}, total}`."""
    tools = [tool_out(s) for s in specs]
    categorized: dict[str, list[dict[str, Any]]] = {c: [] for c in TOOL_CATEGORIES}
    for tool in tools:
        categorized.setdefault(tool["category"], []).append(tool)
    return {"tools": tools, "categorized": categorized, "total": len(tools)}


def tool_run_out(name: str, outcome: ToolOutcome) -> dict[str, Any]:
    return {"name": name, "result": _json_or_text(outcome.content), "content": outcome.content,
            "is_error": outcome.is_error, "data": outcome.data, "attachments": list(outcome.attachments)}


def mcp_status_out(status: McpServerStatus, tools: list[ToolSpec]) -> dict[str, Any]:
    out = status.model_dump(mode="json")
    out["config"] = status.config.model_dump(mode="json", exclude_defaults=True)
    out["tools"] = [t.name for t in tools if t.source == f"mcp:{status.name}"]
    return out


def _json_or_text(text: str) -> Any:
    try:
        return orjson.loads(text) if text else None
    except orjson.JSONDecodeError:
        return text


def new_conversation(body: ConversationBody) -> NewConversation:
    settings = ConversationSettings(
        model=body.model, system_prompt=body.system_prompt, temperature=body.temperature,
        max_tokens=body.max_tokens, thinking_enabled=body.thinking_enabled, tools_enabled=body.tools_enabled,
    )
    return NewConversation(title=body.title, settings=settings, project_id=body.project_id, profile_id=body.profile_id)


def conversation_patch(body: ConversationPatchBody) -> ConversationPatch:
    fields = body.model_dump(exclude_unset=True)
    settings = {k: fields.pop(k) for k in list(fields) if k in ConversationSettings.model_fields}
    return ConversationPatch(title=fields.get("title"), project_id=fields.get("project_id"), settings=settings)


# stored origins (each face's own name for itself) -> the names the web app labels conversations by
_ORIGINS = {"webchat": "astrbot", "miochat-openai": "miochat", "gateway": "openai", "qq": "onebot"}


def conversation_out(c: Conversation) -> dict[str, Any]:
    s = c.settings
    return ConversationOut(
        id=c.id, user_id=c.user_id, title=c.title, project_id=c.project_id, model=s.model,
        system_prompt=s.system_prompt, temperature=s.temperature, max_tokens=s.max_tokens,
        thinking_enabled=s.thinking_enabled, tools_enabled=s.tools_enabled, created_at=c.created_at,
        updated_at=c.updated_at, origin=_ORIGINS.get(c.origin, c.origin), profile_id=c.profile_id,
    ).model_dump(mode="json")


# a stored file's kind (AstrBot's names) -> the part that carries it and the kind the web app shows
_PART_TYPES: dict[str, Literal["image", "audio", "video", "file"]] = {
    "image": "image", "record": "audio", "video": "video"}


def file_out(stored: StoredFile) -> dict[str, Any]:
    return FileOut(id=stored.id, name=stored.name, mime=stored.mime, size=stored.size,
                   kind=_PART_TYPES.get(stored.kind, "file")).model_dump()


def message_parts(body: MessageBody, files: Sequence[StoredFile] = ()) -> list[Part]:
    """`files`: the files the body names by id (`images` and `files`), as the caller's own stored
    files (FileService.owned)."""
    known = {f.id: f for f in files}
    parts = [Part(type="text", text=body.content)] if body.content else []
    parts += [_file_part(known[i.file_id], "image") if i.file_id in known else Part(type="image", url=i.url)
              for i in body.images if i.file_id or i.url]
    parts += [_file_part(known[file_id]) for file_id in body.file_ids]
    return parts


def _file_part(f: StoredFile, as_type: Literal["image"] | None = None) -> Part:
    return Part(type=as_type or _PART_TYPES.get(f.kind, "file"), file_id=f.id, name=f.name, mime=f.mime, size=f.size)


def message_out(m: Message) -> dict[str, Any]:
    """A message as the wire's MessageOut (schemas.py), built as the dict that model's JSON dump
    gives: validating and dumping the model cost more than the rest of the plain turn's answer."""
    usage = m.usage
    return {
        "id": m.id, "conversation_id": m.conversation_id, "role": m.role, "content": m.text,
        "parts": [p.model_dump(exclude_none=True) for p in m.parts], "reasoning": m.reasoning,
        "tool_calls": [c.model_dump() for c in m.tool_calls], "tool_call_id": m.tool_call_id, "name": m.name,
        "status": m.status.value, "model": m.model,
        "usage": {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}
        if usage else None,
        "error": m.error, "created_at": _json_time(m.created_at), "updated_at": _json_time(m.updated_at),
        "files": [{"id": p.file_id, "name": p.name or "file", "mime": p.mime or "application/octet-stream",
                   "size": p.size or 0, "kind": p.type if p.type != "text" else "file"}
                  for p in m.parts if p.file_id],
    }


def _json_time(moment: datetime) -> str:
    # pydantic's JSON spelling of a datetime: ISO 8601, a zero UTC offset written "Z"
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def key_out(key: ApiKey, secret: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": key.id, "name": key.name, "prefix": key.prefix, "scopes": sorted(s.value for s in key.scopes),
        "created_at": key.created_at.isoformat(), "last_used_at": _iso(key.last_used_at),
        "expires_at": _iso(key.expires_at), "revoked_at": _iso(key.revoked_at),
        "allowed_models": list(key.allowed_models), "rpm_limit": key.rpm_limit, "tpm_limit": key.tpm_limit,
        "token_quota": key.token_quota, "tokens_used": key.tokens_used, "tokens_left": key.tokens_left,
    }
    if secret is not None:
        out["key"] = secret  # shown this once
    return out


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def allowance_out(quota: Quota) -> dict[str, Any]:
    """The caller's own token allowance, as the web app shows it next to the usage."""
    return {"token_allowance": None if quota.unlimited else quota.allowance,
            "tokens_remaining": None if quota.unlimited else quota.remaining, "unlimited": quota.unlimited}


def model_out(choice: ModelChoice) -> dict[str, Any]:
    return {"id": choice.id, "provider": choice.provider, "vision": choice.vision, "available": choice.available}


def usage_out(report: UsageReport) -> dict[str, Any]:
    def numbers(requests: int, prompt: int, completion: int, estimated: int) -> dict[str, int]:
        return {"requests": requests, "prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion, "estimated_requests": estimated}

    rows = []
    for row in report.rows:
        out: dict[str, Any] = {report.by: row.group if report.by != "user" else int(row.group)}
        if report.by == "key":
            out = {"key_id": row.group or None, "name": report.key_names.get(row.group)}
        rows.append({**out, **numbers(row.requests, row.tokens_prompt, row.tokens_completion, row.estimated)})
    total = numbers(*(sum(getattr(r, f) for r in report.rows)
                      for f in ("requests", "tokens_prompt", "tokens_completion", "estimated")))
    return {"since": report.since.isoformat(), "by": report.by, "rows": rows, "total": total}
