"""Logging for `switchboard serve`: uvicorn's own set-up, plus filters on every handler that take
credentials out of each line before it is written and tag it with its request's id; as text, or as
JSON lines (`log_format: json`) for a log collector.

Clients put API keys where the log sees them: AstrBot and MuseBot accept `?api_key=` / `?key=`,
Mio-Chat `?mio-chat-token=`, and the access log writes every request's path with its query. The
filter sits on the handlers (not the loggers), so it sees records from every logger that reaches
them, ours and the libraries' alike, in every worker process (uvicorn applies this configuration
in each).
"""

from __future__ import annotations

import copy
import logging
import re
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from uvicorn.config import LOGGING_CONFIG

from switchboard.core.domain.correlation import REQUEST_ID

MASK = "***"
# query parameters that carry a secret, in any case; the value runs to the next & or the end
_QUERY_SECRET = re.compile(
    r"(?i)([?&;](?:api[_-]?key|key|token|access[_-]?token|mio-chat-token|password|secret|code)=)[^&#\s\"']*"
)
_API_KEY = re.compile(r"\bsb-[A-Za-z0-9_\-]{6,}")  # a Switchboard API key anywhere in a line
_BEARER = re.compile(r"(?i)\b(bearer|apikey)\s+[A-Za-z0-9._~+/=\-]{8,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]*")


def redact(text: str) -> str:
    """`text` with every credential it spells replaced by ***."""
    if "=" in text:
        text = _QUERY_SECRET.sub(rf"\1{MASK}", text)
    if "sb-" in text:
        text = _API_KEY.sub(f"sb-{MASK}", text)
    if "eyJ" in text:
        text = _JWT.sub(MASK, text)
    return _BEARER.sub(rf"\1 {MASK}", text)


class RedactCredentials(logging.Filter):
    """Rewrites the message and its arguments in place; the arguments keep their shape, because
    uvicorn's access formatter unpacks them (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class TagRequest(logging.Filter):
    """Gives each record the id of the request it was logged for: `request_id` (None outside a
    request) and `request_tag` (" [id]" or "", for the text formats)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = REQUEST_ID.get()
        record.request_id = request_id
        record.request_tag = f" [{request_id}]" if request_id is not None else ""
        return True


_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id; an access-log line also
    has its client, method, path and status as fields, an error its traceback (masked too)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            line.update(zip(_ACCESS_FIELDS, record.args, strict=True))
        if record.exc_info:
            line["error"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(line, default=str).decode()


def logging_config(level: str, log_format: Literal["text", "json"] = "text") -> dict[str, Any]:
    """uvicorn's logging configuration with the filters on every handler, and the root logger
    (where the `switchboard.*` loggers write) on the same stream, format and filters."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": RedactCredentials}, "request": {"()": TagRequest}}
    config["formatters"]["plain"] = {"format": "%(asctime)s %(levelname)s %(name)s%(request_tag)s: %(message)s"}
    config["formatters"]["access"]["fmt"] += "%(request_tag)s"
    config["formatters"]["default"]["fmt"] += "%(request_tag)s"
    config["formatters"]["json"] = {"()": JsonLines}
    config["handlers"]["root"] = {"formatter": "plain", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact", "request"]
        if log_format == "json":
            handler["formatter"] = "json"
    config["root"] = {"handlers": ["root"], "level": level.upper()}
    return config
