"""The API's route table: every endpoint of the agent API, the API channel and the service itself,
registered on the app from here and documented from here (openapi.py)."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hub.reports.live_texts import READY_DATABASE_DOWN
from hub.web.api import (
    admin_agents,
    admin_channels,
    admin_routing,
    admin_settings,
    admin_teams,
    admin_webhooks,
    agent_sessions,
    bots,
    campaign_editing,
    campaign_results,
    campaign_sending,
    consent,
    conversations,
    customers,
    email,
    followups,
    inbound,
    insights,
    live,
    merges,
    notices,
    privacy,
    reports,
    routing,
    search,
    segments,
    uploads,
)
from hub.web.api.edge import Call, Doc, Endpoint, Reply, add_endpoints, endpoint
from hub.web.api.models.meta import Health, OpenApiDocument, Readiness
from hub.web.api.openapi import document

log = logging.getLogger(__name__)
READY_TIMEOUT_SECONDS = 3.0


@endpoint(
    "GET",
    "/healthz",
    Doc(
        "Meta",
        "Liveness: the process answers (the database is not asked; see /readyz)",
        "health",
        auth="public",
        ok={200: "Up"},
    ),
)
async def health(call: Call) -> Health:
    return Health(status="ok")


@endpoint(
    "GET",
    "/readyz",
    Doc(
        "Meta",
        "Readiness: the database answers",
        "ready",
        auth="public",
        ok={200: "Ready", 503: "Not ready; checks says what is wrong"},
    ),
)
async def ready(call: Call) -> Reply[Readiness]:
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), call.hub.db.reader() as session:
            await session.execute(text("SELECT 1"))
    except (OSError, SQLAlchemyError, TimeoutError) as exc:
        log.warning("readiness check failed: %s", exc)
        return Reply(Readiness(status="unavailable", checks={"database": READY_DATABASE_DOWN}), 503)
    return Reply(Readiness(status="ok", checks={"database": "ok"}), 200)


@endpoint(
    "GET",
    "/api/v1/openapi.json",
    Doc("Meta", "This document", "openapi", auth="public", ok={200: "OpenAPI 3.1 document"}),
)
async def openapi_json(call: Call) -> OpenApiDocument:
    return OpenApiDocument(api_document())


META: tuple[Endpoint, ...] = (health, ready, openapi_json)
ENDPOINTS: tuple[Endpoint, ...] = (
    *inbound.ENDPOINTS,
    *conversations.ENDPOINTS,
    *customers.ENDPOINTS,
    *privacy.ENDPOINTS,
    *merges.ENDPOINTS,
    *insights.ENDPOINTS,
    *META,
    *email.ENDPOINTS,
    *routing.ENDPOINTS,
    *followups.ENDPOINTS,
    *uploads.ENDPOINTS,
    *live.ENDPOINTS,
    *segments.ENDPOINTS,
    *consent.ENDPOINTS,
    *campaign_editing.ENDPOINTS,
    *campaign_sending.ENDPOINTS,
    *campaign_results.ENDPOINTS,
    *reports.ENDPOINTS,
    *search.ENDPOINTS,
    *admin_settings.ENDPOINTS,
    *admin_routing.ENDPOINTS,
    *admin_channels.ENDPOINTS,
    *admin_agents.ENDPOINTS,
    *admin_teams.ENDPOINTS,
    *admin_webhooks.ENDPOINTS,
    *agent_sessions.ENDPOINTS,
    *bots.ENDPOINTS,
    *notices.ENDPOINTS,
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
