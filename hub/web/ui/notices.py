"""/ui/notices: the signed-in staff member's notices (a mention, an SLA escalation to a
supervisor, a template that failed for the admin who saved it; an admin also reads those for
every admin), unread first in weight, each linking to what it is about; mark one or all read.
The navigation shows the unread count on every page (hub.web.ui.session reads it with the
signed-in agent)."""

from __future__ import annotations

from aiohttp import web

from hub.core.notice_inbox import mark_read, notices_of, unread_count
from hub.web.api.notices import link_of
from hub.web.keys import hub_of
from hub.web.requests import path_id
from hub.web.ui.render import page, see_other
from hub.web.ui.viewer import viewer_of

HOME = "/ui/notices"


async def show_notices(request: web.Request) -> web.Response:
    hub, viewer = hub_of(request), viewer_of(request)
    unread_only = request.query.get("state") == "unread"
    async with hub.db.reader() as session:
        found = await notices_of(session, viewer.principal, unread_only=unread_only)
        unread = await unread_count(session, viewer.principal)
    return page(
        request,
        "ui/notices.html",
        notices=[(notice, link_of(notice)) for notice in found],
        unread=unread,
        unread_only=unread_only,
    )


async def _mark(request: web.Request, ids: list[int] | None) -> web.StreamResponse:
    hub, viewer = hub_of(request), viewer_of(request)
    async with hub.db.writer() as session:
        await mark_read(session, viewer.principal, ids, hub.clock.now())
        await session.commit()
    back = HOME + ("?state=unread" if request.query.get("state") == "unread" else "")
    see_other(back, "notices_read")


async def mark_one(request: web.Request) -> web.StreamResponse:
    return await _mark(request, [path_id(request, "notice")])


async def mark_all(request: web.Request) -> web.StreamResponse:
    return await _mark(request, None)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(HOME, show_notices)
    router.add_post(HOME + "/read-all", mark_all)
    router.add_post(HOME + "/{id}/read", mark_one)
