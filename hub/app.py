"""The aiohttp application: routes, and the hub's lifecycle as one cleanup_ctx entry that runs
the assembly (hub/assembly.py) for as long as the app does."""

from __future__ import annotations

import gc
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
    long_running: bool = False,
) -> web.Application:
    """``channels`` adds channel instances or replaces configured ones by name; with
    ``start_workers=False`` nothing runs in the background (see assemble). ``long_running``:
    a server process (``serve``), whose heap is settled once the hub has started."""
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
    if long_running:
        app.on_startup.append(_settle_heap)  # runs after the lifecycle's start
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


async def _settle_heap(_app: web.Application) -> None:
    """What starting made and keeps for good (modules, mappers, compiled statements and
    templates: about 250,000 objects) leaves the cyclic garbage collector's care. Each full
    collection walked all of it: pauses of 120 ms in the middle of requests, every few hundred
    pages, on a desk with 100,000 conversations (3.8 ms at most after)."""
    gc.collect()
    gc.freeze()
