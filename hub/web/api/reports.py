"""The report API (supervisors and admins): the figures the report pages draw, typed, over a
period in the account's time zone, with the same filters; and the drill-down behind any
figure."""

from __future__ import annotations

from typing import Any

from hub.reports import figures, texts
from hub.reports.access import may_read_reports, scoped
from hub.reports.figures import Figures
from hub.web.api.edge import Call, Doc, Endpoint, Requires, endpoint
from hub.web.api.models.reports import (
    AgentReport,
    CsatReport,
    DrillQuery,
    DrillReport,
    ReportQuery,
    ResponseTimes,
    SlaReport,
    VolumeReport,
)
from hub.web.report_filters import parse_drill, parse_filters

TAG = "Reports"


READERS = Requires(may_read_reports, texts.FORBIDDEN_ACTION)


def _doc(summary: str, operation: str) -> Doc:
    return Doc(TAG, summary, operation, requires=READERS, errors=(400, 401, 403))


async def _figures(call: Call, query: ReportQuery, build: Figures) -> dict[str, Any]:
    hub = call.hub
    now = hub.clock.now()
    filters = parse_filters(query.model_dump(exclude_none=True), hub.reports.day(now), now)
    filters = scoped(call.principal, hub.settings.reports, filters)
    async with hub.db.reader() as session:
        return await build(session, filters, hub.settings.reports.timezone)


@endpoint(
    "GET",
    "/api/v1/reports/response-times",
    _doc("First response, reply and resolution times: median, p90, histogram", "reportTimes"),
)
async def response_times(call: Call, query: ReportQuery) -> ResponseTimes:
    return ResponseTimes.model_validate(await _figures(call, query, figures.response_times))


@endpoint(
    "GET",
    "/api/v1/reports/volume",
    _doc("Customer messages and new conversations by day and hour, per channel", "reportVolume"),
)
async def volume(call: Call, query: ReportQuery) -> VolumeReport:
    return VolumeReport.model_validate(await _figures(call, query, figures.volume))


@endpoint(
    "GET",
    "/api/v1/reports/sla",
    _doc(
        "SLA compliance (first response, resolution) overall, per team and per agent", "reportSla"
    ),
)
async def sla(call: Call, query: ReportQuery) -> SlaReport:
    return SlaReport.model_validate(await _figures(call, query, figures.sla))


@endpoint(
    "GET",
    "/api/v1/reports/csat",
    _doc("Satisfaction: average, distribution and response rate", "reportCsat"),
)
async def csat(call: Call, query: ReportQuery) -> CsatReport:
    return CsatReport.model_validate(await _figures(call, query, figures.csat))


@endpoint(
    "GET",
    "/api/v1/reports/agents",
    _doc("Agent activity: replies, resolutions, mean first response", "reportAgents"),
)
async def agents(call: Call, query: ReportQuery) -> AgentReport:
    return AgentReport.model_validate(await _figures(call, query, figures.agents))


@endpoint(
    "GET",
    "/api/v1/reports/conversations",
    _doc("The conversations behind a figure or a histogram bar", "reportDrill"),
)
async def conversations(call: Call, query: DrillQuery) -> DrillReport:
    hub = call.hub
    raw = query.model_dump(exclude_none=True)
    now = hub.clock.now()
    filters = parse_filters(raw, hub.reports.day(now), now)
    filters = scoped(call.principal, hub.settings.reports, filters)
    which = parse_drill(raw)
    async with hub.db.reader() as session:
        found = await figures.drilled(session, filters, which, hub.settings.reports.timezone)
    return DrillReport.model_validate(found)


ENDPOINTS: tuple[Endpoint, ...] = (response_times, volume, sla, csat, agents, conversations)
