"""The aiohttp application: explicit start-up and shutdown of every service via cleanup_ctx."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select, text

from channels.base import Channel
from channels.email.capture import CaptureServer
from channels.registry import build_channel
from hub.chat.service import chat_context
from hub.config.settings import Settings
from hub.core.errors import INTERNAL, ApiError, too_large
from hub.db.models import Team
from hub.email.service import email_context
from hub.inbound.ingest import Ingestor
from hub.inbound.pipeline import Pipeline
from hub.outbound.outbox import Dispatcher
from hub.outbound.templates import FollowupRenderer
from hub.platform.clock import Clock, SystemClock
from hub.platform.database import open_database
from hub.platform.events import EventBus
from hub.platform.migrate import upgrade_async
from hub.routing.service import build_routing
from hub.web import devmail, forms, inbound, ui, webhooks
from hub.web import widget_routes as widget
from hub.web.api import conversations as api
from hub.web.api import email as email_api
from hub.web.api import openapi, uploads
from hub.web.api import routing as routing_api
from hub.web.keys import HUB, STARTUP, Hub, Startup
from hub.web.ratelimit import RateLimiter

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
JSON_PREFIXES = ("/api/", "/webhooks/", "/healthz")
# Channel instances given to create_app, used instead of (or besides) the configured ones.
GIVEN_CHANNELS = web.AppKey("given_channels", dict[str, Channel])


def _wants_json(request: web.Request) -> bool:
    return request.path.startswith(JSON_PREFIXES)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return web.json_response(exc.body(), status=exc.status)
    except web.HTTPRequestEntityTooLarge as exc:
        if _wants_json(request):
            error = too_large(request.app[STARTUP].settings.web.max_body_bytes)
            return web.json_response(error.body(), status=413)
        raise exc
    except web.HTTPException as exc:
        if _wants_json(request) and exc.status >= 400:
            code = exc.reason.lower().replace(" ", "_")
            body = {"error": {"code": code, "message": exc.reason}}
            headers = {k: v for k, v in exc.headers.items() if k.lower() != "content-type"}
            return web.json_response(body, status=exc.status, headers=headers)
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json(request):
            return web.json_response(INTERNAL.body(), status=500)
        return web.Response(status=500, text="Something went wrong on our side. Try again later.")


def page_environment(settings: Settings) -> Environment:
    return Environment(
        loader=FileSystemLoader(str(settings.templates_dir / "web")),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


async def _ensure_teams(hub_settings: Settings, hub: Hub) -> None:
    slugs = {
        hub_settings.routing.default_team,
        *(r.team for r in hub_settings.routing.rules if r.team),
    }
    async with hub.db.writer() as session:
        existing = set((await session.scalars(select(Team.slug))).all())
        for slug in sorted(slugs - existing):
            session.add(Team(slug=slug, name=slug.replace("-", " ").title()))
        await session.commit()


async def _hub_context(app: web.Application) -> AsyncIterator[None]:
    startup = app[STARTUP]
    settings, clock = startup.settings, startup.clock
    if settings.database.auto_migrate:
        await upgrade_async(settings.database.url)
    db = open_database(settings.database.url, echo=settings.database.echo)
    given: dict[str, Channel] = app[GIVEN_CHANNELS]
    channels: dict[str, Channel] = {
        name: build_channel(name, config) for name, config in settings.channels.items()
    } | given
    capture = None
    if settings.capture.enabled:
        capture = CaptureServer(settings.capture.host, settings.capture.port, settings.capture.keep)
        await capture.start()
    for channel in channels.values():
        await channel.start()
    renderer = FollowupRenderer(settings.templates_dir)
    dispatcher = Dispatcher(db, channels, settings.outbox, clock)
    events = EventBus(db, clock)

    def committed() -> None:
        """New rows to send and events to show: wake the outbox and the live streams now."""
        dispatcher.wake()
        events.wake()

    routing = build_routing(settings, db, clock, committed)
    pipeline = Pipeline(settings, renderer, clock, routing.engine)
    ingestor = Ingestor(db, pipeline, settings.ingest.batch_size, committed, events.wake)
    hub = Hub(
        settings=settings,
        clock=clock,
        db=db,
        channels=channels,
        ingestor=ingestor,
        dispatcher=dispatcher,
        renderer=renderer,
        pages=page_environment(settings),
        form_limiter=RateLimiter(settings.web.form_rate_per_minute),
        capture=capture,
        events=events,
        routing=routing,
    )
    await _ensure_teams(settings, hub)
    app[HUB] = hub
    await events.start()
    await ingestor.start()
    await dispatcher.start()
    await routing.start()
    try:
        yield
    finally:
        await routing.stop()
        await ingestor.stop()
        await dispatcher.stop()
        await events.stop()
        for channel in channels.values():
            await channel.stop()
        if capture is not None:
            await capture.stop()
        await db.dispose()


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
    app = web.Application(
        client_max_size=settings.web.max_body_bytes, middlewares=[error_middleware]
    )
    app[STARTUP] = Startup(settings, clock or SystemClock())
    app[GIVEN_CHANNELS] = dict(channels or {})
    app.cleanup_ctx.append(_hub_context)
    app.cleanup_ctx.append(chat_context)  # after the hub: Telegram polling, secrets
    app.cleanup_ctx.append(email_context)  # after the hub: inbound SMTP listener, IMAP pollers
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
    ui.setup(app)
    widget.setup(app)  # after the hub: the chat widget's sockets and delivery hook
    return app
