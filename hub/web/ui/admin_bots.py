"""The admin console's bot pages: every registered bot, a form to register one (its token and
signing secret are shown once, on the page that answers the form), and per bot its settings
(channels, teams, hours, limits, handback on resolve), enable / disable without a restart,
rotating the credentials and the latest deliveries. Admins only; changes are audited (never a
secret); a refused change is shown beside its field, with nothing saved."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from hub.bots import registry, texts
from hub.core.errors import ApiError, not_found
from hub.db.bots_models import Bot, BotDelivery
from hub.db.models import Team
from hub.web.keys import hub_of
from hub.web.requests import path_id
from hub.web.ui import admin_bot_form as form
from hub.web.ui.admin_forms import posted
from hub.web.ui.admin_people import admin
from hub.web.ui.render import page, see_other

LOG_ROWS = 100
KIND_LABELS = {
    "faq": "FAQ (built in, answers from the knowledge base)",
    "webhook": "Webhook (our event format)",
    "rasa": "Rasa REST",
}


async def _choices(request: web.Request) -> dict[str, Any]:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        teams = (await session.scalars(select(Team).order_by(Team.name))).all()
    return {
        "channels": sorted(hub.settings.channels),
        "teams": [(t.slug, t.name) for t in teams],
        "calendars": sorted(hub.settings.calendars),
        "kinds": KIND_LABELS,
    }


async def bots_page(
    request: web.Request,
    *,
    shown: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    admin(request)
    async with hub_of(request).db.reader() as session:
        bots = (await session.scalars(select(Bot).order_by(Bot.name))).all()
    return page(
        request,
        "ui/admin/bots.html",
        status=status,
        bots=[registry.shown(b) for b in bots],
        form=shown or form.blank(),
        errors=errors or {},
        **await _choices(request),
    )


async def bot_page(
    request: web.Request,
    bot_id: int | None = None,
    *,
    shown: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    credentials: registry.Created | None = None,
    status: int = 200,
) -> web.Response:
    admin(request)
    bot_id = bot_id if bot_id is not None else path_id(request, "bot")
    async with hub_of(request).db.reader() as session:
        bot = await session.get(Bot, bot_id)
        if bot is None:
            raise not_found("bot", bot_id)
        log = (
            await session.scalars(
                select(BotDelivery)
                .where(BotDelivery.bot_id == bot_id)
                .order_by(BotDelivery.id.desc())
                .limit(LOG_ROWS)
            )
        ).all()
        current = registry.shown(bot)
    return page(
        request,
        "ui/admin/bot.html",
        status=status,
        bot=current,
        form={**current, **(shown or {})},
        errors=errors or {},
        credentials=credentials,
        deliveries=log,
        notice=texts.ADMIN_NOTICES.get(request.query.get("notice", "")),
        **await _choices(request),
    )


async def create(request: web.Request) -> web.StreamResponse:
    viewer = admin(request)
    hub = hub_of(request)
    read = await form.refuse_target(
        form.read(await posted(request), hub.settings, None), hub.settings
    )
    if read.errors:
        return await bots_page(request, shown=read.shown, errors=read.errors, status=422)
    async with hub.db.writer() as session:
        try:
            made = await registry.create(session, viewer.agent_id, read.fields, hub.clock.now())
        except ApiError as exc:  # the name is taken: shown beside the name
            if not exc.fields:
                raise
            return await bots_page(
                request, shown=read.shown, errors=dict(exc.fields), status=exc.status
            )
        await session.commit()
        bot_id = made.bot.id
    return await bot_page(request, bot_id, credentials=made, status=201)


async def save(request: web.Request) -> web.StreamResponse:
    viewer = admin(request)
    hub = hub_of(request)
    bot_id = path_id(request, "bot")
    values = await posted(request)
    # the URL's name is resolved before the write transaction (hub/platform/targets.py)
    refused = await form.refuse_target(form.Read({"url": values.get("url")}, {}, {}), hub.settings)
    async with hub.db.writer() as session:
        bot = await session.get(Bot, bot_id, with_for_update=True)
        if bot is None:
            raise not_found("bot", bot_id)
        read = form.read(values, hub.settings, bot.kind)
        if not read.errors and refused.errors:
            read = form.Read(read.fields, read.shown, refused.errors)
        if read.errors:
            await session.rollback()
            return await bot_page(request, bot_id, shown=read.shown, errors=read.errors, status=422)
        await registry.update(session, viewer.agent_id, bot, read.fields, hub.clock.now())
        await session.commit()
    see_other(f"/ui/admin/bots/{bot_id}", "bot_saved")


async def switch(request: web.Request) -> web.StreamResponse:
    """Enable or disable at once (the next conversation and message see it; no restart)."""
    viewer = admin(request)
    hub = hub_of(request)
    bot_id = path_id(request, "bot")
    enabled = (await posted(request)).get("enabled") == "on"
    async with hub.db.writer() as session:
        bot = await session.get(Bot, bot_id, with_for_update=True)
        if bot is None:
            raise not_found("bot", bot_id)
        await registry.update(session, viewer.agent_id, bot, {"enabled": enabled}, hub.clock.now())
        await session.commit()
    see_other(f"/ui/admin/bots/{bot_id}", "bot_enabled" if enabled else "bot_disabled")


async def rotate(request: web.Request) -> web.StreamResponse:
    viewer = admin(request)
    hub = hub_of(request)
    bot_id = path_id(request, "bot")
    await posted(request)
    async with hub.db.writer() as session:
        bot = await session.get(Bot, bot_id, with_for_update=True)
        if bot is None:
            raise not_found("bot", bot_id)
        made = await registry.rotate(session, viewer.agent_id, bot, hub.clock.now())
        await session.commit()
    return await bot_page(request, bot_id, credentials=made)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/admin/bots", bots_page)
    router.add_post("/ui/admin/bots", create)
    router.add_get("/ui/admin/bots/{id}", bot_page)
    router.add_post("/ui/admin/bots/{id}", save)
    router.add_post("/ui/admin/bots/{id}/enabled", switch)
    router.add_post("/ui/admin/bots/{id}/credentials", rotate)
