"""Typed application keys: the assembled hub (hub/assembly.py; its type is re-exported here for
handlers) and the web side's own pages."""

from __future__ import annotations

from aiohttp import web

from hub.assembly import Hub
from hub.web.pages import WebPages

__all__ = ["HUB", "PAGES", "Hub", "hub_of", "pages_of"]

HUB = web.AppKey("hub", Hub)
PAGES = web.AppKey("pages", WebPages)


def hub_of(request: web.Request) -> Hub:
    return request.app[HUB]


def pages_of(request: web.Request) -> WebPages:
    return request.app[PAGES]
