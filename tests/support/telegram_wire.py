"""What the fake Bot API (tests/support/telegram_api.py) hears and says: a recorded call, the
parameters as Telegram reads them, its HTML parse mode, and the JSON envelopes."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import orjson
from aiohttp import web

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "span",
                "tg-spoiler", "blockquote", "tg-emoji"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    answer: dict[str, Any] = field(default_factory=dict)  # what the fake answered


class Html(HTMLParser):
    """Telegram's reading of parse_mode HTML: the text without tags; unknown or unbalanced tags refused."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text, self.open, self.error = "", list[str](), None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.error = f"Unsupported start tag \"{tag}\""
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.error = f"Can't find end tag corresponding to start tag \"{tag}\""

    def handle_data(self, data: str) -> None:
        self.text += data


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Parameters as Telegram reads them: the query string, a JSON body, or form fields (JSON values in them)."""
    params: dict[str, Any] = dict(request.query)
    files: dict[str, bytes] = {}
    if request.content_type == "application/json":
        body = await request.read()
        params.update(orjson.loads(body) if body else {})
    elif request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = value.file.read()
            else:
                text = str(value)
                with contextlib.suppress(orjson.JSONDecodeError):
                    params[key] = orjson.loads(text) if text[:1] in "{[" else text
                params.setdefault(key, text)
    return params, files


def update_id(update: Any) -> int | None:
    return update.get("update_id") if isinstance(update, dict) and isinstance(update.get("update_id"), int) else None


def error(code: int, description: str, *, retry_after: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        error["parameters"] = {"retry_after": retry_after}
    return error


def json_response(body: dict[str, Any], status: int) -> web.Response:
    clean = {**body, "result": _public(body["result"])} if "result" in body else body
    return web.Response(body=orjson.dumps(clean), status=status, content_type="application/json")


def _public(value: Any) -> Any:
    """What goes on the wire: the fake's own bookkeeping (`_parse_mode`) left out."""
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if not k.startswith("_")}
    return value
