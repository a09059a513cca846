"""Logging for `switchboard serve`: uvicorn's own set-up, plus one filter on every handler that
takes credentials out of each line before it is written.

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
from typing import Any

from uvicorn.config import LOGGING_CONFIG

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


def logging_config(level: str) -> dict[str, Any]:
    """uvicorn's logging configuration with the filter on every handler, and the root logger
    (where the `switchboard.*` loggers write) on the same stream, format and filter."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": RedactCredentials}}
    config["formatters"]["plain"] = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    config["handlers"]["root"] = {"formatter": "plain", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    config["root"] = {"handlers": ["root"], "level": level.upper()}
    return config
