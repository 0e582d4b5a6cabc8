"""Figures merged over a period, per slice: from the daily rollups (no filter, one filter, or
a kept pair of dimensions) or, for other combinations, from the facts table; never from the
message log. ``table`` is what every report is built on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.report_models import ReportDaily, ReportFact
from hub.reports import sketch
from hub.reports.facts import DURATIONS, contribute
from hub.reports.rollup import Key, MemorySink, pair_dim, pair_of

SCORES = (1, 2, 3, 4, 5)
SLA_COUNTERS = tuple(
    f"sla_{metric}_{outcome}"
    for metric in ("first_response", "resolution")
    for outcome in ("met", "breached")
)
CSAT_COUNTERS = tuple(f"csat_{score}" for score in SCORES)
FACT_KINDS = {
    "first_response": ("first_response",),
    "reply": ("reply",),
    "resolution": ("resolution",),
    "replies": ("response",),
    "surveys": ("survey",),
    **{name: ("sla",) for name in SLA_COUNTERS},
    **{name: ("csat",) for name in CSAT_COUNTERS},
}


@dataclass(frozen=True, slots=True)
class Filters:
    start: date
    end: date  # inclusive
    channel: str | None = None
    team_id: int | None = None
    agent_id: int | None = None
    tier: str | None = None
    tag: str | None = None
    # The hub clock's now when the report was asked for: what is still going on (an agent's
    # open presence span) counts until then. None: the period counts as over.
    now: datetime | None = field(default=None, compare=False)

    def given(self) -> list[Key]:
        pairs = [
            ("channel", self.channel),
            ("team", None if self.team_id is None else str(self.team_id)),
            ("agent", None if self.agent_id is None else str(self.agent_id)),
            ("tier", self.tier),
            ("tag", self.tag),
        ]
        return [(dim, value) for dim, value in pairs if value is not None]

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for links and exports)."""
        found = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        for dim, value in self.given():
            found[{"team": "team_id", "agent": "agent_id"}.get(dim, dim)] = value
        return found


@dataclass
class Merged:
    """One metric's rows merged: count, sums, histograms and sketches."""

    count: int = 0
    cal_sum: float = 0.0
    biz_sum: float = 0.0
    cal_hist: list[int] = field(default_factory=sketch.empty_hist)
    biz_hist: list[int] = field(default_factory=sketch.empty_hist)
    cal_sketch: dict[str, Any] = field(default_factory=sketch.empty)
    biz_sketch: dict[str, Any] = field(default_factory=sketch.empty)

    def merge(self, other: Merged) -> None:
        self.add(
            {
                "count": other.count,
                "cal_sum": other.cal_sum,
                "biz_sum": other.biz_sum,
                "cal_hist": other.cal_hist,
                "biz_hist": other.biz_hist,
                "cal_sketch": other.cal_sketch,
                "biz_sketch": other.biz_sketch,
            }
        )

    def add(self, row: dict[str, Any]) -> None:
        self.count += int(row["count"])
        self.cal_sum += float(row["cal_sum"])
        self.biz_sum += float(row["biz_sum"])
        if row["cal_hist"]:
            self.cal_hist = sketch.add_hist(self.cal_hist, row["cal_hist"])
            self.biz_hist = sketch.add_hist(self.biz_hist, row["biz_hist"])
        if row["cal_sketch"]:
            sketch.merge_into(self.cal_sketch, row["cal_sketch"])
            sketch.merge_into(self.biz_sketch, row["biz_sketch"])


Table = dict[str, dict[str, Merged]]  # slice key -> metric -> merged figures

_COLUMNS = (
    ReportDaily.metric,
    ReportDaily.key,
    ReportDaily.count,
    ReportDaily.cal_sum,
    ReportDaily.biz_sum,
    ReportDaily.cal_hist,
    ReportDaily.biz_hist,
    ReportDaily.cal_sketch,
    ReportDaily.biz_sketch,
)
_COUNT_COLUMNS = (
    ReportDaily.metric,
    ReportDaily.key,
    func.sum(ReportDaily.count),
    func.sum(ReportDaily.cal_sum),
    func.sum(ReportDaily.biz_sum),
)


async def table(
    session: AsyncSession,
    filters: Filters,
    metrics: Sequence[str],
    by: str = "all",
    *,
    sketches: bool = True,
) -> Table:
    """``metrics`` merged over the period, per key of dimension ``by`` ("all": one key "").
    Without ``sketches`` durations get counts and sums only (summed by the database)."""
    given = filters.given()
    if not given or (len(given) == 1 and by in ("all", given[0][0])):
        dim, key = given[0] if given else (by, None)
        found = await _from_rollups(session, filters, metrics, dim, key, sketches)
        if by == "all" and key is not None:  # the one slice asked for is the whole answer
            return {"": found.get(key, {})}
        return found
    wanted = dict(given)
    dims = [d for d, _ in given] + ([by] if by != "all" and by not in wanted else [])
    pair = pair_of(dims[0], dims[1]) if len(dims) == 2 else None
    if pair is None:
        return await _from_facts(session, filters, metrics, by)
    first, second = (wanted.get(pair[0]), wanted.get(pair[1]))
    if first is not None and second is not None:
        key, like = f"{first}|{second}", None
    else:
        key, like = None, f"{first}|%" if first is not None else f"%|{second}"
    dim = pair_dim(*pair)
    found = await _from_rollups(session, filters, metrics, dim, key, sketches, like)
    out: Table = defaultdict(lambda: defaultdict(Merged))
    for key, merged_metrics in found.items():
        parts = dict(zip(pair, key.split("|", 1), strict=True))
        if any(parts[d] != value for d, value in wanted.items()):
            continue
        target = out["" if by == "all" else parts[by]]
        for metric, merged in merged_metrics.items():
            target[metric].merge(merged)
    return out


async def _from_rollups(
    session: AsyncSession,
    filters: Filters,
    metrics: Sequence[str],
    dim: str,
    key: str | None,
    sketches: bool = True,
    like: str | None = None,
) -> Table:
    where = [
        ReportDaily.day >= filters.start,
        ReportDaily.day <= filters.end,
        ReportDaily.metric.in_(metrics),
        ReportDaily.dim == dim,
    ]
    if key is not None:
        where.append(ReportDaily.key == key)
    if like is not None:
        where.append(ReportDaily.key.like(like))
    out: Table = defaultdict(lambda: defaultdict(Merged))
    durations = [m for m in metrics if m in DURATIONS and sketches]
    counters = [m for m in metrics if m not in durations]
    if counters:  # summed by the database
        rows = await session.execute(
            select(*_COUNT_COLUMNS)
            .where(*where[:2], ReportDaily.metric.in_(counters), *where[3:])
            .group_by(ReportDaily.metric, ReportDaily.key)
        )
        for metric, row_key, total, cal_sum, biz_sum in rows:
            merged = out[row_key][metric]
            merged.count += int(total or 0)
            merged.cal_sum += float(cal_sum or 0)
            merged.biz_sum += float(biz_sum or 0)
    if durations:
        rows = await session.execute(
            select(*_COLUMNS).where(*where[:2], ReportDaily.metric.in_(durations), *where[3:])
        )
        for row in rows.mappings():
            out[row["key"]][row["metric"]].add(dict(row))
    return out


async def _from_facts(
    session: AsyncSession, filters: Filters, metrics: Sequence[str], by: str
) -> Table:
    kinds = sorted({kind for metric in metrics for kind in FACT_KINDS.get(metric, ())})
    query = select(ReportFact).where(
        ReportFact.kind.in_(kinds),
        ReportFact.state == "done",
        ReportFact.day >= filters.start,
        ReportFact.day <= filters.end,
    )
    if filters.channel is not None:
        query = query.where(ReportFact.channel == filters.channel)
    if filters.team_id is not None:
        query = query.where(ReportFact.team_id == filters.team_id)
    if filters.agent_id is not None:
        query = query.where(ReportFact.agent_id == filters.agent_id)
    if filters.tier is not None:
        query = query.where(ReportFact.tier == filters.tier)
    sink = MemorySink()
    for fact in await session.scalars(query):
        if filters.tag is None or filters.tag in (fact.tags or ()):
            await contribute(fact, sink)
    out: Table = defaultdict(lambda: defaultdict(Merged))
    for (_, metric, dim, key), row in sink.daily.items():
        if dim == by and metric in metrics:
            out[key][metric].add(row)
    return out
