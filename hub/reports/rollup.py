"""The per-day rollups and the two ways they are written: ``DbSink`` adds one fact's figures
in the caller's transaction (counters by upsert; duration rows locked, merged and written, in
key order, so concurrent writers on PostgreSQL neither lose an update nor deadlock), and
``MemorySink`` gathers a whole rebuild in memory and writes it in bulk."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, Protocol

from sqlalchemy import insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.base import table_of
from hub.db.report_models import ReportDaily, ReportHourly
from hub.db.upsert import dialect_insert, insert_into
from hub.reports import sketch

DIMS = ("all", "channel", "team", "agent", "tier", "tag")
NONE_KEY = "none"
Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Slice:
    """What a figure is counted under: its channel, team, agent, customer tier and tags."""

    channel: str
    team_id: int | None
    agent_id: int | None
    tier: str
    tags: tuple[str, ...] = ()

    def values(self) -> dict[str, str]:
        return {
            "channel": _part(self.channel),
            "team": str(self.team_id) if self.team_id is not None else NONE_KEY,
            "agent": str(self.agent_id) if self.agent_id is not None else NONE_KEY,
            "tier": _part(self.tier) or NONE_KEY,
        }

    def slices(self) -> list[Key]:
        """Every row this figure counts in: all, each dimension, the pairs, each tag."""
        values = self.values()
        keys: list[Key] = [("all", ""), *values.items()]
        for first, second in PAIRS:
            keys.append((pair_dim(first, second), f"{values[first]}|{values[second]}"))
        keys += [("tag", tag[:100]) for tag in sorted(set(self.tags))]
        return keys


# Pairs of dimensions kept together, so that a breakdown by team or agent can be filtered by
# another dimension (and two filters combined) without reading the facts.
PAIRS = (
    ("team", "agent"),
    ("team", "channel"),
    ("team", "tier"),
    ("agent", "channel"),
    ("agent", "tier"),
    ("channel", "tier"),
)


def pair_dim(first: str, second: str) -> str:
    return f"{first[:2]}|{second[:2]}"


def pair_of(one: str, other: str) -> tuple[str, str] | None:
    """The kept pair of these two dimensions, in its stored order, if there is one."""
    for pair in PAIRS:
        if pair in ((one, other), (other, one)):
            return pair
    return None


def _part(value: str) -> str:
    return value.replace("|", "/")[:48]


class Sink(Protocol):
    async def durations(
        self, day: date, metric: str, where: Slice, calendar: float, business: float
    ) -> None: ...

    async def counts(self, day: date, metric: str, where: Slice, n: int = 1) -> None: ...

    async def hourly(self, day: date, hour: int, channel: str, metric: str, n: int = 1) -> None: ...


def _blank(day: date, metric: str, dim: str, key: str) -> dict[str, Any]:
    return {
        "day": day,
        "metric": metric,
        "dim": dim,
        "key": key,
        "count": 0,
        "cal_sum": 0.0,
        "biz_sum": 0.0,
        "cal_hist": [],
        "biz_hist": [],
        "cal_sketch": {},
        "biz_sketch": {},
    }


def _add_counts(session: AsyncSession) -> Any:
    """``report_daily`` counters upserted one parameter row at a time: run with a list of rows
    (one executemany, its statement compiled once; a multi-row VALUES is compiled anew for
    every call, which cost more than the round trip it saved)."""
    return _upsert(session.get_bind().dialect.name, "daily")


def _add_hours(session: AsyncSession) -> Any:
    return _upsert(session.get_bind().dialect.name, "hourly")


@cache
def _upsert(dialect: str, which: str) -> Any:
    """The counters' upsert for a dialect, built once: building it (the ``excluded`` alias of
    every column) and its cache key cost more than running it, once per ingest batch."""
    if which == "daily":
        table = table_of(ReportDaily)
        statement = dialect_insert(dialect, table)
        return statement.on_conflict_do_update(
            index_elements=["metric", "dim", "day", "key"],
            set_={"count": table.c.count + statement.excluded.count},
        )
    table = table_of(ReportHourly)
    statement = dialect_insert(dialect, table)
    return statement.on_conflict_do_update(
        index_elements=["day", "hour", "channel", "metric"],
        set_={"count": table.c.count + statement.excluded.count},
    )


class DbSink:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def durations(
        self, day: date, metric: str, where: Slice, calendar: float, business: float
    ) -> None:
        keys = sorted(where.slices())
        rows = [_blank(day, metric, dim, key) for dim, key in keys]
        statement = insert_into(self.session, table_of(ReportDaily)).on_conflict_do_nothing()
        await self.session.execute(statement, rows)
        locked = await self.session.scalars(
            select(ReportDaily)
            .where(
                ReportDaily.day == day,
                ReportDaily.metric == metric,
                tuple_(ReportDaily.dim, ReportDaily.key).in_(keys),
            )
            .order_by(ReportDaily.dim, ReportDaily.key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        for row in locked:
            _add_duration(row, calendar, business)
        await self.session.flush()

    async def counts(self, day: date, metric: str, where: Slice, n: int = 1) -> None:
        keys = sorted(where.slices())
        rows = [{**_blank(day, metric, dim, key), "count": n} for dim, key in keys]
        await self.session.execute(_add_counts(self.session), rows)

    async def hourly(self, day: date, hour: int, channel: str, metric: str, n: int = 1) -> None:
        row = {"day": day, "hour": hour, "channel": channel, "metric": metric, "count": n}
        await self.session.execute(_add_hours(self.session), [row])


class CountSink:
    """Counters gathered over several facts (an ingest batch) and written by ``write`` in one
    upsert per table, rows in key order (so concurrent writers lock them in the same order);
    durations are written at once, as ``DbSink`` does."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.daily: dict[tuple[str, str, date, str], int] = defaultdict(int)
        self.hours: dict[tuple[date, int, str, str], int] = defaultdict(int)

    async def durations(
        self, day: date, metric: str, where: Slice, calendar: float, business: float
    ) -> None:
        await DbSink(self.session).durations(day, metric, where, calendar, business)

    async def counts(self, day: date, metric: str, where: Slice, n: int = 1) -> None:
        for dim, key in where.slices():
            self.daily[(metric, dim, day, key)] += n

    async def hourly(self, day: date, hour: int, channel: str, metric: str, n: int = 1) -> None:
        self.hours[(day, hour, channel, metric)] += n

    async def write(self) -> None:
        if self.daily:
            rows = [
                {**_blank(day, metric, dim, key), "count": n}
                for (metric, dim, day, key), n in sorted(self.daily.items())
            ]
            await self.session.execute(_add_counts(self.session), rows)
        if self.hours:
            hours = [
                {"day": d, "hour": h, "channel": c, "metric": m, "count": n}
                for (d, h, c, m), n in sorted(self.hours.items())
            ]
            await self.session.execute(_add_hours(self.session), hours)
        self.daily.clear()
        self.hours.clear()


def _add_duration(row: ReportDaily, calendar: float, business: float) -> None:
    row.count += 1
    row.cal_sum += calendar
    row.biz_sum += business
    cal_hist = list(row.cal_hist) or sketch.empty_hist()
    cal_hist[sketch.bucket(calendar)] += 1
    biz_hist = list(row.biz_hist) or sketch.empty_hist()
    biz_hist[sketch.bucket(business)] += 1
    row.cal_hist, row.biz_hist = cal_hist, biz_hist
    cal = sketch.merged([row.cal_sketch or {}])
    sketch.add(cal, calendar)
    biz = sketch.merged([row.biz_sketch or {}])
    sketch.add(biz, business)
    row.cal_sketch, row.biz_sketch = cal, biz


@dataclass
class MemorySink:
    """A rebuild's rollups, gathered in memory and written with ``write``."""

    daily: dict[tuple[date, str, str, str], dict[str, Any]] = field(default_factory=dict)
    hours: dict[tuple[date, int, str, str], int] = field(default_factory=lambda: defaultdict(int))

    def _row(self, day: date, metric: str, dim: str, key: str) -> dict[str, Any]:
        found = self.daily.get((day, metric, dim, key))
        if found is None:
            found = self.daily[(day, metric, dim, key)] = _blank(day, metric, dim, key)
        return found

    async def durations(
        self, day: date, metric: str, where: Slice, calendar: float, business: float
    ) -> None:
        cal_bucket, biz_bucket = sketch.bucket(calendar), sketch.bucket(business)
        cal_key, biz_key = sketch.key_of(calendar), sketch.key_of(business)
        for dim, key in where.slices():
            row = self._row(day, metric, dim, key)
            row["count"] += 1
            row["cal_sum"] += calendar
            row["biz_sum"] += business
            if not row["cal_hist"]:
                row["cal_hist"], row["biz_hist"] = sketch.empty_hist(), sketch.empty_hist()
            row["cal_hist"][cal_bucket] += 1
            row["biz_hist"][biz_bucket] += 1
            sketch.add_key(row["cal_sketch"], cal_key)
            sketch.add_key(row["biz_sketch"], biz_key)

    async def counts(self, day: date, metric: str, where: Slice, n: int = 1) -> None:
        for dim, key in where.slices():
            self._row(day, metric, dim, key)["count"] += n

    async def hourly(self, day: date, hour: int, channel: str, metric: str, n: int = 1) -> None:
        self.hours[(day, hour, channel, metric)] += n

    async def write(self, session: AsyncSession, chunk: int = 2000) -> None:
        rows: Sequence[dict[str, Any]] = list(self.daily.values())
        for start in range(0, len(rows), chunk):
            await session.execute(insert(table_of(ReportDaily)), list(rows[start : start + chunk]))
        hours: Iterable[dict[str, Any]] = (
            {"day": d, "hour": h, "channel": c, "metric": m, "count": n}
            for (d, h, c, m), n in self.hours.items()
        )
        hour_rows = list(hours)
        for start in range(0, len(hour_rows), chunk):
            await session.execute(insert(table_of(ReportHourly)), hour_rows[start : start + chunk])
