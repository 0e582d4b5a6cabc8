"""The report pages under /ui/reports (supervisors and admins): response times, volume, SLA,
satisfaction and agent activity over a period, each chart with its table, every figure a link
to the conversations behind it, and CSV exports of each report and of per-conversation rows."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from hub.core.errors import ApiError
from hub.db.models import Role
from hub.reports import figures, sketch, texts
from hub.reports.access import limited, scoped
from hub.reports.drill import EXPORT_ROWS, facts, facts_csv
from hub.reports.merge import Filters
from hub.reports.per_conversation import per_conversation_csv
from hub.reports.queries import agent_names, team_names
from hub.web.keys import hub_of
from hub.web.report_filters import parse_drill, parse_filters
from hub.web.ui import report_csv
from hub.web.ui.render import page
from hub.web.ui.report_charts import Series, bar_chart
from hub.web.ui.viewer import viewer_of

TABS = (
    ("times", "/ui/reports", "Response times"),
    ("volume", "/ui/reports/volume", "Volume"),
    ("sla", "/ui/reports/sla", "SLA"),
    ("csat", "/ui/reports/csat", "Satisfaction"),
    ("agents", "/ui/reports/agents", "Agents"),
    ("bots", "/ui/reports/bots", "Bots"),
)
FORBIDDEN = ApiError(403, "forbidden", texts.FORBIDDEN_PAGE)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def _allowed(request: web.Request) -> None:
    if viewer_of(request).role not in (Role.SUPERVISOR, Role.ADMIN):
        raise FORBIDDEN


def _filters(request: web.Request) -> Filters:
    _allowed(request)
    hub = hub_of(request)
    now = hub.clock.now()
    filters = parse_filters(request.query, hub.reports.day(now), now)
    return scoped(viewer_of(request).principal, hub.settings.reports, filters)


def drill_link(filters: Filters, metric: str, **extra: Any) -> str:
    query = {**filters.query(), "metric": metric}
    query.update({k: str(v) for k, v in extra.items() if v is not None})
    return "/ui/reports/conversations?" + urlencode(query)


async def _choices(request: web.Request) -> dict[str, Any]:
    hub = hub_of(request)
    principal = viewer_of(request).principal
    async with hub.db.reader() as session:
        teams = await team_names(session)
        agents = await agent_names(session)
    if limited(principal, hub.settings.reports):
        teams = {k: v for k, v in teams.items() if k in principal.team_ids}
    return {
        "channels": sorted(hub.settings.channels),
        "teams": sorted(teams.items(), key=lambda item: item[1]),
        "agents": sorted(agents.items(), key=lambda item: item[1]),
    }


async def _page(request: web.Request, tab: str, filters: Filters, **context: Any) -> web.Response:
    hub = hub_of(request)
    query = urlencode(filters.query())
    return page(
        request,
        f"ui/reports/{tab}.html",
        tab=tab,
        tabs=TABS,
        filters=filters,
        query=query,
        timezone=hub.settings.reports.timezone,
        combined=len(filters.given()) > 1,
        own_teams=limited(viewer_of(request).principal, hub.settings.reports),
        duration=duration,
        drill=lambda metric, **extra: drill_link(filters, metric, **extra),
        texts=texts,
        **(await _choices(request)),
        **context,
    )


async def _figures(request: web.Request, build: figures.Figures) -> tuple[Filters, Any]:
    filters = _filters(request)
    hub = hub_of(request)
    async with hub.db.reader() as session:
        found = await build(session, filters, hub.settings.reports.timezone)
    return filters, found


async def times_page(request: web.Request) -> web.Response:
    filters, found = await _figures(request, figures.response_times)
    charts = {
        item["metric"]: bar_chart(
            f"{texts.METRIC_TITLES[item['metric']]}: conversations per duration",
            sketch.LABELS,
            [
                Series(
                    "Calendar time",
                    item["calendar"]["histogram"],
                    [
                        drill_link(filters, item["metric"], bucket=n)
                        for n in range(len(sketch.LABELS))
                    ],
                ),
                Series(
                    "Business hours",
                    item["business"]["histogram"],
                    [
                        drill_link(filters, item["metric"], bucket=n, clock="business")
                        for n in range(len(sketch.LABELS))
                    ],
                ),
            ],
        )
        for item in found["items"]
    }
    return await _page(request, "times", filters, report=found, charts=charts)


async def volume_page(request: web.Request) -> web.Response:
    filters, found = await _figures(request, figures.volume)
    labels = [day.strftime("%d %b") for day in found["days"]]
    every = max(1, len(labels) // 10)
    channels = found["channels"]
    by_day = bar_chart(
        "Customer messages per day",
        labels,
        [Series(c["channel"], c["messages_by_day"]) for c in channels],
        label_every=every,
    )
    by_hour = bar_chart(
        f"Customer messages by hour of the day ({found['period']['timezone']})",
        [f"{h:02d}" for h in range(24)],
        [Series(c["channel"], c["messages_by_hour"]) for c in channels],
        label_every=3,
    )
    return await _page(request, "volume", filters, report=found, by_day=by_day, by_hour=by_hour)


async def sla_page(request: web.Request) -> web.Response:
    filters, found = await _figures(request, figures.sla)
    rows = found["teams"]
    chart = bar_chart(
        "SLA met per team (%)",
        [row["name"] for row in rows],
        [
            Series("First response", [row["first_response_percent"] or 0 for row in rows]),
            Series("Resolution", [row["resolution_percent"] or 0 for row in rows]),
        ],
    )
    return await _page(request, "sla", filters, report=found, chart=chart)


async def csat_page(request: web.Request) -> web.Response:
    filters, found = await _figures(request, figures.csat)
    scores = [str(score) for score in range(1, 6)]
    chart = bar_chart(
        "Answers per score",
        scores,
        [
            Series(
                "Answers",
                [found["scores"][s] for s in scores],
                [drill_link(filters, f"csat_{s}") for s in scores],
            )
        ],
    )
    return await _page(request, "csat", filters, report=found, chart=chart)


async def agents_page(request: web.Request) -> web.Response:
    filters, found = await _figures(request, figures.agents)
    rows = found["items"][:20]
    chart = bar_chart(
        "Replies and resolutions per agent",
        [row["name"] for row in rows],
        [
            Series(
                "Replies",
                [row["replies"] for row in rows],
                [drill_link(filters, "replies", agent_id=row["agent_id"]) for row in rows],
            ),
            Series(
                "Resolutions",
                [row["resolutions"] for row in rows],
                [drill_link(filters, "resolution", agent_id=row["agent_id"]) for row in rows],
            ),
        ],
    )
    return await _page(request, "agents", filters, report=found, chart=chart)


async def drill_page(request: web.Request) -> web.Response:
    filters = _filters(request)
    which = parse_drill(request.query)
    hub = hub_of(request)
    async with hub.db.reader() as session:
        found = await figures.drilled(session, filters, which, hub.settings.reports.timezone)
    return await _page(request, "conversations", filters, report=found, which=which)


async def export(request: web.Request) -> web.Response:
    """``/ui/reports/{name}.csv``: a report's table, or the per-conversation rows."""
    filters = _filters(request)
    name = request.match_info["name"]
    hub = hub_of(request)
    tz = hub.settings.reports.timezone
    async with hub.db.reader() as session:
        if name == "conversations":
            if request.query.get("metric"):
                rows = await facts(session, filters, parse_drill(request.query), EXPORT_ROWS)
                body = facts_csv(rows)
            else:
                body = await per_conversation_csv(session, filters)
        elif name in report_csv.BUILDERS:
            build, write = report_csv.BUILDERS[name]
            body = write(await build(session, filters, tz))
        else:
            raise web.HTTPNotFound()
    filename = f"{name}-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"
    return web.Response(
        text=body,
        content_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/reports", times_page)
    router.add_get("/ui/reports/volume", volume_page)
    router.add_get("/ui/reports/sla", sla_page)
    router.add_get("/ui/reports/csat", csat_page)
    router.add_get("/ui/reports/agents", agents_page)
    router.add_get("/ui/reports/conversations", drill_page)
    router.add_get("/ui/reports/{name}.csv", export)
