"""Files people upload or tools and models produce: metadata in the database, bytes in a BlobStore."""

from __future__ import annotations

import base64
import re

from switchboard.core.domain.errors import InvalidInput, NotFound, PayloadTooLarge
from switchboard.core.domain.files import StoredFile, is_text, kind_of, sanitize_filename
from switchboard.core.domain.ids import new_id
from switchboard.core.domain.users import Principal
from switchboard.core.ports.blobs import BlobStore
from switchboard.core.ports.storage import UnitOfWork
from switchboard.core.ports.system import Clock

MAX_PARTS = 10_000
_UPLOAD_NAME = re.compile(r"^[0-9A-Za-z]{8,64}$")


class FileService:
    def __init__(self, uow: UnitOfWork, blobs: BlobStore, clock: Clock, max_bytes: int) -> None:
        self._uow = uow
        self._blobs = blobs
        self._clock = clock
        self.max_bytes = max_bytes

    async def store(self, user_id: int, name: str | None, mime: str | None, data: bytes) -> StoredFile:
        if len(data) > self.max_bytes:
            raise PayloadTooLarge(f"file is larger than the limit of {self.max_bytes} bytes")
        if not data:
            raise InvalidInput("the file is empty", param="file")
        mime = (mime or "application/octet-stream").split(";", 1)[0].strip().lower()
        stored = StoredFile(
            id=new_id("file"), user_id=user_id, name=sanitize_filename(name), mime=mime, size=len(data),
            kind=kind_of(mime), created_at=self._clock.now(),
        )
        # bytes first: a row never points at a missing blob
        await self._blobs.put(stored.id, data)
        async with self._uow() as tx:
            await tx.files.add(stored)
        return stored

    async def upload(self, principal: Principal, name: str | None, mime: str | None, data: bytes) -> StoredFile:
        return await self.store(principal.user_id, name, mime, data)

    async def describe(self, user_id: int, file_id: str) -> StoredFile:
        async with self._uow.read() as tx:
            stored = await tx.files.get(file_id)
        if stored is None or stored.user_id != user_id:
            raise NotFound("file not found")
        return stored

    async def owned(self, user_id: int, file_ids: list[str]) -> list[StoredFile]:
        """The user's files by id, in order; NotFound names the first that is missing or someone else's."""
        found: list[StoredFile] = []
        if not file_ids:  # the usual message: no transaction at all
            return found
        async with self._uow.read() as tx:
            for file_id in file_ids:
                stored = await tx.files.get(file_id)
                if stored is None or stored.user_id != user_id:
                    raise NotFound(f"file '{file_id}' not found", param="files")
                found.append(stored)
        return found

    async def read(self, user_id: int, file_id: str) -> tuple[StoredFile, bytes]:
        stored = await self.describe(user_id, file_id)
        return stored, await self._blobs.get(stored.id)

    async def text(self, user_id: int, file_id: str, max_chars: int) -> str | None:
        """A text file's words for a model (cut at `max_chars`, saying so); None for anything else."""
        stored = await self.describe(user_id, file_id)
        if not is_text(stored):
            return None
        try:
            text = (await self._blobs.get(stored.id)).decode("utf-8")
        except UnicodeDecodeError:
            return None  # binary after all, whatever its name says
        if len(text) > max_chars:
            text = text[:max_chars] + f"\n[... cut: the file has {len(text)} characters, {max_chars} shown]"
        return text

    async def data_uri(self, user_id: int, file_id: str) -> str:
        stored, data = await self.read(user_id, file_id)
        return f"data:{stored.mime};base64,{base64.b64encode(data).decode()}"

    # A file sent in parts (Mio-Chat sends 1 MB chunks, then asks to put them together): each part
    # waits in the blob store under the caller's id and the client's name for the upload.

    def _part_key(self, user_id: int, upload: str, index: int) -> str:
        if not _UPLOAD_NAME.match(upload):
            raise InvalidInput("the upload's name must be 8 to 64 letters or digits", param="upload")
        if not 0 <= index < MAX_PARTS:
            raise InvalidInput(f"a part's index must be between 0 and {MAX_PARTS - 1}", param="index")
        return f"part_{user_id}_{upload}_{index}"

    async def put_part(self, principal: Principal, upload: str, index: int, data: bytes) -> None:
        if len(data) > self.max_bytes:
            raise PayloadTooLarge(f"file is larger than the limit of {self.max_bytes} bytes")
        await self._blobs.put(self._part_key(principal.user_id, upload, index), data)

    async def gather_parts(self, principal: Principal, upload: str, total: int) -> bytes:
        """Parts 0 .. total-1 put together; InvalidInput names the first one missing."""
        if not 1 <= total <= MAX_PARTS:
            raise InvalidInput(f"the number of parts must be between 1 and {MAX_PARTS}", param="total")
        parts, size = [], 0
        for index in range(total):
            try:
                part = await self._blobs.get(self._part_key(principal.user_id, upload, index))
            except NotFound:
                raise InvalidInput(f"part {index} of this upload was not received", param="total") from None
            size += len(part)
            if size > self.max_bytes:
                await self.drop_parts(principal, upload, total)
                raise PayloadTooLarge(f"file is larger than the limit of {self.max_bytes} bytes")
            parts.append(part)
        return b"".join(parts)

    async def drop_parts(self, principal: Principal, upload: str, total: int) -> None:
        for index in range(min(total, MAX_PARTS)):
            await self._blobs.delete(self._part_key(principal.user_id, upload, index))
