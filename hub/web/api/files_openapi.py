"""OpenAPI paths of file uploads (hub/web/uploads.py), merged into the document in
openapi_doc.py. Attaching: upload each file, then list the returned ids as ``attachments`` in
POST /api/v1/conversations/{id}/messages; download with
GET /api/v1/messages/{id}/attachments/{position} (position = index in the message's
``attachments``)."""

from __future__ import annotations

from typing import Any

from hub.web.api.openapi_schemas import ID, TIME, errors, ref

STORED_FILE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "filename", "content_type", "size", "sha256", "created_at"],
    "properties": {
        "id": {**ID, "description": "pass in a reply's or note's attachments list"},
        "filename": {"type": "string", "description": "the name, without any path"},
        "content_type": {
            "type": "string",
            "description": "from the file's leading bytes when known, else as declared; "
            "downloads are always served as attachments",
        },
        "size": {"type": "integer", "minimum": 0},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "created_at": TIME,
    },
}

ERROR_JSON = {"application/json": {"schema": ref("Error")}}

UPLOADS: dict[str, Any] = {
    "post": {
        "operationId": "uploadFile",
        "tags": ["Conversations"],
        "summary": "Upload a file to attach to a reply or note",
        "description": "multipart/form-data with one file part named file. The file is kept "
        "for the uploading agent only; attach it by listing its id in attachments of "
        "POST /api/v1/conversations/{id}/messages (each upload attaches once). Each file may "
        "be at most attachments.max_bytes (10 MB by default).",
        "security": [{"bearerAuth": []}],
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        },
        "responses": {
            "201": {
                "description": "The stored file",
                "content": {"application/json": {"schema": STORED_FILE}},
            },
            "400": {
                "description": "Not multipart, no file, more than one file (bad_upload)",
                "content": ERROR_JSON,
            },
            "413": {
                "description": "The file is larger than attachments.max_bytes "
                "(file_too_large; the message names the limit); nothing is stored",
                "content": ERROR_JSON,
            },
            **errors(401, 403),
        },
    }
}

FILE_PATHS: dict[str, Any] = {"/api/v1/uploads": UPLOADS}
