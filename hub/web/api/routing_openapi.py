"""OpenAPI paths of the routing API (hub/web/routing_api.py) and the follow-up template and FAQ
endpoints (hub/web/followup_api.py), kept apart so openapi_doc.py merges them with one line.
Response shapes follow exactly what those handlers answer."""

from __future__ import annotations

from typing import Any

from hub.db.models import Presence
from hub.web.api.openapi_schemas import ID, MAYBE_ID, MAYBE_TEXT, PRIORITY, TIME, errors

_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]
_STRINGS = {"type": "array", "items": {"type": "string"}}
_STRATEGY = {"type": "string", "enum": ["round_robin", "least_loaded", "skills", "sticky", "none"]}
_PART = {"type": "string", "maxLength": 64 * 1024}
_LOCALE = {"type": "string", "pattern": "^([a-zA-Z]{2,3})?$", "description": "empty: any"}


def _object(properties: dict[str, Any], *, required: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _op(
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    *,
    params: list[Any] | None = None,
    body: dict[str, Any] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "tags": ["Routing"],
        "summary": summary,
        "security": _SECURITY,
    }
    if description:
        operation["description"] = description
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = _body(body)
    operation["responses"] = responses
    return operation


_ID_PARAM = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": ID,
    "description": "agent id",
}
_FAQ_ID = {**_ID_PARAM, "description": "FAQ entry id"}
_NAME = {
    "name": "name",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,99}$"},
    "description": "template name",
}

_RULE = {
    "type": "object",
    "required": ["name"],
    "description": "A routing rule as in [[routing.rules]] of the config; fields left at their "
    "default are omitted in answers.",
    "properties": {
        "name": {"type": "string"},
        "channels": _STRINGS,
        "keywords": _STRINGS,
        "team": MAYBE_TEXT,
        "priority": {"anyOf": [PRIORITY, {"type": "null"}]},
        "channel_kinds": _STRINGS,
        "recipients": _STRINGS,
        "regex": _STRINGS,
        "intents": _STRINGS,
        "intent_threshold": {
            "anyOf": [{"type": "number", "minimum": 0, "maximum": 100}, {"type": "null"}]
        },
        "tiers": _STRINGS,
        "tags": _STRINGS,
        "attributes": {"type": "object", "additionalProperties": {"type": "string"}},
        "languages": _STRINGS,
        "business_hours": {"enum": ["inside", "outside", None]},
        "customer": {"enum": ["new", "returning", None]},
        "has_attachment": {"type": ["boolean", "null"]},
        "add_tags": _STRINGS,
        "open_ticket": {"type": "boolean"},
        "category": {"type": "string", "maxLength": 64},
        "assign": {"anyOf": [_STRATEGY, {"type": "null"}]},
        "skills": _STRINGS,
        "template": MAYBE_TEXT,
        "bot": MAYBE_TEXT,
        "spam": {"type": "boolean"},
    },
}
_RULES = {"type": "array", "items": _RULE}
_RULESET = _object(
    {
        "version": {"type": "integer", "minimum": 0, "description": "0: the config file's"},
        "source": {"type": "string", "enum": ["config", "api"]},
        "rules": _RULES,
    }
)
_CUSTOMER_FACTS = {
    "type": "object",
    "properties": {
        "tier": {"type": "string"},
        "tags": _STRINGS,
        "attributes": {"type": "object"},
        "locale": {"type": "string"},
    },
}
_DRY_RUN = {
    "type": "object",
    "required": ["channel", "text"],
    "additionalProperties": False,
    "properties": {
        "channel": {"type": "string", "description": "a configured channel name"},
        "text": {"type": "string"},
        "subject": {"type": "string"},
        "recipients": _STRINGS,
        "customer": _CUSTOMER_FACTS,
        "returning": {"type": "boolean"},
        "has_attachment": {"type": "boolean"},
        "at": {"type": "string", "format": "date-time", "description": "default: now"},
        "rules": {**_RULES, "description": "a draft to try instead of the rules in force"},
    },
}
_DRY_RUN_RESULT = _object(
    {
        "version": {"type": "integer", "minimum": 0},
        "matched": {
            "anyOf": [
                _object({"index": {"type": "integer", "minimum": 0}, "name": {"type": "string"}}),
                {"type": "null"},
            ]
        },
        "actions": _object(
            {
                "team": {"type": "string"},
                "priority": PRIORITY,
                "tags": _STRINGS,
                "open_ticket": {"type": "boolean"},
                "category": {"type": "string"},
                "assign": {"type": "string"},
                "skills": _STRINGS,
                "template": MAYBE_TEXT,
                "bot": MAYBE_TEXT,
                "spam": {"type": "boolean"},
            }
        ),
        "inside_business_hours": {"type": "boolean"},
        "trace": {
            "type": "array",
            "items": _object(
                {
                    "index": {"type": "integer", "minimum": 0},
                    "name": {"type": "string"},
                    "matched": {"type": "boolean"},
                    "failed": {"type": "string", "description": "the first condition that failed"},
                    "intent_score": {"type": "number"},
                },
                required=["index", "name", "matched"],
            ),
        },
    }
)
_PRESENCE = {"type": "string", "enum": [p.value for p in Presence]}
_AGENT_CHANGE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "presence": _PRESENCE,
        "capacity": {"type": "integer", "minimum": 0, "maximum": 1000},
        "skills": {"type": "array", "items": {"type": "string", "minLength": 1}},
    },
}
_AGENT_STATE = _object(
    {
        "id": ID,
        "presence": _PRESENCE,
        "capacity": {"type": "integer", "minimum": 0},
        "skills": _STRINGS,
        "open_count": {"type": "integer", "minimum": 0},
    }
)
_SLA_EVENTS = _object(
    {
        "items": {
            "type": "array",
            "items": _object(
                {
                    "conversation_id": ID,
                    "metric": {"type": "string"},
                    "kind": {"type": "string", "enum": ["breach", "warning"]},
                    "policy": {"type": "string"},
                    "priority": {"type": "string"},
                    "team_id": MAYBE_ID,
                    "assignee_id": MAYBE_ID,
                    "due_at": TIME,
                    "occurred_at": TIME,
                }
            ),
        },
        "by_metric": {
            "type": "object",
            "description": "metric -> number of events listed",
            "additionalProperties": {"type": "integer", "minimum": 1},
        },
    }
)
_NOTICES = _object(
    {
        "items": {
            "type": "array",
            "items": _object(
                {
                    "id": ID,
                    "kind": {"type": "string"},
                    "text": {"type": "string"},
                    "conversation_id": MAYBE_ID,
                    "created_at": TIME,
                }
            ),
        }
    }
)
_TEMPLATE = {
    "type": "object",
    "required": ["txt"],
    "additionalProperties": False,
    "properties": {
        "channel": {"type": "string", "description": "empty or a configured channel name"},
        "locale": _LOCALE,
        "subject": _PART,
        "txt": {**_PART, "description": "the plain-text body (Jinja2)"},
        "html": _PART,
    },
}
_RENDERED = _object({"subject": {"type": "string"}, "text": {"type": "string"}, "html": MAYBE_TEXT})
_SAVED = _object(
    {
        "name": {"type": "string"},
        "channel": {"type": "string"},
        "locale": {"type": "string"},
        "parts": {"type": "array", "items": {"type": "string", "enum": ["html", "subject", "txt"]}},
    }
)
_FAQ_ENTRY = _object(
    {"id": ID, "question": {"type": "string"}, "answer": {"type": "string"}, "locale": _LOCALE}
)
_NEW_FAQ = {
    "type": "object",
    "required": ["question", "answer"],
    "additionalProperties": False,
    "properties": {
        "question": {"type": "string", "minLength": 1},
        "answer": {"type": "string", "minLength": 1},
        "locale": _LOCALE,
    },
}

ROUTING_PATHS: dict[str, Any] = {
    "/api/v1/routing/rules": {
        "get": _op(
            "getRoutingRules",
            "The routing rules in force (supervisors and admins)",
            {"200": _json("The rules", _RULESET), **errors(401, 403)},
        ),
        "put": _op(
            "putRoutingRules",
            "Replace the routing rules (admins); creates the teams they name",
            {"200": _json("The saved rules", _RULESET), **errors(400, 401, 403, 413, 422)},
            body=_object({"rules": _RULES}),
        ),
    },
    "/api/v1/routing/dry-run": {
        "post": _op(
            "routingDryRun",
            "Which rule a message would hit and why the others did not (supervisors, admins)",
            {"200": _json("The decision", _DRY_RUN_RESULT), **errors(400, 401, 403, 413, 422)},
            body=_DRY_RUN,
            description="Nothing is stored; pass rules to try a draft instead of the rules "
            "in force.",
        )
    },
    "/api/v1/routing/agents/{id}": {
        "put": _op(
            "putAgentRouting",
            "Set an agent's presence, capacity and skills",
            {"200": _json("The agent", _AGENT_STATE), **errors(400, 401, 403, 404, 413, 422)},
            params=[_ID_PARAM],
            body=_AGENT_CHANGE,
            description="Agents may change their own presence; capacity, skills and other "
            "agents need a supervisor or admin. Going online drains the queue; going offline "
            "hands over open work.",
        )
    },
    "/api/v1/routing/sla/events": {
        "get": _op(
            "listSlaEvents",
            "Recent SLA warnings or breaches, newest first (supervisors and admins)",
            {"200": _json("The events", _SLA_EVENTS), **errors(400, 401, 403, 422)},
            params=[
                {
                    "name": "kind",
                    "in": "query",
                    "required": False,
                    "schema": {
                        "type": "string",
                        "enum": ["breach", "warning"],
                        "default": "breach",
                    },
                },
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                },
            ],
        )
    },
    "/api/v1/routing/notices": {
        "get": _op(
            "listNotices",
            "The caller's notices (admins also see those for every admin), newest 200",
            {"200": _json("The notices", _NOTICES), **errors(401)},
        )
    },
    "/api/v1/routing/templates/{name}": {
        "put": _op(
            "putFollowupTemplate",
            "Save a follow-up template variant for a channel and locale (admins)",
            {"200": _json("Saved", _SAVED), **errors(400, 401, 403, 404, 413, 422)},
            params=[_NAME],
            body=_TEMPLATE,
            description="A template that does not render is refused (422, code "
            "template_error) and not saved.",
        )
    },
    "/api/v1/routing/templates/{name}/preview": {
        "post": _op(
            "previewFollowupTemplate",
            "Render a template with sample data without saving it (admins)",
            {"200": _json("The rendering", _RENDERED), **errors(400, 401, 403, 404, 413, 422)},
            params=[_NAME],
            body=_TEMPLATE,
        )
    },
    "/api/v1/routing/faq": {
        "get": _op(
            "listFaq",
            "The FAQ bot's knowledge base",
            {
                "200": _json(
                    "The entries", _object({"items": {"type": "array", "items": _FAQ_ENTRY}})
                ),
                **errors(401),
            },
        ),
        "post": _op(
            "addFaq",
            "Add a FAQ entry (admins)",
            {"201": _json("The entry", _FAQ_ENTRY), **errors(400, 401, 403, 413, 422)},
            body=_NEW_FAQ,
        ),
    },
    "/api/v1/routing/faq/{id}": {
        "delete": _op(
            "deleteFaq",
            "Delete a FAQ entry (admins)",
            {"204": {"description": "Deleted"}, **errors(401, 403, 404)},
            params=[_FAQ_ID],
        )
    },
}
