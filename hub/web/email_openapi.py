"""OpenAPI paths of the email endpoints (hub/web/email_api.py), kept apart so the owner of
openapi_doc.py merges them into the document with one line."""

from __future__ import annotations

from typing import Any

_ERROR = {
    "description": "error",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "fields": {"type": "object"},
                        },
                    }
                },
            }
        }
    },
}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]
_JSON_OBJECT = {"application/json": {"schema": {"type": "object"}}}


def _op(summary: str, ok: dict[str, Any], *, params: list[Any] | None = None) -> dict[str, Any]:
    return {
        "summary": summary,
        "tags": ["email"],
        "security": _SECURITY,
        "parameters": params or [_ID],
        "responses": {**ok, "401": _ERROR, "403": _ERROR, "404": _ERROR},
    }


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
                    "422": _ERROR,
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
