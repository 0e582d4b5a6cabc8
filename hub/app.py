"""The aiohttp application: routes, and the hub's lifecycle as one cleanup_ctx entry that runs
the assembly (hub/assembly.py) for as long as the app does."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from aiohttp import web

from channels.base import Channel
from hub.assembly import assemble
from hub.config.settings import Settings
from hub.platform.clock import Clock
from hub.web import devmail, forms, ops, security, ui, unsubscribe, webhooks
from hub.web import widget_routes as widget
from hub.web.api import followups as followup_routes
from hub.web.api import routes as api
from hub.web.errors import error_middleware
from hub.web.keys import HUB, PAGES
from hub.web.pages import WebPages


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    channels: Mapping[str, Channel] | None = None,
    start_workers: bool = True,
) -> web.Application:
    """``channels`` adds channel instances or replaces configured ones by name; with
    ``start_workers=False`` nothing runs in the background (see assemble)."""
    app = web.Application(
        client_max_size=settings.web.max_body_bytes, middlewares=[error_middleware]
    )

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with assemble(
            settings, clock=clock, channels=channels, start_workers=start_workers
        ) as hub:
            app[HUB] = hub
            yield

    app.cleanup_ctx.append(lifecycle)
    security.setup(app)  # CSP, framing, nosniff, referrer, Secure cookies, Retry-After
    app[PAGES] = pages = WebPages.of(settings)
    api.add_routes(app.router)  # the API: agent API, API channel, health, OpenAPI document
    webhooks.add_routes(app.router)
    ops.add_routes(app.router)  # GET /metrics (Prometheus)
    forms.add_routes(app.router)
    followup_routes.add_routes(app.router)  # the satisfaction link
    unsubscribe.add_routes(app.router)  # campaign opt-out: one-click and preference pages
    if settings.capture.enabled:
        devmail.add_routes(app.router)
    ui.setup(app, pages.pages)
    widget.setup(app, settings.secret_key)
    return app
