"""OpenAPI components: the JSON shapes of hub/web/serialize.py and hub/web/inbound.py, the error
shape of hub/errors.py, shared responses and the security schemes. Data only; tests validate real
responses against it (tests/hub/web/test_openapi.py)."""

from __future__ import annotations

from typing import Any

from hub.config.settings import PRIORITIES
from hub.db.models import ConversationStatus, DeliveryState, Direction, TicketStatus

REF = "#/components/schemas/"


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any], *, required: list[str] | None = None) -> dict[str, Any]:
    """A closed object: every listed property is present (unless ``required`` says otherwise)
    and no other appears, so a response that drifts from the document fails validation."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


ID = {"type": "integer", "minimum": 1}
TIME = {"type": "string", "format": "date-time"}
MAYBE_TIME = _nullable(TIME)
MAYBE_ID = _nullable(ID)
MAYBE_TEXT = _nullable({"type": "string"})
STATUS = {"type": "string", "enum": [s.value for s in ConversationStatus]}
PRIORITY = {"type": "string", "enum": list(PRIORITIES)}

_CONVERSATION = {
    "id": ID,
    "customer_id": ID,
    "channel": {"type": "string", "description": "configured channel instance name"},
    "thread_key": MAYBE_TEXT,
    "subject": {"type": "string"},
    "status": STATUS,
    "priority": PRIORITY,
    "team_id": MAYBE_ID,
    "assignee_id": MAYBE_ID,
    "created_at": TIME,
    "first_inbound_at": MAYBE_TIME,
    "first_response_at": MAYBE_TIME,
    "last_activity_at": TIME,
    "resolved_at": MAYBE_TIME,
}

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "error": _object(
                {
                    "code": {"type": "string", "examples": ["invalid_field", "not_found"]},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "description": "field or parameter name -> what is wrong with it",
                        "additionalProperties": {"type": "string"},
                    },
                },
                required=["code", "message"],
            )
        }
    ),
    "InboundMessage": {
        "type": "object",
        "description": "A customer message posted by an integrating system. Other top-level "
        "keys are kept with the message as its raw payload.",
        "required": ["external_id", "from", "text"],
        "properties": {
            "external_id": {
                "type": "string",
                "minLength": 1,
                "maxLength": 200,
                "description": "the sender system's id; a repeat is answered as a duplicate",
            },
            "from": {
                "type": "object",
                "required": ["address"],
                "properties": {
                    "address": {"type": "string", "minLength": 1, "maxLength": 320},
                    "name": {"type": "string", "maxLength": 300},
                },
            },
            "text": {"type": "string", "minLength": 1, "description": "at most max_text_bytes"},
            "thread_key": {"type": "string", "maxLength": 500},
            "subject": {"type": "string", "maxLength": 500},
        },
    },
    "IngestResult": _object(
        {
            "message_id": ID,
            "conversation_id": ID,
            "customer_id": ID,
            "duplicate": {"type": "boolean"},
        }
    ),
    "Conversation": _object(_CONVERSATION),
    "ConversationDetail": _object({**_CONVERSATION, "ticket": _nullable(ref("Ticket"))}),
    "ConversationPage": _object(
        {
            "items": {"type": "array", "items": ref("Conversation")},
            "next_cursor": _nullable({"type": "string"}),
        }
    ),
    "ConversationChange": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "status": STATUS,
            "assignee_id": {**MAYBE_ID, "description": "null unassigns"},
            "priority": PRIORITY,
        },
    },
    "Ticket": _object(
        {
            "id": ID,
            "number": {"type": "integer"},
            "subject": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in TicketStatus]},
            "priority": PRIORITY,
            "category": {"type": "string"},
            "first_response_due_at": MAYBE_TIME,
            "resolution_due_at": MAYBE_TIME,
        }
    ),
    "Attachment": {
        "type": "object",
        "required": ["filename", "content_type", "size"],
        "properties": {
            "filename": {"type": "string"},
            "content_type": {"type": "string"},
            "size": {"type": "integer", "minimum": 0},
            "content_id": MAYBE_TEXT,
            "inline": {"type": "boolean"},
            "file_id": {**ID, "description": "set for files agents attached (uploads)"},
        },
        "description": "Download: GET /api/v1/messages/{id}/attachments/{position}, position "
        "being the index in the message's attachments",
    },
    "Message": _object(
        {
            "id": ID,
            "conversation_id": ID,
            "direction": {"type": "string", "enum": [d.value for d in Direction]},
            "channel": {"type": "string"},
            "external_id": MAYBE_TEXT,
            "author_agent_id": MAYBE_ID,
            "subject": {"type": "string"},
            "text": {"type": "string"},
            "html": MAYBE_TEXT,
            "attachments": {"type": "array", "items": ref("Attachment")},
            "automated": {"type": "boolean"},
            "parse_error": MAYBE_TEXT,
            "delivery_state": {"type": "string", "enum": [s.value for s in DeliveryState]},
            "delivery_error": {
                **MAYBE_TEXT,
                "description": "why the last delivery attempt failed (and when it is retried)",
            },
            "created_at": TIME,
        }
    ),
    "MessagePage": _object(
        {
            "items": {"type": "array", "items": ref("Message")},
            "next_after": {**MAYBE_ID, "description": "pass as ?after= for the next page"},
        }
    ),
    "NewMessage": {
        "type": "object",
        "anyOf": [{"required": ["text"]}, {"required": ["attachments"]}],
        "additionalProperties": False,
        "properties": {
            "text": {
                "type": "string",
                "minLength": 1,
                "maxLength": 65536,
                "description": "required unless attachments are given",
            },
            "attachments": {
                "type": "array",
                "items": ID,
                "uniqueItems": True,
                "maxItems": 50,
                "description": "ids from POST /api/v1/uploads (the caller's own, not yet "
                "attached); at most attachments.max_files",
            },
            "private": {
                "type": "boolean",
                "default": False,
                "description": "true: an internal note, sent to nobody",
            },
        },
    },
    "Identity": _object(
        {
            "id": ID,
            "kind": {"type": "string", "examples": ["email", "telegram", "slack", "api"]},
            "address": {"type": "string"},
            "display_name": {"type": "string"},
            "bouncing": {"type": "boolean"},
        }
    ),
    "Customer": _object(
        {
            "id": ID,
            "name": {"type": "string"},
            "company": {"type": "string"},
            "tier": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "attributes": {"type": "object"},
            "locale": {"type": "string"},
            "timezone": {"type": "string"},
            "preferred_channel": MAYBE_TEXT,
            "consent": {"type": "object"},
            "notes": {"type": "string"},
            "created_at": TIME,
            "last_contact_at": MAYBE_TIME,
            "identities": {"type": "array", "items": ref("Identity")},
        }
    ),
    "Health": _object({"status": {"type": "string", "const": "ok"}}),
}

_ERRORS = {
    "BadRequest": "Malformed JSON (invalid_json) or a bad query parameter (invalid_query)",
    "Unauthorized": "Missing, wrong or revoked bearer token",
    "Forbidden": "The caller's role may not do this",
    "NotFound": "No such object, or not one the caller may see",
    "TooLarge": "The request body is larger than web.max_body_bytes",
    "Unprocessable": "A field is missing or invalid; error.fields names it",
    "Unavailable": "The message could not be stored; retry it",
    "Internal": "Unexpected failure (logged)",
}
ERROR_STATUS = {
    "400": "BadRequest",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
    "413": "TooLarge",
    "422": "Unprocessable",
    "500": "Internal",
    "503": "Unavailable",
}


def errors(*statuses: int) -> dict[str, Any]:
    """Response entries for the given error statuses, by reference."""
    return {
        str(status): {"$ref": "#/components/responses/" + ERROR_STATUS[str(status)]}
        for status in statuses
    }


COMPONENTS: dict[str, Any] = {
    "schemas": SCHEMAS,
    "responses": {
        name: {
            "description": description,
            "content": {"application/json": {"schema": ref("Error")}},
        }
        for name, description in _ERRORS.items()
    },
    "securitySchemes": {
        "bearerAuth": {
            "type": "http",
            "scheme": "bearer",
            "description": "An agent's API token (relaydesk token create); the role decides "
            "what it may do.",
        },
        "channelToken": {
            "type": "http",
            "scheme": "bearer",
            "description": "The API channel's token (channels.NAME.token in the config).",
        },
    },
}
