"""The agent API's ``POST /api/v1/uploads``: keeps a file for the uploading agent until a reply or
note attaches it by id (hub/web/uploads.py reads the multipart body)."""

from __future__ import annotations

from datetime import timedelta

from hub.core.errors import bad_upload, file_too_large
from hub.core.files import purge_unattached
from hub.web.api.edge import Call, Doc, Endpoint, Requires, endpoint
from hub.web.api.models.files import StoredFile, UploadForm
from hub.web.uploads import ENVELOPE, keep_upload, read_multipart


@endpoint(
    "POST",
    "/api/v1/uploads",
    Doc(
        "Conversations",
        "Upload a file to attach to a reply or note",
        "uploadFile",
        description="multipart/form-data with one file part named file. The file is kept "
        "for the uploading agent only; attach it by listing its id in attachments of "
        "POST /api/v1/conversations/{id}/messages (each upload attaches once). Each file may "
        "be at most attachments.max_bytes (10 MB by default).",
        ok={201: "The stored file"},
        requires=Requires(lambda caller: caller.handles_conversations, "upload files"),
        errors=(401, 403),
        notes={
            400: "Not multipart, no file, more than one file (bad_upload)",
            413: "The file is larger than attachments.max_bytes (file_too_large; the message "
            "names the limit); nothing is stored",
        },
        reads=("multipart/form-data", UploadForm),
    ),
)
async def post_upload(call: Call) -> StoredFile:
    hub, request, principal = call.hub, call.request, call.principal
    settings = hub.settings.attachments
    declared = request.content_length
    if declared is not None and declared > settings.max_bytes + ENVELOPE:
        raise file_too_large(None, settings.max_bytes)
    form = await read_multipart(request, settings, 4096)
    if len(form.files) != 1:
        raise bad_upload("send exactly one file, in a part named file")
    upload = form.files[0]
    now = hub.clock.now()
    async with hub.db.writer() as session:
        await purge_unattached(
            session, before=now - timedelta(hours=settings.keep_unattached_hours)
        )
        row = await keep_upload(session, upload, principal.agent_id, settings, now)
        await session.commit()
        return StoredFile.model_validate(row)


ENDPOINTS: tuple[Endpoint, ...] = (post_upload,)
