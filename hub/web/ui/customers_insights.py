"""Insight list pages: the four lists with their definitions, each list's customers in order, and
"save as segment" for a marketer to use the list as a campaign audience."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from aiohttp import web

from hub.core.errors import forbidden
from hub.crm import texts
from hub.crm.insights import catalogue, insight_named, may_read, run_insight, save_segment
from hub.web.keys import hub_of
from hub.web.ui.render import page, see_other
from hub.web.ui.viewer import viewer_of


def _may_read(request: web.Request) -> None:
    if not may_read(viewer_of(request).principal):
        raise forbidden("read insight lists (supervisors, admins and marketers)")


async def insights(request: web.Request) -> web.Response:
    _may_read(request)
    found = catalogue(hub_of(request).settings.crm.insights)
    return page(request, "ui/customer_insights.html", insights=list(found.values()))


async def insight(request: web.Request) -> web.Response:
    _may_read(request)
    hub = hub_of(request)
    settings = hub.settings.crm.insights
    chosen = insight_named(settings, request.match_info["name"])
    async with hub.db.reader() as session:
        rows = await run_insight(session, chosen, hub.clock.now(), settings.limit)
    saved = request.query.get("segment", "")[:200]
    return page(
        request,
        "ui/customer_insight.html",
        insight=chosen,
        rows=rows,
        definition=json.dumps(chosen.definition, indent=2),
        default_name=f"{chosen.title} ({hub.clock.now():%Y-%m-%d})",
        crm_notice=texts.NOTICE_SEGMENT.format(name=saved) if saved else None,
    )


async def save(request: web.Request) -> web.StreamResponse:
    _may_read(request)
    hub, viewer = hub_of(request), viewer_of(request)
    chosen = insight_named(hub.settings.crm.insights, request.match_info["name"])
    posted = await request.post()
    async with hub.db.writer() as session:
        segment = await save_segment(
            session, viewer.principal, chosen, str(posted.get("name", "")), hub.clock.now()
        )
        await session.commit()
        name = segment.name
    see_other(f"/ui/customers/insights/{chosen.name}?" + urlencode({"segment": name}))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/customers/insights", insights)
    router.add_get("/ui/customers/insights/{name}", insight)
    router.add_post("/ui/customers/insights/{name}/segment", save)
