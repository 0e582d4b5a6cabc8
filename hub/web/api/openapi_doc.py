"""The OpenAPI 3.1 document served at /api/v1/openapi.json: the paths of the API channel, the
agent API and the health check (components in openapi_schemas.py). Other areas keep their paths
in their own module, merged in ``document``. tests/hub/web/test_openapi.py checks that every
route is documented and that real responses match."""

from __future__ import annotations

from typing import Any

from hub.web.api.email_openapi import EMAIL_PATHS
from hub.web.api.files_openapi import FILE_PATHS
from hub.web.api.openapi_schemas import COMPONENTS, ID, STATUS, errors, ref
from hub.web.api.routing_openapi import ROUTING_PATHS

AGENT: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def _json(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref(schema)}}}


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": ref(schema)}}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def _path_id(what: str) -> dict[str, Any]:
    return {"name": "id", "in": "path", "required": True, "schema": ID, "description": f"{what} id"}


def _limit(default: int, high: int) -> dict[str, Any]:
    schema = {"type": "integer", "minimum": 1, "maximum": high, "default": default}
    return _query("limit", schema, "page size")


INBOUND = {
    "post": {
        "operationId": "postInboundMessage",
        "tags": ["API channel"],
        "summary": "Post a customer message through an API channel",
        "description": "Stored once per (channel, external_id): a repeat answers 200 with the "
        "first message's ids and duplicate=true. The answer is sent only after the message is "
        "committed. Agent replies on the conversation are POSTed as JSON to the channel's "
        "callback_url, signed with X-Relaydesk-Signature: sha256=HMAC-SHA256(signing_secret, "
        "X-Relaydesk-Timestamp + '.' + body), and retried by the outbox.",
        "security": [{"channelToken": []}],
        "parameters": [
            {
                "name": "channel",
                "in": "path",
                "required": True,
                "schema": {"type": "string"},
                "description": "name of a configured channel of kind api",
            }
        ],
        "requestBody": _body("InboundMessage"),
        "responses": {
            "201": _json("Stored as a new message", "IngestResult"),
            "200": _json("Already stored: the original ids, duplicate=true", "IngestResult"),
            **errors(400, 401, 404, 413, 422, 503),
        },
    }
}

CONVERSATIONS = {
    "get": {
        "operationId": "listConversations",
        "tags": ["Conversations"],
        "summary": "Conversations the caller may see, most recently active first",
        "description": "Agents see their teams' conversations and those assigned to them; "
        "supervisors and admins see all; marketers may not list. Keyset pagination: pass "
        "next_cursor as ?cursor= until it is null.",
        "security": AGENT,
        "parameters": [
            _query("status", STATUS, "only conversations in this status"),
            _query(
                "assignee",
                {"type": "string", "pattern": "^(me|none|[0-9]+)$"},
                "an agent id, me, or none (unassigned)",
            ),
            _query("team", {"type": "string"}, "a team id or slug"),
            _limit(25, 100),
            _query("cursor", {"type": "string"}, "next_cursor of the previous page"),
        ],
        "responses": {
            "200": _json("One page", "ConversationPage"),
            **errors(400, 401, 403),
        },
    }
}

CONVERSATION = {
    "get": {
        "operationId": "getConversation",
        "tags": ["Conversations"],
        "summary": "One conversation with its ticket",
        "security": AGENT,
        "parameters": [_path_id("conversation")],
        "responses": {
            "200": _json("The conversation", "ConversationDetail"),
            **errors(401, 404),
        },
    },
    "patch": {
        "operationId": "updateConversation",
        "tags": ["Conversations"],
        "summary": "Change status, assignee or priority",
        "description": "Agents may assign a conversation to themselves or unassign "
        "themselves; assigning anyone else needs a supervisor or admin.",
        "security": AGENT,
        "parameters": [_path_id("conversation")],
        "requestBody": _body("ConversationChange"),
        "responses": {
            "200": _json("The changed conversation", "Conversation"),
            **errors(400, 401, 403, 404, 413, 422),
        },
    },
}

MESSAGES = {
    "get": {
        "operationId": "listMessages",
        "tags": ["Conversations"],
        "summary": "The conversation's messages, notes and events, oldest first",
        "security": AGENT,
        "parameters": [
            _path_id("conversation"),
            _limit(50, 200),
            _query(
                "after",
                {"type": "integer", "minimum": 0, "default": 0},
                "only messages with a larger id (next_after of the previous page)",
            ),
        ],
        "responses": {
            "200": _json("One page", "MessagePage"),
            **errors(400, 401, 404),
        },
    },
    "post": {
        "operationId": "postMessage",
        "tags": ["Conversations"],
        "summary": "Reply to the customer, or add a private note",
        "description": "A reply is queued in the outbox and sent through the conversation's "
        "reply channel; delivery_state and delivery_error on the message tell how it went. "
        "Files: upload each with POST /api/v1/uploads and list the ids in attachments; they "
        "go out with the reply (email parts, Telegram documents/photos, base64 in API-channel "
        "callbacks) or stay with the note.",
        "security": AGENT,
        "parameters": [_path_id("conversation")],
        "requestBody": _body("NewMessage"),
        "responses": {
            "201": _json("The queued reply or the note", "Message"),
            **errors(400, 401, 404, 413, 422),
            "404": {
                "description": "No such conversation (not_found), or an attachments id that "
                "does not exist or was uploaded by someone else (unknown_file)",
                "content": {"application/json": {"schema": ref("Error")}},
            },
            "409": {
                "description": "An attachments id is already attached to a message (file_attached)",
                "content": {"application/json": {"schema": ref("Error")}},
            },
        },
    },
}

CUSTOMER = {
    "get": {
        "operationId": "getCustomer",
        "tags": ["Customers"],
        "summary": "A customer with all identities",
        "security": AGENT,
        "parameters": [_path_id("customer")],
        "responses": {"200": _json("The customer", "Customer"), **errors(401, 404)},
    }
}

META = {
    "/healthz": {
        "get": {
            "operationId": "health",
            "tags": ["Meta"],
            "summary": "Liveness and database check",
            "security": [],
            "responses": {"200": _json("Up, database reachable", "Health"), **errors(500)},
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "openapi",
            "tags": ["Meta"],
            "summary": "This document",
            "security": [],
            "responses": {
                "200": {
                    "description": "OpenAPI 3.1 document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/inbound/{channel}": INBOUND,
    "/api/v1/conversations": CONVERSATIONS,
    "/api/v1/conversations/{id}": CONVERSATION,
    "/api/v1/conversations/{id}/messages": MESSAGES,
    "/api/v1/customers/{id}": CUSTOMER,
    **META,
}


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {**PATHS, **EMAIL_PATHS, **ROUTING_PATHS, **FILE_PATHS}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Relaydesk API",
            "version": "0.1.0",
            "description": "Omnichannel customer-interaction hub. Errors are JSON: "
            '{"error": {"code", "message", "fields"?}}.',
        },
        "security": AGENT,
        "paths": paths,
        "components": COMPONENTS,
    }
