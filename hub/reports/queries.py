"""The reports over a period: response times, SLA compliance, satisfaction, agent activity and
volume, each built on the merged figures of ``hub.reports.merge``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import Agent, Team
from hub.db.report_models import ReportHourly
from hub.reports import sketch
from hub.reports.facts import DURATIONS
from hub.reports.merge import (
    CSAT_COUNTERS,
    SCORES,
    SLA_COUNTERS,
    Filters,
    Merged,
    table,
)
from hub.reports.presence import time_online
from hub.reports.rollup import NONE_KEY


@dataclass(frozen=True, slots=True)
class Spread:
    median: float | None
    p90: float | None
    mean: float | None
    histogram: list[int]


@dataclass(frozen=True, slots=True)
class Timing:
    metric: str
    count: int
    calendar: Spread
    business: Spread


def _spread(count: int, total: float, hist: list[int], bins: dict[str, Any]) -> Spread:
    return Spread(
        sketch.quantile(bins, 0.5),
        sketch.quantile(bins, 0.9),
        total / count if count else None,
        list(hist),
    )


def timing(metric: str, merged: Merged) -> Timing:
    return Timing(
        metric,
        merged.count,
        _spread(merged.count, merged.cal_sum, merged.cal_hist, merged.cal_sketch),
        _spread(merged.count, merged.biz_sum, merged.biz_hist, merged.biz_sketch),
    )


async def response_times(session: AsyncSession, filters: Filters) -> list[Timing]:
    found = (await table(session, filters, DURATIONS)).get("", {})
    return [timing(metric, found.get(metric, Merged())) for metric in DURATIONS]


@dataclass(frozen=True, slots=True)
class SlaRow:
    key: str
    first_met: int
    first_breached: int
    resolution_met: int
    resolution_breached: int

    @staticmethod
    def percent(met: int, breached: int) -> float | None:
        return round(100.0 * met / (met + breached), 1) if met + breached else None

    @property
    def first_percent(self) -> float | None:
        return self.percent(self.first_met, self.first_breached)

    @property
    def resolution_percent(self) -> float | None:
        return self.percent(self.resolution_met, self.resolution_breached)


def _sla_row(key: str, metrics: dict[str, Merged]) -> SlaRow:
    def n(name: str) -> int:
        return metrics[name].count if name in metrics else 0

    return SlaRow(
        key,
        n("sla_first_response_met"),
        n("sla_first_response_breached"),
        n("sla_resolution_met"),
        n("sla_resolution_breached"),
    )


async def sla(session: AsyncSession, filters: Filters, by: str) -> list[SlaRow]:
    """Compliance overall (``by`` "all") or per team or agent."""
    found = await table(session, filters, SLA_COUNTERS, by)
    return sorted((_sla_row(key, metrics) for key, metrics in found.items()), key=lambda r: r.key)


@dataclass(frozen=True, slots=True)
class Csat:
    scores: dict[int, int]
    surveys: int

    @property
    def answers(self) -> int:
        return sum(self.scores.values())

    @property
    def average(self) -> float | None:
        total = self.answers
        return round(sum(s * n for s, n in self.scores.items()) / total, 2) if total else None

    @property
    def response_rate(self) -> float | None:
        return round(100.0 * self.answers / self.surveys, 1) if self.surveys else None


async def csat(session: AsyncSession, filters: Filters) -> Csat:
    found = (await table(session, filters, (*CSAT_COUNTERS, "surveys"))).get("", {})
    scores = {s: found[f"csat_{s}"].count if f"csat_{s}" in found else 0 for s in SCORES}
    return Csat(scores, found["surveys"].count if "surveys" in found else 0)


@dataclass(frozen=True, slots=True)
class AgentRow:
    agent_id: int | None
    name: str
    replies: int
    resolutions: int
    first_response_mean: float | None
    time_online_seconds: float | None = None


async def agents(session: AsyncSession, filters: Filters, tz: str = "UTC") -> list[AgentRow]:
    """Per agent: replies, resolutions, mean first response and time online in the period
    (presence spans, hub/reports/presence.py), days taken in the account's time zone ``tz``."""
    wanted = ("replies", "resolution", "first_response")
    found = await table(session, filters, wanted, "agent", sketches=False)
    names = await agent_names(session)
    rows = []
    for key, metrics in found.items():
        agent_id = None if key == NONE_KEY else int(key)
        first = metrics.get("first_response", Merged())
        rows.append(
            AgentRow(
                agent_id,
                names.get(agent_id, "(nobody)") if agent_id else "(nobody)",
                metrics["replies"].count if "replies" in metrics else 0,
                metrics["resolution"].count if "resolution" in metrics else 0,
                first.cal_sum / first.count if first.count else None,
            )
        )
    zone = ZoneInfo(tz)
    start = datetime.combine(filters.start, time(0), zone)
    end = datetime.combine(filters.end + timedelta(days=1), time(0), zone)
    ids = [row.agent_id for row in rows if row.agent_id is not None]
    # a span still open counts until the hub clock's now, brought in the filters (reports
    # read no clock of their own); without one, until the end of the period
    until = end if filters.now is None else min(end, filters.now)
    online = await time_online(session, ids, start, end, now=until)
    rows = [
        replace(row, time_online_seconds=online[row.agent_id].total_seconds())
        if row.agent_id is not None
        else row
        for row in rows
    ]
    return sorted(rows, key=lambda r: (-r.replies, r.name))


@dataclass(frozen=True, slots=True)
class Volume:
    days: list[date]
    channels: list[str]
    messages_by_day: dict[str, list[int]]
    conversations_by_day: dict[str, list[int]]
    messages_by_hour: dict[str, list[int]]


async def volume(session: AsyncSession, filters: Filters) -> Volume:
    """Customer messages and new conversations per day and per hour of the day, per channel
    (the account's time zone). Broken down by channel only: other filters do not apply."""
    days = filters.days()
    index = {day: n for n, day in enumerate(days)}
    where = [ReportHourly.day >= filters.start, ReportHourly.day <= filters.end]
    if filters.channel is not None:
        where.append(ReportHourly.channel == filters.channel)
    total = func.sum(ReportHourly.count)
    messages: dict[str, list[int]] = {}
    conversations: dict[str, list[int]] = {}
    hours: dict[str, list[int]] = {}
    by_day = await session.execute(
        select(ReportHourly.day, ReportHourly.channel, ReportHourly.metric, total)
        .where(*where)
        .group_by(ReportHourly.day, ReportHourly.channel, ReportHourly.metric)
    )
    for day, channel, metric, n in by_day:
        target = messages if metric == "messages" else conversations
        for series in (messages, conversations):
            series.setdefault(channel, [0] * len(days))
        target[channel][index[day]] += int(n or 0)
    by_hour = await session.execute(
        select(ReportHourly.hour, ReportHourly.channel, total)
        .where(*where, ReportHourly.metric == "messages")
        .group_by(ReportHourly.hour, ReportHourly.channel)
    )
    for hour, channel, n in by_hour:
        hours.setdefault(channel, [0] * 24)[hour] += int(n or 0)
    for channel in messages:
        hours.setdefault(channel, [0] * 24)
    return Volume(days, sorted(messages), messages, conversations, hours)


async def agent_names(session: AsyncSession) -> dict[int | None, str]:
    return {a: n for a, n in await session.execute(select(Agent.id, Agent.name))}


async def team_names(session: AsyncSession) -> dict[int | None, str]:
    return {t: n for t, n in await session.execute(select(Team.id, Team.name))}


def name_of(names: dict[int | None, str], key: str) -> str:
    if key == NONE_KEY:
        return "(none)"
    return names.get(int(key), key) if key.isdigit() else key


def keyed(rows: Iterable[SlaRow]) -> dict[str, SlaRow]:
    return {row.key: row for row in rows}
