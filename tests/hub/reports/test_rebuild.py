"""``relaydesk reports rebuild`` recomputes facts and rollups from history: after it, every
report answers what the live recording answered; with --since only those days are rewritten."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, func, select

from hub.db.models import Role
from hub.db.report_models import ReportDaily, ReportFact, ReportHourly
from hub.reports.rebuild import rebuild
from tests.hub.reports.conftest import Story
from tests.hub.reports.test_api import PERIOD, get
from tests.hub.reports.test_figures import history

REPORTS = ("response-times", "volume", "sla", "csat", "agents")


async def everything(story: Story, token: str) -> dict[str, Any]:
    found = {name: await get(story, token, f"/api/v1/reports/{name}?{PERIOD}") for name in REPORTS}
    for metric in ("first_response", "reply", "resolution", "replies"):
        drill = f"/api/v1/reports/conversations?{PERIOD}&metric={metric}"
        found[metric] = (await get(story, token, drill))["conversation_ids"]
    return found


async def test_rebuild_gives_the_figures_recorded_live(story: Story) -> None:
    await history(story)
    _, boss = await story.desk.agent("boss@example.com", role=Role.SUPERVISOR, capacity=0)
    live = await everything(story, boss)
    async with story.desk.db.writer() as session:  # as if reports came after the history
        await session.execute(delete(ReportDaily))
        await session.execute(delete(ReportHourly))
        await session.execute(delete(ReportFact).where(ReportFact.kind != "sla"))
        await session.commit()
    assert (await everything(story, boss))["response-times"] != live["response-times"]
    seen: list[tuple[int, int]] = []
    async with story.desk.db.writer() as session:
        done = await rebuild(session, story.desk.hub.reports, progress=lambda *p: seen.append(p))
        await session.commit()
    assert done.conversations == 4 and seen[-1] == (4, 4)
    assert await everything(story, boss) == live


async def test_rebuild_since_a_day_keeps_the_days_before(story: Story) -> None:
    await history(story)
    _, boss = await story.desk.agent("boss@example.com", role=Role.SUPERVISOR, capacity=0)
    live = await everything(story, boss)
    async with story.desk.db.writer() as session:
        before = await session.scalar(select(func.count()).select_from(ReportDaily))
        await rebuild(session, story.desk.hub.reports, since=date(2026, 3, 3))
        await session.commit()
        after = await session.scalar(select(func.count()).select_from(ReportDaily))
    assert after == before
    assert await everything(story, boss) == live
