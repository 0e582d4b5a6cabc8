"""The admin console's webhook pages (admins only): every subscription with its health, a form
to subscribe a URL (the signing secret is shown on the answer to that form, once), and per
subscription its events, enable / disable, a test event, the delivery log with redeliver, and
delete (after a page that says what goes with it). A refused change is shown beside its field,
with nothing saved."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.errors import ApiError, not_found
from hub.db.webhook_models import WebhookSubscription
from hub.integrations import catalog, deliveries, service, subscriptions, texts
from hub.platform.targets import Targets
from hub.web.keys import hub_of
from hub.web.requests import path_id
from hub.web.ui.admin_people import Posted, admin, text
from hub.web.ui.render import page, see_other

BASE = "/ui/admin/webhooks"


def _notice(request: web.Request) -> str | None:
    return texts.NOTICES.get(request.query.get("notice", ""))


async def list_page(
    request: web.Request,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, object] | None = None,
    created: tuple[WebhookSubscription, str] | None = None,
    status: int = 200,
) -> web.Response:
    admin(request)
    hub = hub_of(request)
    async with hub.db.reader() as session:
        rows = list(
            (
                await session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id))
            ).all()
        )
    return page(
        request,
        "ui/admin/webhooks.html",
        status=status,
        notice=_notice(request) if created is None else texts.NOTICES["webhook_created"],
        subscriptions=rows,
        events=catalog.EVENTS,
        errors=errors or {},
        form=form or {"events": list(catalog.EVENTS)},
        created=created,
    )


def _events(posted: Posted) -> list[str]:
    return [str(name)[:48] for name in posted.getall("events", [])][:20]


async def create(request: web.Request) -> web.StreamResponse:
    viewer = admin(request)
    hub = hub_of(request)
    posted = await request.post()
    name, url, events = text(posted, "name", 200), text(posted, "url", 1000), _events(posted)
    form: dict[str, object] = {"name": name, "url": url, "events": events}
    try:
        await subscriptions.check_target(url, Targets.of(hub.settings.outgoing))
        async with hub.db.writer() as session:
            made = await subscriptions.create(
                session, viewer.agent_id, name, url, events, hub.clock.now()
            )
            await session.commit()
    except ApiError as exc:
        return await list_page(request, errors=exc.fields, form=form, status=exc.status)
    return await list_page(request, created=(made.subscription, made.secret), status=201)


async def detail_page(
    request: web.Request,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    admin(request)
    hub = hub_of(request)
    ident = path_id(request, "webhook subscription")
    raw_before = request.query.get("before", "")
    before = int(raw_before) if raw_before.isdigit() and len(raw_before) < 10 else 0
    async with hub.db.reader() as session:
        subscription = await session.get(WebhookSubscription, ident)
        if subscription is None:
            raise not_found("webhook subscription", ident)
        log = await deliveries.delivery_log(session, ident, before=before, limit=50)
    return page(
        request,
        "ui/admin/webhook.html",
        status=status,
        notice=_notice(request),
        s=subscription,
        events=catalog.EVENTS,
        log=log,
        older=log[-1].delivery.id if len(log) == 50 else None,
        paged=bool(before),
        errors=errors or {},
    )


async def _locked(session: AsyncSession, ident: int) -> WebhookSubscription:
    found = await session.get(WebhookSubscription, ident, with_for_update=True)
    if found is None:
        raise not_found("webhook subscription", ident)
    return found


async def save(request: web.Request) -> web.StreamResponse:
    viewer = admin(request)
    hub = hub_of(request)
    ident = path_id(request, "webhook subscription")
    posted = await request.post()
    action = text(posted, "action", 20)
    notice = "webhook_saved"
    try:
        if action not in ("enable", "disable", "test"):
            await subscriptions.check_target(
                text(posted, "url", 1000), Targets.of(hub.settings.outgoing)
            )
        async with hub.db.writer() as session:
            found = await _locked(session, ident)
            now = hub.clock.now()
            if action in ("enable", "disable"):
                enabled = action == "enable"
                await subscriptions.change(session, viewer.agent_id, found, now, enabled=enabled)
                notice = "webhook_enabled" if enabled else "webhook_disabled"
            elif action == "test":
                await service.send_test(session, found, viewer.agent_id, now)
                notice = "webhook_tested"
            else:
                await subscriptions.change(
                    session, viewer.agent_id, found, now, name=text(posted, "name", 200),
                    url=text(posted, "url", 1000), events=_events(posted),
                )  # fmt: skip
            await session.commit()
    except ApiError as exc:
        if exc.status == 404:
            raise
        return await detail_page(request, errors=exc.fields or {"": exc.message}, status=exc.status)
    hub.webhooks.wake()
    see_other(f"{BASE}/{ident}", notice)


async def redeliver(request: web.Request) -> web.StreamResponse:
    viewer = admin(request)
    hub = hub_of(request)
    ident = path_id(request, "webhook subscription")
    delivery_id = path_id(request, "webhook delivery", "delivery")
    try:
        async with hub.db.writer() as session:
            await _locked(session, ident)
            found = await deliveries.delivery_of(session, ident, delivery_id)
            if found is None:
                raise not_found("webhook delivery", delivery_id)
            await service.redeliver(session, found, viewer.agent_id, hub.clock.now())
            await session.commit()
    except ApiError as exc:
        if exc.status == 404:
            raise
        return await detail_page(request, errors={"": exc.message}, status=exc.status)
    hub.webhooks.wake()
    see_other(f"{BASE}/{ident}", "webhook_redelivered")


async def delete_page(request: web.Request) -> web.Response:
    """What deleting takes with it, and the button that does it."""
    admin(request)
    hub = hub_of(request)
    ident = path_id(request, "webhook subscription")
    async with hub.db.reader() as session:
        subscription = await session.get(WebhookSubscription, ident)
        if subscription is None:
            raise not_found("webhook subscription", ident)
        logged, pending = await subscriptions.log_size(session, ident)
    return page(
        request, "ui/admin/webhook_delete.html", s=subscription, logged=logged, pending=pending
    )


async def delete(request: web.Request) -> web.StreamResponse:
    viewer = admin(request)
    hub = hub_of(request)
    ident = path_id(request, "webhook subscription")
    async with hub.db.writer() as session:
        found = await _locked(session, ident)
        await subscriptions.remove(session, viewer.agent_id, found, hub.clock.now())
        await session.commit()
    see_other(BASE, "webhook_deleted")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(BASE, list_page)
    router.add_post(BASE, create)
    router.add_get(BASE + "/{id}", detail_page)
    router.add_post(BASE + "/{id}", save)
    router.add_post(BASE + "/{id}/deliveries/{delivery}/redeliver", redeliver)
    router.add_get(BASE + "/{id}/delete", delete_page)
    router.add_post(BASE + "/{id}/delete", delete)
