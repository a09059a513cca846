"""Uploaded and generated files: metadata here, bytes in a BlobStore."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

_UNSAFE = re.compile(r"[^A-Za-z0-9._\-\u4e00-\u9fff]+")


@dataclass(slots=True)
class StoredFile:
    id: str
    user_id: int
    name: str
    mime: str
    size: int
    kind: str  # image | record | video | file (AstrBot's names; record = audio)
    created_at: datetime


def kind_of(mime: str) -> str:
    major = mime.split("/", 1)[0]
    return {"image": "image", "audio": "record", "video": "video"}.get(major, "file")


def sanitize_filename(name: str | None) -> str:
    """Keep a file name safe to show and to store: no paths, no control or shell characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip("._")[:120]
    return cleaned or "file"


# files a model can read as text: any text/*, these, and unnamed types (octet-stream) with these suffixes
_TEXT_MIMES = frozenset({
    "application/json", "application/xml", "application/yaml", "application/x-yaml", "application/toml",
    "application/javascript", "application/x-sh", "application/sql", "application/csv", "application/x-python",
})
_TEXT_SUFFIXES = frozenset({
    "txt", "md", "markdown", "csv", "tsv", "json", "jsonl", "yaml", "yml", "toml", "ini", "cfg", "log", "xml", "html",
    "css", "js", "ts", "py", "java", "c", "h", "cpp", "go", "rs", "rb", "php", "sh", "sql", "kt", "swift", "tex",
})


def is_text(stored: StoredFile) -> bool:
    if stored.mime.startswith("text/") or stored.mime in _TEXT_MIMES:
        return True
    suffix = stored.name.rsplit(".", 1)[-1].lower() if "." in stored.name else ""
    return stored.mime == "application/octet-stream" and suffix in _TEXT_SUFFIXES
