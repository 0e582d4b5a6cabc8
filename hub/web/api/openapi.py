"""Serves the OpenAPI document (see openapi_doc.py)."""

from __future__ import annotations

from aiohttp import web

from hub.web.api.openapi_doc import document


async def openapi_json(request: web.Request) -> web.Response:
    return web.json_response(document())


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/v1/openapi.json", openapi_json)
