"""The supervisors' bot report (/ui/reports/bots): containment per bot and channel, handoffs by
reason and the bots' response time (p50/p95), each as a chart with its table. The period and the
channel filter apply; bots are not staffed by teams or agents, so those filters do not."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from hub.bots import texts as bot_texts
from hub.bots.figures import bot_figures, totals
from hub.web.keys import hub_of
from hub.web.ui.report_charts import Series, bar_chart
from hub.web.ui.reports import _filters, _page


async def bots_page(request: web.Request) -> web.Response:
    filters = _filters(request)
    hub = hub_of(request)
    zone = ZoneInfo(hub.settings.reports.timezone)
    since = datetime.combine(filters.start, time(0), zone)
    until = datetime.combine(filters.end + timedelta(days=1), time(0), zone)
    async with hub.db.reader() as session:
        found = await bot_figures(session, since, until, filters.channel)
    overall = totals(found)
    labels = [f"{f.bot} · {f.channel}" for f in found]
    reasons = sorted(overall.handoffs, key=lambda r: (-overall.handoffs[r], r))
    containment = bar_chart(
        "Containment per bot and channel (%)",
        labels,
        [Series("Contained", [round(100 * (f.containment_rate or 0), 1) for f in found])],
    )
    handoffs = bar_chart(
        "Handoffs by reason",
        [bot_texts.reason_text(r) for r in reasons],
        [Series("Handoffs", [overall.handoffs[r] for r in reasons])],
    )
    speed = bar_chart(
        "Bot response time per bot and channel (ms)",
        labels,
        [
            Series("p50", [f.percentile(0.5) or 0 for f in found]),
            Series("p95", [f.percentile(0.95) or 0 for f in found]),
        ],
    )
    return await _page(
        request,
        "bots",
        filters,
        rows=found,
        overall=overall,
        reasons=[(r, bot_texts.reason_text(r), overall.handoffs[r]) for r in reasons],
        charts={"containment": containment, "handoffs": handoffs, "speed": speed},
    )


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/reports/bots", bots_page)
