"""A customer's data from the profile page: the export download (supervisors and admins) and
erasure (admins, confirmed by typing ERASE; a POST with the CSRF field like every form)."""

from __future__ import annotations

from aiohttp import web

from hub.core.errors import forbidden
from hub.crm import texts
from hub.crm.erasure import erase_customer, may_erase
from hub.crm.privacy_export import export_customer, may_export
from hub.crm.profile import visible_customer
from hub.web.api.privacy import export_download
from hub.web.keys import hub_of
from hub.web.requests import path_id
from hub.web.ui.customers_profile import profile
from hub.web.ui.render import see_other
from hub.web.ui.viewer import viewer_of


async def export(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), viewer_of(request)
    if not may_export(viewer.principal):
        raise forbidden(texts.EXPORT_ACTION)
    customer_id = path_id(request, "customer")
    async with hub.db.writer() as session:
        customer = await visible_customer(session, viewer.principal, customer_id)
        done = await export_customer(
            session, customer, actor_id=viewer.agent_id, now=hub.clock.now()
        )
        await session.commit()
    return export_download(done.filename(), done.zipped())


async def erase(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), viewer_of(request)
    if not may_erase(viewer.principal):
        raise forbidden(texts.ERASE_ACTION)
    customer_id = path_id(request, "customer")
    posted = await request.post()
    if str(posted.get("confirm", "")).strip() != texts.ERASE_WORD:
        return await profile(request, texts.erase_unconfirmed())
    async with hub.db.writer() as session:
        customer = await visible_customer(session, viewer.principal, customer_id)
        done = await erase_customer(
            session, customer, actor_id=viewer.agent_id, now=hub.clock.now()
        )
        await session.commit()
    see_other(f"/ui/customers/{done.customer_id}?erased={'again' if done.already else '1'}")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(r"/ui/customers/{id:\d+}/export", export)
    router.add_post(r"/ui/customers/{id:\d+}/erase", erase)
