"""OpenAPI paths of the email endpoints (hub/web/email_api.py), kept apart so the owner of
openapi_doc.py merges them into the document with one line."""

from __future__ import annotations

from typing import Any

from hub.web.api.openapi_schemas import errors, ref

_ERROR = {
    "description": "error",
    "content": {"application/json": {"schema": ref("Error")}},
}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]
_JSON_OBJECT = {"application/json": {"schema": {"type": "object"}}}


def _op(summary: str, ok: dict[str, Any], *, params: list[Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "tags": ["email"], "security": _SECURITY}
    if params is None:
        params = [_ID]
    if params:
        operation["parameters"] = params
    operation["responses"] = {**ok, **errors(401, 403, 404)}
    return operation


EMAIL_PATHS: dict[str, Any] = {
    "/api/v1/messages/{id}/email": {
        "get": _op(
            "The full mail behind a timeline entry: new text, quoted history, signature, "
            "sanitized HTML, headers, recipients, attachments, bounce report",
            {"200": {"description": "the mail", "content": _JSON_OBJECT}},
        )
    },
    "/api/v1/messages/{id}/raw": {
        "get": _op(
            "The original RFC 822 bytes as received",
            {"200": {"description": "the raw mail", "content": {"message/rfc822": {}}}},
        )
    },
    "/api/v1/messages/{id}/attachments/{position}": {
        "get": _op(
            "One attachment's content (served as a download, to agents who may see the message)",
            {
                "200": {"description": "the content", "content": {"*/*": {}}},
                "410": {**_ERROR, "description": "over the size cap; not kept"},
            },
            params=[
                _ID,
                {
                    "name": "position",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 0},
                },
            ],
        )
    },
    "/api/v1/messages/{id}/split": {
        "post": _op(
            "Move a received message into a new conversation (with its own ticket)",
            {
                "201": {"description": "the new conversation", "content": _JSON_OBJECT},
                "409": {**_ERROR, "description": "nothing to split"},
            },
        )
    },
    "/api/v1/conversations/{id}/merge": {
        "post": {
            **_op(
                "Merge this conversation into another; later mail for it lands there",
                {
                    "200": {"description": "the target conversation", "content": _JSON_OBJECT},
                    "409": {**_ERROR, "description": "already merged, or into itself"},
                    **errors(400, 413, 422),
                },
            ),
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["into"],
                            "additionalProperties": False,
                            "properties": {"into": {"type": "integer", "minimum": 1}},
                        }
                    }
                },
            },
        }
    },
    "/api/v1/conversations/{id}/participants": {
        "get": _op(
            "Everyone who wrote to or was copied on the conversation's mail",
            {"200": {"description": "participants", "content": _JSON_OBJECT}},
        )
    },
    "/api/v1/email/mailboxes": {
        "get": _op(
            "State of every inbound mail source (SMTP listener, IMAP mailbox): connected, "
            "last error, position (supervisors and admins)",
            {"200": {"description": "mailboxes", "content": _JSON_OBJECT}},
            params=[],
        )
    },
}
