"""The OpenAPI document matches what the server does: it is a valid OpenAPI 3.1 document, it lists
exactly the JSON routes the app serves (everything under /api/ and /healthz; forms, dev pages,
webhooks, the widget and the UI pages are not part of the API), and real responses from the
running app, success and error alike, validate against the schemas it documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate as validate_openapi

from hub.db.models import Role
from hub.web.api import conversations, inbound
from hub.web.api.openapi import document as generate
from hub.web.api.routes import META
from hub.web.api.routes import api_document as document
from tests.support.agent_api import inbound_token, payload, start_conversation
from tests.support.desk import Desk

METHODS = {"get", "put", "post", "patch", "delete"}
META_PATHS = ("/healthz", "/readyz")
# The paths of this area: the API channel, conversations and customers, health and this document.
PATHS = generate((*inbound.ENDPOINTS, *conversations.ENDPOINTS, *META))["paths"]


def _api_routes(desk: Desk) -> set[tuple[str, str]]:
    routes = set()
    for route in desk.client.app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method == "HEAD" or not (path.startswith("/api/") or path in META_PATHS):
            continue
        routes.add((route.method, path))
    return routes


def _documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in METHODS
    }


def _walk(node: Any) -> list[Any]:
    found = [node]
    if isinstance(node, dict):
        for value in node.values():
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found


def _resolve(doc: dict[str, Any], pointer: str) -> Any:
    assert pointer.startswith("#/"), pointer
    node: Any = doc
    for part in pointer[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def test_the_document_is_valid_openapi_31() -> None:
    doc = document()
    validate_openapi(doc)
    assert doc["openapi"] == "3.1.0"


async def test_the_document_is_served_and_self_consistent(desk: Desk) -> None:
    doc = document()
    response = await desk.client.get("/api/v1/openapi.json")
    assert response.status == 200
    assert await response.json() == doc

    nodes = _walk(doc)
    for node in nodes:
        if isinstance(node, dict) and isinstance(node.get("$ref"), str):
            assert _resolve(doc, node["$ref"]) is not None
    schemes = set(doc["components"]["securitySchemes"])
    assert "bearerAuth" in schemes
    for item in doc["paths"].values():
        for method, operation in item.items():
            assert method in METHODS
            for requirement in operation.get("security", doc["security"]):
                assert set(requirement) <= schemes, (method, requirement)
    for name in ("Conversation", "Message", "Customer", "Identity", "Ticket", "IngestResult"):
        assert name in doc["components"]["schemas"]
    error = doc["components"]["schemas"]["Error"]["properties"]["error"]
    assert set(error["properties"]) == {"code", "message", "fields"}


async def test_every_api_route_is_documented_and_nothing_else(desk: Desk) -> None:
    served = _api_routes(desk)
    documented = _documented(document())
    undocumented = sorted(f"{method} {path}" for method, path in served - documented)
    assert not undocumented, "served but not documented: " + ", ".join(undocumented)
    unserved = sorted(f"{method} {path}" for method, path in documented - served)
    assert not unserved, "documented but not served: " + ", ".join(unserved)
    assert ("POST", "/api/v1/inbound/{channel}") in served


@dataclass
class Probe:
    """Calls the running app and checks every answer against the document."""

    desk: Desk
    doc: dict[str, Any] = field(default_factory=document)
    succeeded: set[tuple[str, str]] = field(default_factory=set)
    request_errors: list[str] = field(default_factory=list)

    def schema_check(self, schema: dict[str, Any], instance: Any) -> list[str]:
        validator = Draft202012Validator(
            {**schema, "components": self.doc["components"]}, format_checker=FormatChecker()
        )
        return [error.message for error in validator.iter_errors(instance)]

    async def __call__(
        self,
        method: str,
        template: str,
        token: str | None,
        body: Any = None,
        query: str = "",
        **params: Any,
    ) -> tuple[int, Any]:
        operation = self.doc["paths"][template][method.lower()]
        self.request_errors = []
        if isinstance(body, dict) and "requestBody" in operation:
            request_schema = operation["requestBody"]["content"]["application/json"]["schema"]
            self.request_errors = self.schema_check(request_schema, body)
        path = template.format(**params) + query
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        kwargs: dict[str, Any] = {"headers": headers}
        if isinstance(body, bytes):
            kwargs["data"] = body
        elif body is not None:
            kwargs["json"] = body
        response = await self.desk.client.request(method, path, **kwargs)
        answer = await response.json()
        documented = operation["responses"]
        assert str(response.status) in documented, (method, path, response.status, answer)
        described = documented[str(response.status)]
        if "$ref" in described:
            described = _resolve(self.doc, described["$ref"])
        schema = described["content"]["application/json"]["schema"]
        problems = self.schema_check(schema, answer)
        assert problems == [], (method, path, response.status, problems, answer)
        if response.status < 300:
            self.succeeded.add((method.lower(), template))
        return response.status, answer


async def test_real_responses_match_the_documented_schemas(desk: Desk) -> None:
    probe = Probe(desk)
    _, agent = await desk.agent("alice@example.com", teams=("support",), capacity=0)
    bob_id, other = await desk.agent("bob@example.com", teams=("billing",), capacity=0)
    _, marketer = await desk.agent("mark@example.com", role=Role.MARKETER, teams=())
    sue_id, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    key = inbound_token(desk.hub)
    inbound = "/api/v1/inbound/{channel}"

    body = payload("doc-1", thread_key="T-1")
    assert (await probe("POST", inbound, key, body, channel="api"))[0] == 201
    assert probe.request_errors == []
    assert (await probe("POST", inbound, key, body, channel="api"))[0] == 200
    assert (await probe("POST", inbound, "wrong-token", body, channel="api"))[0] == 401
    assert (await probe("POST", inbound, key, b"{", channel="api"))[0] == 400
    assert (await probe("POST", inbound, key, {"external_id": "x"}, channel="api"))[0] == 422
    assert probe.request_errors != []
    assert (await probe("POST", inbound, key, body, channel="nope"))[0] == 404
    too_big = payload("big", text="x" * 1_000_000)
    assert (await probe("POST", inbound, key, too_big, channel="api"))[0] == 413
    started = await start_conversation(
        desk.client, desk.hub, "doc-2", "joe@example.com", "A refund please."
    )

    listing = "/api/v1/conversations"
    status, page = await probe("GET", listing, agent, query="?limit=1&status=open")
    assert status == 200 and len(page["items"]) == 1
    assert (await probe("GET", listing, sue, query="?limit=1"))[1]["next_cursor"] is not None
    assert (await probe("GET", listing, marketer))[0] == 403
    assert (await probe("GET", listing, None))[0] == 401
    assert (await probe("GET", listing, agent, query="?limit=0"))[0] == 400

    one = "/api/v1/conversations/{id}"
    conversation_id = page["items"][0]["id"]
    status, detail = await probe("GET", one, agent, id=conversation_id)
    assert status == 200 and detail["ticket"] is not None
    assert (await probe("GET", one, other, id=conversation_id))[0] == 404
    change = {"status": "pending", "priority": "high", "assignee_id": sue_id}
    assert (await probe("PATCH", one, sue, change, id=conversation_id))[0] == 200
    assert probe.request_errors == []
    assert (await probe("PATCH", one, agent, {"assignee_id": bob_id}, id=conversation_id))[0] == 403
    assert (await probe("PATCH", one, sue, {"status": "gone"}, id=conversation_id))[0] == 422
    assert probe.request_errors != []
    assert (await probe("PATCH", one, sue, b"[", id=conversation_id))[0] == 400
    big = {"priority": "low", "x": "y" * 300_000}
    assert (await probe("PATCH", one, sue, big, id=conversation_id))[0] == 413

    messages = "/api/v1/conversations/{id}/messages"
    for text, private in (("A note", True), ("A reply", False)):
        status, _ = await probe(
            "POST", messages, agent, {"text": text, "private": private}, id=conversation_id
        )
        assert status == 201 and probe.request_errors == []
    assert (await probe("POST", messages, agent, {"text": ""}, id=conversation_id))[0] == 422
    assert probe.request_errors != []
    assert (await probe("POST", messages, other, {"text": "x"}, id=conversation_id))[0] == 404
    assert (await probe("POST", messages, agent, b"nope", id=conversation_id))[0] == 400
    huge = {"text": "x" * 1_000_000}
    assert (await probe("POST", messages, agent, huge, id=conversation_id))[0] == 413
    status, listed = await probe("GET", messages, agent, query="?limit=2", id=conversation_id)
    assert status == 200 and listed["next_after"] is not None
    assert {"inbound", "note", "outbound", "event"} <= {
        m["direction"]
        for m in (await probe("GET", messages, sue, query="?limit=200", id=conversation_id))[1][
            "items"
        ]
    }
    assert (await probe("GET", messages, agent, query="?after=x", id=conversation_id))[0] == 400
    assert (await probe("GET", messages, agent, id=started["conversation_id"]))[0] == 404

    customer = "/api/v1/customers/{id}"
    status, shown = await probe("GET", customer, agent, id=detail["customer_id"])
    assert status == 200 and shown["identities"]
    assert (await probe("GET", customer, other, id=detail["customer_id"]))[0] == 404
    assert (await probe("GET", customer, "nope", id=detail["customer_id"]))[0] == 401

    assert (await probe("GET", "/healthz", None))[0] == 200
    assert (await probe("GET", "/readyz", None))[0] == 200
    assert (await probe("GET", "/api/v1/openapi.json", None))[0] == 200

    # Every operation of this area answered successfully at least once.
    operations = {
        (method, path) for path, item in PATHS.items() for method in item if method in METHODS
    }
    assert operations - probe.succeeded == set()
