"""Reading an uploaded CSV file from a request: a ``text/csv`` (or any non-multipart) body, or a
``multipart/form-data`` part named ``file``, streamed with a size cap so that an oversized file is
refused as soon as it passes the limit, not after it was held in memory whole."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import BodyPartReader, web
from aiohttp.web_request import FileField

from hub.campaigns import audience_texts as texts
from hub.core.errors import bad_upload

CHUNK = 64 * 1024
TEXT_LIMIT = 16 * 1024


@dataclass(frozen=True, slots=True)
class CsvUpload:
    data: bytes
    fields: dict[str, str]  # the form's other (text) fields


async def _capped(part: BodyPartReader | web.StreamResponse | None, limit: int) -> bytes | None:
    assert isinstance(part, BodyPartReader)
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > limit:
            return None
    return bytes(data)


async def read_csv_body(request: web.Request, limit: int, *, posted: bool = False) -> CsvUpload:
    """The file and the other form fields. ``posted``: the form was read already (the web
    app's session middleware reads a form that carries its CSRF token as a field)."""
    declared = request.content_length
    if declared is not None and declared > limit + TEXT_LIMIT:
        raise texts.import_too_large(limit)
    if request.content_type != "multipart/form-data":
        data = bytearray()
        async for chunk in request.content.iter_chunked(CHUNK):
            data += chunk
            if len(data) > limit:
                raise texts.import_too_large(limit)
        if not data:
            raise bad_upload(texts.NO_FILE)
        return CsvUpload(bytes(data), {})
    if posted:
        return await _from_posted(request, limit)
    try:
        reader = await request.multipart()
    except (ValueError, AssertionError, KeyError) as exc:
        raise bad_upload(str(exc) or "not a multipart body") from None
    fields: dict[str, str] = {}
    found: bytes | None = None
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise bad_upload("nested multipart bodies are not accepted")
            if part.name == "file":
                found = await _capped(part, limit)
                if found is None:
                    raise texts.import_too_large(limit)
                continue
            raw = await _capped(part, TEXT_LIMIT)
            if raw is None:
                raise bad_upload("a form field is too long")
            fields[part.name or ""] = raw.decode("utf-8", "replace")
    except (ValueError, AssertionError, LookupError) as exc:
        raise bad_upload(str(exc) or "malformed multipart body") from None
    if not found:
        raise bad_upload(texts.NO_FILE)
    return CsvUpload(found, fields)


async def _from_posted(request: web.Request, limit: int) -> CsvUpload:
    posted = await request.post()
    fields = {key: value for key, value in posted.items() if isinstance(value, str)}
    upload = posted.get("file")
    if not isinstance(upload, FileField):
        raise bad_upload(texts.NO_FILE)
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise texts.import_too_large(limit)
    if not data:
        raise bad_upload(texts.NO_FILE)
    return CsvUpload(data, fields)
