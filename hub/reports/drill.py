"""Drill-down: the conversations behind a figure, read from the facts (each row is one fact:
a response time, a resolution, an SLA outcome, a satisfaction answer, a reply), and the same
rows as CSV with calendar and business-hours columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.report_models import ReportFact
from hub.reports import sketch
from hub.reports.merge import FACT_KINDS, Filters

PAGE_ROWS = 500  # what a page or an API answer lists
EXPORT_ROWS = 200_000  # what a CSV export holds at most
METRICS = tuple(FACT_KINDS)


class UnknownMetric(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Drill:
    metric: str
    bucket: int | None = None  # a histogram bar
    clock: str = "calendar"  # the bar's clock: calendar or business


def _query(filters: Filters, drill: Drill) -> Select[ReportFact]:
    kinds = FACT_KINDS.get(drill.metric)
    if kinds is None:
        raise UnknownMetric(drill.metric)
    query = select(ReportFact).where(
        ReportFact.kind.in_(kinds),
        ReportFact.state == "done",
        ReportFact.day >= filters.start,
        ReportFact.day <= filters.end,
    )
    if drill.metric.startswith("sla_"):
        metric, _, outcome = drill.metric.removeprefix("sla_").rpartition("_")
        query = query.where(ReportFact.metric == metric, ReportFact.outcome == outcome)
    if drill.metric.startswith("csat_"):
        query = query.where(ReportFact.score == int(drill.metric.removeprefix("csat_")))
    if drill.bucket is not None:
        column = (
            ReportFact.business_seconds
            if drill.clock == "business"
            else ReportFact.calendar_seconds
        )
        low, high = sketch.bucket_range(drill.bucket)
        query = query.where(column >= low)
        if high is not None:
            query = query.where(column < high)
    if filters.channel is not None:
        query = query.where(ReportFact.channel == filters.channel)
    if filters.team_id is not None:
        query = query.where(ReportFact.team_id == filters.team_id)
    if filters.agent_id is not None:
        query = query.where(ReportFact.agent_id == filters.agent_id)
    if filters.tier is not None:
        query = query.where(ReportFact.tier == filters.tier)
    # The (kind, day) index gives this order: the first rows come without sorting them all.
    return query.order_by(ReportFact.day, ReportFact.id)


async def facts(
    session: AsyncSession, filters: Filters, drill: Drill, limit: int = PAGE_ROWS
) -> list[ReportFact]:
    """At most ``limit`` rows, in the order they happened."""
    query = _query(filters, drill)
    if filters.tag is None:
        return list((await session.scalars(query.limit(limit))).all())
    rows = []
    stream = await session.stream_scalars(query.execution_options(yield_per=2000))
    async for fact in stream:
        if filters.tag in (fact.tags or ()):
            rows.append(fact)
            if len(rows) >= limit:
                break
    await stream.close()
    return rows


COLUMNS = (
    "conversation_id",
    "kind",
    "metric",
    "started_at",
    "ended_at",
    "day",
    "calendar_seconds",
    "business_seconds",
    "channel",
    "team_id",
    "agent_id",
    "tier",
    "tags",
    "outcome",
    "score",
)


def facts_csv(rows: Sequence[ReportFact]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for fact in rows:
        writer.writerow(
            [
                fact.conversation_id,
                fact.kind,
                fact.metric,
                fact.started_at.isoformat(),
                fact.ended_at.isoformat() if fact.ended_at else "",
                fact.day.isoformat() if fact.day else "",
                "" if fact.calendar_seconds is None else round(fact.calendar_seconds),
                "" if fact.business_seconds is None else round(fact.business_seconds),
                fact.channel,
                fact.team_id or "",
                fact.agent_id or "",
                fact.tier,
                " ".join(fact.tags or ()),
                fact.outcome,
                fact.score or "",
            ]
        )
    return out.getvalue()
