"""The OpenAPI 3.1 document, generated from the route table (hub/web/api/routes.py): each
endpoint's models give its parameters, request body and answers (pydantic's JSON Schema in
validation mode, so a shape read and answered is one component; shared shapes under
components/schemas); its ``Doc`` gives the words, statuses and security. Nothing here
describes a shape by hand, so the document cannot drift from what the handlers read and answer."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from hub.web.api.edge import Auth, Endpoint
from hub.web.api.models.common import Error

REF = "#/components/schemas/{model}"
AGENT: list[dict[str, list[str]]] = [{"bearerAuth": []}]
SECURITY: dict[Auth, list[dict[str, list[str]]]] = {
    "agent": AGENT,
    "channel": [{"channelToken": []}],
    "public": [],
}
SCHEMES = {
    "bearerAuth": "An agent's API token (relaydesk token create); the role decides what it may do.",
    "channelToken": "The API channel's token (channels.NAME.token in the config).",
}
# Error answers shared by many operations: status -> (component name, description).
ERRORS = {
    400: ("BadRequest", "Malformed JSON (invalid_json) or a bad query parameter (invalid_query)"),
    401: ("Unauthorized", "Missing, wrong or revoked bearer token"),
    403: ("Forbidden", "The caller's role may not do this"),
    404: ("NotFound", "No such object, or not one the caller may see"),
    413: ("TooLarge", "The request body is larger than web.max_body_bytes"),
    422: ("Unprocessable", "A field is missing or invalid; error.fields names it"),
    500: ("Internal", "Unexpected failure (logged)"),
    503: ("Unavailable", "The message could not be stored; retry it"),
}
INFO = {
    "title": "Relaydesk API",
    "version": "0.1.0",
    "description": "Omnichannel customer-interaction hub. Errors are JSON: "
    '{"error": {"code", "message", "fields"?}}.',
}


def document(endpoints: Iterable[Endpoint]) -> dict[str, Any]:
    endpoints = tuple(endpoints)
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Error, "validation")]
    for one in endpoints:
        wanted += [(model, "validation") for model in one.inputs.values()]
        if one.doc.reads is not None:
            wanted.append((one.doc.reads[1], "validation"))
        if one.answer is not None:
            wanted.append((one.answer, "validation"))
    found, defs = models_json_schema(list(dict.fromkeys(wanted)), ref_template=REF)
    schemas: dict[str, Any] = _tidy(defs.get("$defs", {}))
    refs = {
        (model, mode): dict(ref)
        for (model, mode), ref in found.items()
        if isinstance(model, type) and issubclass(model, BaseModel)
    }
    paths: dict[str, Any] = {}
    for one in endpoints:
        paths.setdefault(one.path, {})[one.method.lower()] = _operation(one, refs, schemas)
    for one in endpoints:  # parameters are listed in their operations, not as components
        for where in ("path", "query"):
            model = one.inputs.get(where)
            if model is not None:
                schemas.pop(_name(refs[(model, "validation")]), None)
    _inline(schemas)
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "security": AGENT,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {
                name: _error_answer(description) for name, description in ERRORS.values()
            },
            "securitySchemes": {
                name: {"type": "http", "scheme": "bearer", "description": description}
                for name, description in SCHEMES.items()
            },
        },
    }


def _operation(
    one: Endpoint,
    refs: dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, str]],
    schemas: dict[str, Any],
) -> dict[str, Any]:
    doc = one.doc
    operation: dict[str, Any] = {}
    if doc.operation_id:
        operation["operationId"] = doc.operation_id
    operation |= {"tags": [doc.tag], "summary": doc.summary}
    if doc.description:
        operation["description"] = doc.description
    operation["security"] = SECURITY[doc.auth]
    parameters = [
        parameter
        for where in ("path", "query")
        if (model := one.inputs.get(where)) is not None
        for parameter in _parameters(where, schemas[_name(refs[(model, "validation")])])
    ]
    if parameters:
        operation["parameters"] = parameters
    body = one.inputs.get("body")
    if body is not None:
        operation["requestBody"] = _content("application/json", refs[(body, "validation")])
    elif doc.reads is not None:
        media, model = doc.reads
        operation["requestBody"] = _content(media, refs[(model, "validation")])
    responses: dict[str, Any] = {}
    for status, description in doc.ok.items():
        if one.answer is not None:
            schema = refs[(one.answer, "validation")]
            responses[str(status)] = _content("application/json", schema, description)
        elif doc.media is None:
            responses[str(status)] = {"description": description}
        else:
            responses[str(status)] = {"description": description, "content": {doc.media: {}}}
    # any operation that reads a body may meet one over web.max_body_bytes
    errors = (*doc.errors, 413) if "requestBody" in operation else doc.errors
    for status in errors:
        responses[str(status)] = {"$ref": "#/components/responses/" + ERRORS[status][0]}
    for status, description in doc.notes.items():
        responses[str(status)] = _error_answer(description)
    operation["responses"] = responses
    return operation


def _parameters(where: str, schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", ()))
    found = []
    for name, field in schema["properties"].items():
        field = dict(field)
        description = field.pop("description", None)
        options = field.get("anyOf")
        if name not in required and options:  # absent, not null
            kept = [o for o in options if o != {"type": "null"}]
            field.pop("anyOf")
            field = {**(kept[0] if len(kept) == 1 else {"anyOf": kept}), **field}
        field = _tidy(field)
        parameter = {"name": name, "in": where, "required": name in required, "schema": field}
        if description:
            parameter["description"] = description
        found.append(parameter)
    return found


def _content(media: str, schema: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    content = {"content": {media: {"schema": schema}}}
    return {"description": description, **content} if description else {"required": True, **content}


def _error_answer(description: str) -> dict[str, Any]:
    return _content("application/json", {"$ref": REF.format(model="Error")}, description)


def _name(ref: dict[str, str]) -> str:
    return ref["$ref"].rsplit("/", 1)[1]


def _tidy(node: Any) -> Any:
    """Without pydantic's generated titles (a field's title repeats its name) and without a
    default of null where null is not allowed (a field that may only be left out)."""
    if isinstance(node, dict):
        return {
            key: _tidy(value)
            for key, value in node.items()
            if not (key == "title" and isinstance(value, str))
            and not (key == "default" and value is None and not _nullable(node))
        }
    if isinstance(node, list):
        return [_tidy(value) for value in node]
    return node


def _nullable(schema: dict[str, Any]) -> bool:
    kinds = schema.get("type")
    options = schema.get("anyOf", ())
    return (
        kinds == "null"
        or (isinstance(kinds, list) and "null" in kinds)
        or any(isinstance(o, dict) and o.get("type") == "null" for o in options)
    )


def _inline(schemas: dict[str, Any]) -> None:
    """Put the schemas marked ``x-inline`` in place of their references."""
    marked = {name for name, schema in schemas.items() if schema.pop("x-inline", False)}
    inlined = {name: schemas.pop(name) for name in marked}

    def replace(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.rsplit("/", 1)[1] in inlined:
                return replace(inlined[ref.rsplit("/", 1)[1]])
            return {key: replace(value) for key, value in node.items()}
        if isinstance(node, list):
            return [replace(value) for value in node]
        return node

    for name in list(schemas):
        schemas[name] = replace(schemas[name])
