"""SLA compliance and satisfaction figures: each target decided once per conversation (at the
first delivered reply, the first resolve, or by the monitor's breach), per team and agent; CSAT
average, distribution and response rate, a changed answer counted once."""

from __future__ import annotations

import asyncio

import pytest

from hub.db.models import Conversation, Role
from hub.db.report_models import ReportFact
from hub.reports.record import Breach, Reports
from hub.routing.csat import signature
from tests.hub.reports.conftest import MakeStory
from tests.hub.reports.test_api import PERIOD, get
from tests.hub.reports.test_figures import at, history
from tests.support.desk import auth
from tests.support.overlap import at_once

OFFICE_SLA = {
    "name": "office",
    "calendar": "office",
    "first_response_minutes": 60,
    "resolution_minutes": 240,
    "warn_before_minutes": 0,
    "notify_supervisor": False,
}
SURVEY = {"name": "csat", "trigger": "resolved", "action": "survey", "template": "csat_survey"}


async def test_sla_compliance_per_team_and_agent(make_story: MakeStory) -> None:
    story = await make_story(sla_policies=[OFFICE_SLA])
    await history(story)
    await story.desk.run_jobs()  # the monitor sees D unresolved past its due time
    _, boss = await story.desk.agent("boss@example.com", role=Role.SUPERVISOR, capacity=0)
    report = await get(story, boss, f"/api/v1/reports/sla?{PERIOD}")
    overall = report["overall"]
    # First response: A (10 min) and D (40 min) met; B (Friday 16:00, due Monday 09:00,
    # answered 10:00) breached; C was never answered by a person and was resolved in time.
    assert (overall["first_response_met"], overall["first_response_breached"]) == (2, 1)
    assert overall["first_response_percent"] == pytest.approx(66.7)
    # Resolution (4 business hours): A and C met (A's second resolve is not counted again);
    # D, open since Monday 12:00, was due at 16:00: breached. B is due on Monday at 12:00.
    assert (overall["resolution_met"], overall["resolution_breached"]) == (2, 1)
    assert overall["resolution_percent"] == pytest.approx(66.7)
    [team] = report["teams"]
    assert team["name"] == "Support" and team["first_response_met"] == 2
    ann = next(a for a in report["agents"] if a["name"] == "Ann")
    assert (ann["first_response_met"], ann["first_response_breached"]) == (2, 1)
    breached = await get(
        story,
        boss,
        f"/api/v1/reports/conversations?{PERIOD}&metric=sla_first_response_breached",
    )
    assert len(breached["conversation_ids"]) == 1
    # Every conversation here is on the api channel and of the standard tier: a breakdown
    # filtered by either (kept as pairs of dimensions) is the same breakdown.
    for extra in ("&channel=api", "&tier=standard", "&channel=api&tier=standard"):
        filtered = await get(story, boss, f"/api/v1/reports/sla?{PERIOD}{extra}")
        assert [filtered[k] for k in ("overall", "teams", "agents")] == [
            report[k] for k in ("overall", "teams", "agents")
        ], extra
    nothing = await get(story, boss, f"/api/v1/reports/sla?{PERIOD}&channel=api&tag=vip")
    assert nothing["overall"]["first_response_met"] == 0  # from the facts: no such tag


async def test_csat_average_distribution_and_response_rate(make_story: MakeStory) -> None:
    story = await make_story(**{"followups.rules": [SURVEY]})
    desk = story.desk
    _, story.token = await desk.agent("ann@example.com")
    _, boss = await desk.agent("boss@example.com", role=Role.ADMIN, capacity=0)
    opened = []
    for n, sender in enumerate(("amy@example.com", "ben@example.com", "cy@example.com")):
        story.at(at(4, 10, n))
        conversation = await story.writes(sender, "Help")
        await story.replies(conversation, "Done")
        await story.status(conversation, "resolved")
        opened.append(conversation)
    for _ in range(3):  # schedule the surveys, send them
        await desk.run_jobs()
    await story.deliver()
    secret = desk.settings.secret_key
    first = opened[0]
    for score in (2, 5):  # Amy changes her mind: only the last answer counts
        clicked = await desk.client.get(f"/csat/{first}/{score}?sig={signature(secret, first)}")
        assert clicked.status == 200
    story.at(at(4, 11))
    await story.writes("ben@example.com", "4")  # Ben answers the survey by replying a digit
    report = await get(story, boss, f"/api/v1/reports/csat?{PERIOD}")
    assert report["scores"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    assert report["surveys"] == 3 and report["answers"] == 2
    assert report["average"] == 4.5
    assert report["response_rate_percent"] == pytest.approx(66.7)
    times = await get(story, boss, f"/api/v1/reports/response-times?{PERIOD}")
    reply = next(i for i in times["items"] if i["metric"] == "reply")
    assert reply["count"] == 3  # Ben's "4" answered the survey; it waits for nobody
    fives = await get(story, boss, f"/api/v1/reports/conversations?{PERIOD}&metric=csat_5")
    assert fives["conversation_ids"] == [first]
    assert auth(boss)


async def test_a_breach_seen_by_two_writers_at_once_counts_once(make_story: MakeStory) -> None:
    """The SLA monitor and another writer (the demo's seeding, a second process) decide the
    same breach at the same moment: one fact, counted once, and neither writer fails."""
    story = await make_story(sla_policies=[OFFICE_SLA])
    desk = story.desk
    story.at(at(2, 12))
    conversation_id = await story.writes("amy@example.com", "Where is my parcel?")
    _, boss = await desk.agent("boss@example.com", role=Role.SUPERVISOR, capacity=0)
    reports = Reports(desk.settings)
    due = at(2, 13)

    async def record(hold: asyncio.Event | None = None) -> None:
        async with desk.db.writer() as session, session.begin():
            conversation = await session.get(Conversation, conversation_id)
            assert conversation is not None
            await reports.sla_breaches(session, [Breach(conversation, "first_response", due)])
            if hold is not None:
                await hold.wait()

    await at_once(record, sqlite=desk.db.is_sqlite)  # the second insert skips the first's
    assert (
        await desk.count(ReportFact, ReportFact.dedupe == f"sla:{conversation_id}:first_response")
        == 1
    )
    report = await get(story, boss, f"/api/v1/reports/sla?{PERIOD}")
    assert report["overall"]["first_response_breached"] == 1
