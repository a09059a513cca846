"""What the Mio-Chat client uploads: which types are taken, and the address an upload gets.

An upload is a stored file (FileService: bytes in the blob store, the size limit
`limits.max_upload_bytes`). Its address `/api/uploaded/<owner>/<file id>` is a capability URL
(the id carries 64 random bits), since the browser shows it in `<img src>` without credentials.
The client sends it back inside its messages, made absolute (`this.host + url`,
src/components/InputEditor.vue): `uploaded_file` recognises it whatever the host, so the model
gets the stored file, not a URL it cannot reach."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from switchboard.core.domain.errors import InvalidInput

UPLOADED = "/api/uploaded"
_ADDRESS = re.compile(r"^/api/uploaded/([1-9][0-9]{0,18})/(file_[0-9a-f]{28})$")

# the image types the client's picker offers (png, jpg, jpeg) and what browsers paste
IMAGE_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}
# documents as the client's picker offers them (src/components/InputEditor.vue: docx, pdf, pptx,
# xlsx), and plain text; served back as downloads, never rendered by the browser
FILE_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".txt": "text/plain", ".md": "text/markdown", ".csv": "text/csv", ".json": "application/json",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
}


def address(owner: int, file_id: str) -> str:
    return f"{UPLOADED}/{owner}/{file_id}"


def uploaded_file(url: str) -> tuple[int, str] | None:
    """(owner, file id) of an upload's address, relative or on any host; None for other URLs."""
    match = _ADDRESS.match(urlsplit(url).path)
    return (int(match[1]), match[2]) if match else None


def image_type(data: bytes) -> str:
    """The image's type from its first bytes (what it claims is not trusted)."""
    for mime, magics in IMAGE_MAGIC.items():
        if data.startswith(magics):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise InvalidInput("not an image: PNG, JPEG, GIF or WebP expected", param="image")


def file_type(name: str | None, data: bytes) -> str:
    """The type a file is stored with, from its name's suffix; images must really be images."""
    suffix = PurePosixPath(name or "").suffix.lower()
    mime = FILE_TYPES.get(suffix)
    if mime is None:
        accepted = ", ".join(sorted(s.lstrip(".") for s in FILE_TYPES))
        raise InvalidInput(f"this file type is not accepted ({suffix or 'no suffix'}); accepted: {accepted}",
                           param="file")
    return image_type(data) if mime.startswith("image/") else mime
