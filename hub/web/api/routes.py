"""The API's route table: every endpoint of the agent API, the API channel and the service itself,
registered on the app from here and documented from here (openapi.py)."""

from __future__ import annotations

import functools
import json
from typing import Any

from aiohttp import web
from sqlalchemy import text

from hub.web.api import conversations, email, followups, inbound, reports, routing, uploads
from hub.web.api.edge import Call, Doc, Endpoint, add_endpoints, endpoint
from hub.web.api.models.meta import Health, OpenApiDocument
from hub.web.api.openapi import document


@endpoint(
    "GET",
    "/healthz",
    Doc(
        "Meta",
        "Liveness and database check",
        "health",
        auth="public",
        ok={200: "Up, database reachable"},
        errors=(500,),
    ),
)
async def health(call: Call) -> Health:
    async with call.hub.db.reader() as session:
        await session.execute(text("SELECT 1"))
    return Health(status="ok")


@endpoint(
    "GET",
    "/api/v1/openapi.json",
    Doc("Meta", "This document", "openapi", auth="public", ok={200: "OpenAPI 3.1 document"}),
)
async def openapi_json(call: Call) -> OpenApiDocument:
    return OpenApiDocument(api_document())


META: tuple[Endpoint, ...] = (health, openapi_json)
ENDPOINTS: tuple[Endpoint, ...] = (
    *inbound.ENDPOINTS,
    *conversations.ENDPOINTS,
    *META,
    *email.ENDPOINTS,
    *routing.ENDPOINTS,
    *followups.ENDPOINTS,
    *uploads.ENDPOINTS,
    *reports.ENDPOINTS,
)


@functools.cache
def _document_text() -> str:
    return json.dumps(document(ENDPOINTS))


def api_document() -> dict[str, Any]:
    """The OpenAPI document of the route table (generated once per process)."""
    generated: dict[str, Any] = json.loads(_document_text())
    return generated


def add_routes(router: web.UrlDispatcher) -> None:
    add_endpoints(router, ENDPOINTS)
