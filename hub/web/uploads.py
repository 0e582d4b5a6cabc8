"""Files posted with a request: streaming ``multipart/form-data`` with a per-file cap (checked while
reading, so an oversized file is refused without being held in memory whole), and attaching the
files to a reply or note. Used by the agent API's uploads, the agent web app and the widget."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDict, MultiDictProxy
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.settings import AttachmentSettings
from hub.core.errors import (
    bad_upload,
    file_attached,
    file_too_large,
    too_large,
    too_many_files,
    unknown_file,
    unreadable_form,
)
from hub.core.files import (
    FileRefused,
    FileTooLarge,
    attach_files,
    safe_filename,
    store_file,
)
from hub.db.file_models import StoredFile
from hub.db.models import Message

CHUNK = 64 * 1024
# What aiohttp raises on a body it cannot read: undecodable text, an unknown charset, a broken
# multipart structure, a part header with a control character or no colon.
UNREADABLE: tuple[type[Exception], ...] = (
    ValueError,
    LookupError,
    AssertionError,
    HttpProcessingError,
)
# Room for the multipart boundaries and part headers around one file.
ENVELOPE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Upload:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class PostedForm:
    fields: MultiDictProxy[str]
    files: tuple[Upload, ...]


async def _read_part(part: BodyPartReader, limit: int) -> bytes | None:
    """The part's bytes, or None as soon as there are more than ``limit``."""
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > limit:
            return None
    return bytes(data)


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def read_post(
    request: web.Request,
) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """``request.post()`` (read once, then kept by aiohttp), or 400 naming what could not be
    read: a form body is refused as such, never answered 500."""
    try:
        return await request.post()
    except UNREADABLE as exc:
        raise unreadable_form(str(exc) or "malformed form body") from None


def streamed(request: web.Request) -> bool:
    """Whether ``read_form`` streams this request's parts (a multipart post from the web app's
    scripts, whose CSRF token is a header) rather than reading it whole."""
    return request.content_type == "multipart/form-data" and bool(
        request.headers.get("X-CSRF-Token")
    )


async def read_form(
    request: web.Request, settings: AttachmentSettings, text_limit: int
) -> PostedForm:
    """Text fields and files of a form. A multipart body is streamed part by part; any other
    (or one the CSRF check already read) comes from ``request.post()``, within the app's body
    limit."""
    if not streamed(request):
        return _from_post(await read_post(request), settings)
    most = settings.max_files * (settings.max_bytes + ENVELOPE) + text_limit
    if request.content_length is not None and request.content_length > most:
        raise file_too_large(None, settings.max_bytes)
    return await read_multipart(request, settings, text_limit)


def _from_post(
    posted: MultiDictProxy[str | bytes | bytearray | web.FileField], settings: AttachmentSettings
) -> PostedForm:
    fields: MultiDict[str] = MultiDict()
    files: list[Upload] = []
    for key, value in posted.items():
        if isinstance(value, web.FileField):
            content = value.file.read()
            value.file.close()  # aiohttp spooled it to a temporary file
            if not content and not value.filename:
                continue  # an empty file input
            name = safe_filename(value.filename)
            if len(content) > settings.max_bytes:
                raise file_too_large(name, settings.max_bytes)
            files.append(Upload(name, value.content_type, content))
        elif isinstance(value, str):
            fields.add(key, value)
    if len(files) > settings.max_files:
        raise too_many_files(settings.max_files)
    return PostedForm(MultiDictProxy(fields), tuple(files))


async def read_multipart(
    request: web.Request, settings: AttachmentSettings, text_limit: int
) -> PostedForm:
    if request.content_type != "multipart/form-data":
        raise bad_upload("send multipart/form-data with the file in a part named file")
    try:
        reader = await request.multipart()
    except (ValueError, LookupError, AssertionError, HttpProcessingError) as exc:
        raise bad_upload(str(exc) or "not a multipart body") from None
    fields: MultiDict[str] = MultiDict()
    files: list[Upload] = []
    text_left = text_limit
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise bad_upload("nested multipart bodies are not accepted")
            if part.filename is None:
                raw = await _read_part(part, text_left)
                if raw is None:
                    raise too_large(text_limit)
                text_left -= len(raw)
                fields.add(part.name or "", raw.decode(part.get_charset("utf-8"), "replace"))
                continue
            name = safe_filename(part.filename)
            content = await _read_part(part, settings.max_bytes)
            if content is None:
                raise file_too_large(name, settings.max_bytes)
            if not content and not part.filename:
                continue
            if len(files) >= settings.max_files:
                raise too_many_files(settings.max_files)
            kind = part.headers.get("Content-Type", "application/octet-stream")
            files.append(Upload(name, kind, content))
    except UNREADABLE as exc:
        raise bad_upload(str(exc) or "malformed multipart body") from None
    return PostedForm(MultiDictProxy(fields), tuple(files))


async def attach_uploads(
    session: AsyncSession, message: Message, file_ids: Sequence[int], agent_id: int
) -> None:
    """Attach the agent's own uploads to the new message, or refuse (the caller rolls back)."""
    if not file_ids:
        return
    try:
        await attach_files(session, message.id, file_ids, agent_id=agent_id)
    except FileRefused as exc:
        if exc.reason == "attached":
            raise file_attached(exc.file_id) from None
        raise unknown_file(exc.file_id) from None


async def keep_upload(
    session: AsyncSession,
    upload: Upload,
    agent_id: int,
    settings: AttachmentSettings,
    now: datetime,
) -> StoredFile:
    """Keep one posted file (not yet attached); over the cap it is refused with 413."""
    try:
        return await store_file(
            session,
            filename=upload.filename,
            content_type=upload.content_type,
            content=upload.content,
            now=now,
            uploaded_by=agent_id,
            max_bytes=settings.max_bytes,
        )
    except FileTooLarge as exc:
        raise file_too_large(exc.filename, exc.limit) from None


async def store_uploads(
    session: AsyncSession,
    message: Message,
    uploads: Sequence[Upload],
    agent_id: int,
    settings: AttachmentSettings,
    now: datetime,
) -> None:
    """Keep the files posted with a reply or note (the web app's form) and attach them."""
    ids = [(await keep_upload(session, upload, agent_id, settings, now)).id for upload in uploads]
    await attach_uploads(session, message, ids, agent_id)
