"""Shapes of file uploads. Attaching: upload each file, then list the returned ids as
``attachments`` in POST /api/v1/conversations/{id}/messages; download with
GET /api/v1/messages/{id}/attachments/{position} (position = index in the message's
``attachments``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from hub.web.api.models.common import Answer, Id, Timestamp


class UploadForm(BaseModel):
    """multipart/form-data with one file part named file"""

    file: bytes


class StoredFile(Answer):
    id: Id = Field(description="pass in a reply's or note's attachments list")
    filename: str = Field(description="the name, without any path")
    content_type: str = Field(
        description="from the file's leading bytes when known, else as declared; downloads "
        "are always served as attachments"
    )
    size: int = Field(ge=0)
    sha256: str = Field(pattern="^[0-9a-f]{64}$")
    created_at: Timestamp
