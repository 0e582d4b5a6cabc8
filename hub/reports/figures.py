"""Every report's figures as plain data (what the API answers and the pages draw), built from
the queries in one reader session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.reports import drill, queries, sketch
from hub.reports.merge import Filters

Figures = Callable[[AsyncSession, Filters, str], Awaitable[dict[str, Any]]]


def _period(filters: Filters, timezone: str) -> dict[str, Any]:
    return {"start": filters.start, "end": filters.end, "timezone": timezone}


def _spread(spread: queries.Spread) -> dict[str, Any]:
    return {
        "median": spread.median,
        "p90": spread.p90,
        "mean": spread.mean,
        "histogram": spread.histogram,
    }


async def response_times(session: AsyncSession, filters: Filters, tz: str) -> dict[str, Any]:
    items = [
        {
            "metric": t.metric,
            "count": t.count,
            "calendar": _spread(t.calendar),
            "business": _spread(t.business),
        }
        for t in await queries.response_times(session, filters)
    ]
    return {"period": _period(filters, tz), "buckets": list(sketch.LABELS), "items": items}


async def volume(session: AsyncSession, filters: Filters, tz: str) -> dict[str, Any]:
    found = await queries.volume(session, filters)
    return {
        "period": _period(filters, tz),
        "days": found.days,
        "channels": [
            {
                "channel": channel,
                "messages_by_day": found.messages_by_day[channel],
                "conversations_by_day": found.conversations_by_day[channel],
                "messages_by_hour": found.messages_by_hour[channel],
            }
            for channel in found.channels
        ],
    }


def _sla_row(row: queries.SlaRow, name: str) -> dict[str, Any]:
    return {
        "key": row.key,
        "name": name,
        "first_response_met": row.first_met,
        "first_response_breached": row.first_breached,
        "first_response_percent": row.first_percent,
        "resolution_met": row.resolution_met,
        "resolution_breached": row.resolution_breached,
        "resolution_percent": row.resolution_percent,
    }


async def sla(session: AsyncSession, filters: Filters, tz: str) -> dict[str, Any]:
    overall = await queries.sla(session, filters, "all")
    teams = await queries.sla(session, filters, "team")
    agents = await queries.sla(session, filters, "agent")
    team_names = await queries.team_names(session)
    agent_names = await queries.agent_names(session)
    total = overall[0] if overall else queries.SlaRow("", 0, 0, 0, 0)
    return {
        "period": _period(filters, tz),
        "overall": _sla_row(total, "All"),
        "teams": [_sla_row(r, queries.name_of(team_names, r.key)) for r in teams],
        "agents": [_sla_row(r, queries.name_of(agent_names, r.key)) for r in agents],
    }


async def csat(session: AsyncSession, filters: Filters, tz: str) -> dict[str, Any]:
    found = await queries.csat(session, filters)
    return {
        "period": _period(filters, tz),
        "scores": {str(score): n for score, n in found.scores.items()},
        "answers": found.answers,
        "surveys": found.surveys,
        "average": found.average,
        "response_rate_percent": found.response_rate,
    }


async def agents(session: AsyncSession, filters: Filters, tz: str) -> dict[str, Any]:
    rows = await queries.agents(session, filters, tz)
    return {
        "period": _period(filters, tz),
        "items": [
            {
                "agent_id": r.agent_id,
                "name": r.name,
                "replies": r.replies,
                "resolutions": r.resolutions,
                "first_response_mean": r.first_response_mean,
                "time_online_seconds": r.time_online_seconds,
            }
            for r in rows
        ],
    }


async def drilled(
    session: AsyncSession, filters: Filters, which: drill.Drill, tz: str
) -> dict[str, Any]:
    rows = await drill.facts(session, filters, which, drill.PAGE_ROWS + 1)
    truncated = len(rows) > drill.PAGE_ROWS
    rows = rows[: drill.PAGE_ROWS]
    return {
        "truncated": truncated,
        "period": _period(filters, tz),
        "metric": which.metric,
        "conversation_ids": sorted({f.conversation_id for f in rows}),
        "items": [
            {
                "conversation_id": f.conversation_id,
                "kind": f.kind,
                "metric": f.metric,
                "started_at": f.started_at.isoformat(),
                "ended_at": f.ended_at.isoformat() if f.ended_at else None,
                "calendar_seconds": f.calendar_seconds,
                "business_seconds": f.business_seconds,
                "channel": f.channel,
                "team_id": f.team_id,
                "agent_id": f.agent_id,
                "tier": f.tier,
                "outcome": f.outcome,
                "score": f.score,
            }
            for f in rows
        ],
    }
