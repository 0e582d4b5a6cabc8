"""The admin console's start page (the first-run checklist) and its audit log page: every
admin change, who, when, what, old -> new, filtered by area, newest first, paged back."""

from __future__ import annotations

from aiohttp import web

from hub.admin import people_texts as texts
from hub.admin.checklist import checklist
from hub.core.audit import recent_changes
from hub.core.errors import invalid_query
from hub.web.keys import hub_of
from hub.web.requests import row_id
from hub.web.ui.admin_people import admin, admin_page

PAGE = 50


async def home(request: web.Request) -> web.Response:
    admin(request)
    hub = hub_of(request)
    async with hub.db.reader() as session:
        items = await checklist(session, list(hub.channels), list(hub.settings.calendars))
    return admin_page(request, "ui/admin/home.html", items=items)


async def audit(request: web.Request) -> web.Response:
    admin(request)
    hub = hub_of(request)
    area = request.query.get("area", "") or None
    if area is not None and area not in texts.AREAS:
        raise invalid_query("area", texts.AREA_BAD)
    raw_before = request.query.get("before", "")
    before = row_id(raw_before) if raw_before else None
    if raw_before and before is None:
        raise invalid_query("before", "must be a change id from this page")
    async with hub.db.reader() as session:
        rows = list(await recent_changes(session, area=area, before_id=before, limit=PAGE + 1))
    return admin_page(
        request,
        "ui/admin/audit.html",
        rows=rows[:PAGE],
        older=rows[PAGE - 1].id if len(rows) > PAGE else None,
        area=area,
        areas=texts.AREAS,
        paged=before is not None,
    )


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/admin", home)
    router.add_get("/ui/admin/audit", audit)
