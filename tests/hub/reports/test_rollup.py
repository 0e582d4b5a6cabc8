"""Rollups under concurrent writers (several processes on one PostgreSQL): every figure added
at the same moment lands, none is lost and nobody deadlocks; days merge into one period."""

from __future__ import annotations

import asyncio
from datetime import date

from sqlalchemy import select

from hub.db.report_models import ReportDaily
from hub.reports import sketch
from hub.reports.rollup import DbSink, Slice
from tests.hub.reports.conftest import Story

DAY = date(2026, 3, 2)


async def test_concurrent_writers_lose_nothing(story: Story) -> None:
    db = story.desk.db
    slices = [Slice("api", 1, agent, "gold", ("vip",)) for agent in (1, 2)]

    async def writer(n: int) -> None:
        async with db.writer() as session:
            where = slices[n % 2]
            await DbSink(session).durations(DAY, "reply", where, 60.0 * (n + 1), 30.0)
            await DbSink(session).counts(DAY, "replies", where)
            await session.commit()

    await asyncio.gather(*(writer(n) for n in range(12)))
    async with db.reader() as session:
        rows = {
            (row.metric, row.dim, row.key): row
            for row in await session.scalars(select(ReportDaily).where(ReportDaily.day == DAY))
        }
    everyone = rows[("reply", "all", "")]
    assert everyone.count == 12
    assert everyone.cal_sum == sum(60.0 * (n + 1) for n in range(12))
    assert sketch.count(everyone.cal_sketch) == 12 and sum(everyone.biz_hist) == 12
    assert rows[("reply", "agent", "1")].count == 6
    assert rows[("reply", "te|ag", "1|2")].count == 6
    assert rows[("reply", "tag", "vip")].count == 12
    assert rows[("replies", "all", "")].count == 12
    median = sketch.quantile(everyone.cal_sketch, 0.5)
    assert median is not None and abs(median - 360) / 360 < 0.01  # the lower median of 60..720
