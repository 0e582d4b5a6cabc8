"""The aiohttp application: routes, and the hub's lifecycle as one cleanup_ctx entry that runs
the assembly (hub/assembly.py) for as long as the app does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from aiohttp import web
from sqlalchemy import text

from channels.base import Channel
from hub.assembly import assemble
from hub.config.settings import Settings
from hub.platform.clock import Clock
from hub.web import devmail, forms, inbound, ui, webhooks
from hub.web import widget_routes as widget
from hub.web.api import conversations as api
from hub.web.api import email as email_api
from hub.web.api import openapi, uploads
from hub.web.api import routing as routing_api
from hub.web.errors import error_middleware
from hub.web.keys import HUB, PAGES
from hub.web.pages import WebPages


async def healthz(request: web.Request) -> web.Response:
    async with request.app[HUB].db.reader() as session:
        await session.execute(text("SELECT 1"))
    return web.json_response({"status": "ok"})


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    channels: Mapping[str, Channel] | None = None,
) -> web.Application:
    """``channels`` adds channel instances or replaces configured ones by name (see assemble)."""
    app = web.Application(
        client_max_size=settings.web.max_body_bytes, middlewares=[error_middleware]
    )

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with assemble(settings, clock=clock, channels=channels) as hub:
            app[HUB] = hub
            yield

    app.cleanup_ctx.append(lifecycle)
    app[PAGES] = pages = WebPages.of(settings)
    app.router.add_get("/healthz", healthz)
    inbound.add_routes(app.router)
    webhooks.add_routes(app.router)
    api.add_routes(app.router)
    openapi.add_routes(app.router)
    forms.add_routes(app.router)
    routing_api.add_routes(app.router)
    email_api.add_routes(app.router)
    uploads.add_routes(app.router)
    if settings.capture.enabled:
        devmail.add_routes(app.router)
    ui.setup(app, pages.pages)
    widget.setup(app, settings.secret_key)
    return app
