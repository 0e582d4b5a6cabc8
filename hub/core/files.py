"""Stored files: the one service every caller uses to keep, attach and find message attachments
that are not email MIME parts (agent uploads for replies and notes, chat provider downloads).

A file is stored first (``message_id`` NULL for an upload) and attached to a message later;
attaching also appends its filename/content_type/size to ``Message.attachments`` so the
timeline lists it at the same position the download routes serve it from.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.file_models import StoredFile
from hub.db.models import Message

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_FILENAME = 255
OCTET_STREAM = "application/octet-stream"

_UNSAFE = re.compile(r'[\\/:*?"<>|]')
_MIME = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
# Leading bytes of common formats; they win over a declared type that disagrees.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)


class FileTooLarge(Exception):
    """The file is larger than the configured cap; nothing was stored."""

    def __init__(self, filename: str, size: int, limit: int) -> None:
        super().__init__(f"{filename} is {size} bytes; the limit is {limit} bytes")
        self.filename = filename
        self.size = size
        self.limit = limit


class FileRefused(Exception):
    """A file id cannot be attached; ``reason`` is ``unknown`` or ``attached``."""

    def __init__(self, file_id: int, reason: str) -> None:
        text = (
            f"file {file_id} is already attached to another message"
            if reason == "attached"
            else f"file {file_id} does not exist or was not uploaded by you"
        )
        super().__init__(text)
        self.file_id = file_id
        self.reason = reason


def safe_filename(name: str) -> str:
    """A name fit for a download header and a mail part: no path, no control characters."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    # Not printable: controls (C0 and C1), format characters such as a right-to-left override
    # (which spoofs an extension), lone surrogates (undecodable bytes; PostgreSQL refuses them).
    name = "".join(ch for ch in name if ch == " " or ch.isprintable())
    name = _UNSAFE.sub("_", name).strip().lstrip(".").strip()
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 16:
            name = stem[: MAX_FILENAME - len(ext) - 1] + "." + ext
        else:
            name = name[:MAX_FILENAME]
    return name or "file"


def sniff_content_type(filename: str, declared: str, content: bytes) -> str:
    """Known leading bytes first, then a well-formed declared type, then the file's extension."""
    for magic, kind in _MAGIC:
        if content.startswith(magic):
            return kind
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    clean = (declared or "").split(";")[0].strip().lower()
    if _MIME.match(clean) and clean != OCTET_STREAM:
        return clean
    guessed, _ = mimetypes.guess_type(filename, strict=False)
    return guessed or OCTET_STREAM


def served_type(declared: str) -> str:
    """A content type safe to name in a download header (anything malformed: octet-stream)."""
    clean = (declared or "").split(";")[0].strip().lower()
    return clean if _MIME.match(clean) else OCTET_STREAM


def file_meta(row: StoredFile) -> dict[str, Any]:
    """The ``Message.attachments`` entry for a stored file."""
    return {
        "filename": row.filename,
        "content_type": row.content_type,
        "size": row.size,
        "file_id": row.id,
    }


async def store_file(
    session: AsyncSession,
    *,
    filename: str,
    content_type: str,
    content: bytes,
    now: datetime,
    message_id: int | None = None,
    position: int | None = None,
    uploaded_by: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> StoredFile:
    """Keep one file (flushed, so it has an id). With ``message_id`` the caller owns the
    message's ``attachments`` metadata and passes the position it listed the file at."""
    name = safe_filename(filename)
    if len(content) > max_bytes:
        raise FileTooLarge(name, len(content), max_bytes)
    if message_id is not None and position is None:
        last = await session.scalar(
            select(StoredFile.position)
            .where(StoredFile.message_id == message_id, StoredFile.position.is_not(None))
            .order_by(StoredFile.position.desc())
            .limit(1)
        )
        position = 0 if last is None else last + 1
    row = StoredFile(
        message_id=message_id,
        position=position if message_id is not None else None,
        filename=name,
        content_type=sniff_content_type(name, content_type, content)[:200],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_by=uploaded_by,
        created_at=now,
    )
    session.add(row)
    await session.flush()
    return row


async def attach_files(
    session: AsyncSession, message_id: int, file_ids: Sequence[int], *, agent_id: int | None
) -> list[StoredFile]:
    """Attach uploaded files to a message, after its existing attachments, in the given order.

    With ``agent_id`` only that agent's uploads qualify. Raises ``FileRefused`` for an unknown
    or foreign id, or one already attached (checked atomically); the caller rolls back."""
    message = await session.get(Message, message_id)
    if message is None:
        raise LookupError(f"message {message_id} does not exist")
    ids = list(dict.fromkeys(file_ids))
    if not ids:
        return []
    rows = {
        row.id: row
        for row in (await session.scalars(select(StoredFile).where(StoredFile.id.in_(ids)))).all()
    }
    for file_id in ids:
        row = rows.get(file_id)
        if row is None or (agent_id is not None and row.uploaded_by != agent_id):
            raise FileRefused(file_id, "unknown")
        if row.message_id is not None:
            raise FileRefused(file_id, "attached")
    listed = list(message.attachments or [])
    attached = []
    for file_id in ids:
        position = len(listed)
        claimed = await session.execute(
            update(StoredFile)
            .where(StoredFile.id == file_id, StoredFile.message_id.is_(None))
            .values(message_id=message_id, position=position)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            raise FileRefused(file_id, "attached")
        row = rows[file_id]
        row.message_id, row.position = message_id, position
        listed.append(file_meta(row))
        attached.append(row)
    message.attachments = listed
    await session.flush()
    return attached


async def file_for(session: AsyncSession, message_id: int, position: int) -> StoredFile | None:
    return await session.scalar(
        select(StoredFile).where(
            StoredFile.message_id == message_id, StoredFile.position == position
        )
    )


async def files_of(session: AsyncSession, message_id: int) -> list[StoredFile]:
    rows = await session.scalars(
        select(StoredFile).where(StoredFile.message_id == message_id).order_by(StoredFile.position)
    )
    return list(rows.all())


async def purge_unattached(session: AsyncSession, *, before: datetime) -> int:
    """Forget uploads no message took before ``before``; returns how many."""
    result = await session.execute(
        delete(StoredFile)
        .where(StoredFile.message_id.is_(None), StoredFile.created_at < before)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
