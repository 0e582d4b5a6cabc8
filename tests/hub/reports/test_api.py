"""The report API: the same figures as the pages, for supervisors and admins only; a bad
filter is a 400 naming the parameter; every figure drills down to its conversations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from hub.db.models import Agent, Role
from hub.db.presence_models import PresenceSpan
from tests.hub.reports.conftest import MakeStory, Story
from tests.hub.reports.test_figures import history
from tests.support.desk import auth

PERIOD = "start=2026-03-01&end=2026-03-31"


async def get(story: Story, token: str, path: str, status: int = 200) -> Any:
    response = await story.desk.client.get(path, headers=auth(token))
    assert response.status == status, await response.text()
    return await response.json()


async def ann_online(story: Story, until: datetime | None) -> None:
    """Ann signed in at 09:00 on Monday March 2nd and stayed online ``until`` (None: still)."""
    async with story.desk.db.writer() as session:
        ann_id = await session.scalar(select(Agent.id).where(Agent.name == "Ann"))
        assert ann_id is not None
        started = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        session.add(
            PresenceSpan(agent_id=ann_id, presence="online", started_at=started, ended_at=until)
        )
        await session.commit()


async def test_supervisor_reads_every_report(story: Story) -> None:
    ids = await history(story)
    _, boss = await story.desk.agent("boss@example.com", role=Role.SUPERVISOR, capacity=0)
    times = await get(story, boss, f"/api/v1/reports/response-times?{PERIOD}")
    first = next(i for i in times["items"] if i["metric"] == "first_response")
    assert first["count"] == 4
    assert first["business"]["mean"] == pytest.approx((600 + 2400 + 300 + 7200) / 4)
    assert times["period"] == {"start": "2026-03-01", "end": "2026-03-31", "timezone": "UTC"}

    volume = await get(story, boss, f"/api/v1/reports/volume?{PERIOD}")
    [api] = volume["channels"]
    assert sum(api["messages_by_day"]) == 6  # A 3, C 1, D 1, B 1
    assert sum(api["conversations_by_day"]) == 4
    assert api["messages_by_hour"][9] == 3  # A at 09:00 and 09:20 on Monday, 09:00 on Tuesday
    assert api["messages_by_day"][1] == 4  # Monday March 2nd: A, A, C, D

    await ann_online(story, until=datetime(2026, 3, 2, 11, 0, tzinfo=UTC))  # from 09:00
    agents = await get(story, boss, f"/api/v1/reports/agents?{PERIOD}")
    ann = next(a for a in agents["items"] if a["name"] == "Ann")
    assert ann["replies"] == 5  # the failed reply is not one
    assert ann["resolutions"] == 3
    assert ann["time_online_seconds"] == 2 * 3600

    drill = await get(
        story, boss, f"/api/v1/reports/conversations?{PERIOD}&metric=first_response&bucket=7"
    )
    assert drill["conversation_ids"] == [ids["b"]]  # the 1-3 day bar: Bob's weekend wait
    business = await get(
        story,
        boss,
        f"/api/v1/reports/conversations?{PERIOD}&metric=first_response&bucket=4&clock=business",
    )
    assert business["conversation_ids"] == [ids["b"]]  # 2 business hours
    await get(story, boss, f"/api/v1/reports/sla?{PERIOD}")
    csat = await get(story, boss, f"/api/v1/reports/csat?{PERIOD}")
    assert csat["answers"] == 0 and csat["average"] is None


async def test_one_filter_and_combined_filters_agree(story: Story) -> None:
    ids = await history(story)
    _, admin = await story.desk.agent("boss@example.com", role=Role.ADMIN, capacity=0)
    conversation = await story.desk.conversation(ids["a"])
    team = conversation.team_id
    one = await get(story, admin, f"/api/v1/reports/response-times?{PERIOD}&team_id={team}")
    both = await get(
        story, admin, f"/api/v1/reports/response-times?{PERIOD}&team_id={team}&channel=api"
    )
    assert one["items"] == both["items"]
    agents = await get(story, admin, f"/api/v1/reports/agents?{PERIOD}")
    by_tier = await get(story, admin, f"/api/v1/reports/agents?{PERIOD}&tier=standard")
    assert agents["items"] == by_tier["items"]
    none = await get(story, admin, f"/api/v1/reports/response-times?{PERIOD}&channel=mail")
    assert [i["count"] for i in none["items"]] == [0, 0, 0]


async def test_agents_and_marketers_are_refused(story: Story) -> None:
    _, agent = await story.desk.agent("agent@example.com")
    _, marketer = await story.desk.agent("m@example.com", role=Role.MARKETER, capacity=0)
    for token in (agent, marketer):
        body = await get(story, token, "/api/v1/reports/response-times", 403)
        assert "read reports" in body["error"]["message"]
    response = await story.desk.client.get("/api/v1/reports/volume")
    assert response.status == 401


async def test_bad_filters_name_the_parameter(story: Story) -> None:
    _, boss = await story.desk.agent("boss@example.com", role=Role.SUPERVISOR, capacity=0)
    body = await get(story, boss, "/api/v1/reports/sla?start=yesterday", 400)
    assert "start" in body["error"]["message"]
    body = await get(story, boss, "/api/v1/reports/sla?start=2026-03-05&end=2026-03-01", 400)
    assert "end" in body["error"]["message"]
    body = await get(story, boss, "/api/v1/reports/conversations?metric=nope", 400)
    assert "metric" in body["error"]["message"]
    body = await get(story, boss, "/api/v1/reports/agents?team_id=x1", 400)
    assert "team_id" in body["error"]["message"]


async def test_supervisors_may_be_kept_to_their_own_teams(make_story: MakeStory) -> None:
    story = await make_story(**{"reports.supervisor_scope": "own_teams"})
    await history(story)
    _, admin = await story.desk.agent("root@example.com", role=Role.ADMIN, capacity=0)
    _, boss = await story.desk.agent("boss@example.com", role=Role.SUPERVISOR, capacity=0)
    _, other = await story.desk.agent(
        "bea@example.com", role=Role.SUPERVISOR, teams=("billing",), capacity=0
    )
    everything = await get(story, admin, f"/api/v1/reports/response-times?{PERIOD}")
    own = await get(story, boss, f"/api/v1/reports/response-times?{PERIOD}")
    assert own["items"] == everything["items"]  # every conversation is Support's
    billing = await get(story, other, f"/api/v1/reports/response-times?{PERIOD}")
    assert [item["count"] for item in billing["items"]] == [0, 0, 0]
    support = (await story.desk.conversation(1)).team_id
    refused = await get(story, other, f"/api/v1/reports/sla?{PERIOD}&team_id={support}", 403)
    assert "team you do not supervise" in refused["error"]["message"]
    drill = f"/api/v1/reports/conversations?{PERIOD}&metric=first_response&team_id={support}"
    await get(story, other, drill, 403)


async def test_an_agent_still_online_counts_until_the_hub_clocks_now(story: Story) -> None:
    """Ann signed in at 09:00 on Monday March 2nd and has not signed out: her time online in
    March runs to the hub clock's now (not to the computer's clock, nor the month's end)."""
    await history(story)
    _, boss = await story.desk.agent("boss@example.com", role=Role.SUPERVISOR, capacity=0)
    await ann_online(story, until=None)
    for now, hours in (
        (datetime(2026, 3, 9, 10, 30, tzinfo=UTC), 7 * 24 + 1.5),
        (datetime(2026, 3, 9, 11, 0, tzinfo=UTC), 7 * 24 + 2),
    ):
        story.at(now)
        agents = await get(story, boss, f"/api/v1/reports/agents?{PERIOD}")
        ann = next(a for a in agents["items"] if a["name"] == "Ann")
        assert ann["time_online_seconds"] == hours * 3600
