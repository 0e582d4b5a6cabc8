"""Insight lists on a small contact history: who is most active, who keeps complaining, who is
about to leave (an open issue and silence, or falling contact), who is worth the most; each list
saved as a segment selects the same customers when a campaign uses it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hub.core.customer_filters import members
from hub.db.campaign_models import Segment
from hub.db.models import Role
from tests.support.agent_api import call
from tests.support.crm import seed_conversation, seed_customer
from tests.support.desk import Desk

NOW = datetime.now(UTC)


def ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


async def history(desk: Desk) -> dict[str, int]:
    hub = desk.hub
    people = {
        "ann": await seed_customer(hub, "Ann Active", attributes={"lifetime_value": 5000}),
        "bea": await seed_customer(hub, "Bea Complains", attributes={"lifetime_value": 120.5}),
        "cal": await seed_customer(hub, "Cal Silent"),
        "dee": await seed_customer(hub, "Dee Drifting", attributes={"plan": "basic"}),
        "eve": await seed_customer(hub, "Eve Steady"),
    }
    for days in (1, 3, 8, 20):
        await seed_conversation(hub, people["ann"], ago(days), ticket=None)  # chats, no ticket
    for days in (2, 5, 9):
        await seed_conversation(hub, people["bea"], ago(days), ticket="open")
    await seed_conversation(hub, people["cal"], ago(20), ticket="open")
    for days in (35, 45, 55):
        await seed_conversation(hub, people["dee"], ago(days), ticket="solved")
    await seed_conversation(hub, people["dee"], ago(10), ticket="solved")
    await seed_conversation(hub, people["eve"], ago(5), ticket="solved")
    await seed_conversation(hub, people["eve"], ago(40), ticket="solved")
    return people


async def listed(desk: Desk, token: str, name: str) -> list[tuple[str, float | None]]:
    status, page = await call(desk.client, "GET", f"/api/v1/insights/{name}", token)
    assert status == 200, page
    return [(item["customer"]["name"], item["value"]) for item in page["items"]]


async def test_the_four_lists(desk: Desk) -> None:
    await history(desk)
    _, mark = await desk.agent("mark@example.com", role=Role.MARKETER, teams=())

    status, catalogue = await call(desk.client, "GET", "/api/v1/insights", mark)
    assert status == 200
    assert [i["name"] for i in catalogue["items"]] == [
        "most-active",
        "repeated-complaints",
        "churn-risk",
        "highest-value",
    ]
    assert await listed(desk, mark, "most-active") == [("Ann Active", 4), ("Bea Complains", 3)]
    assert await listed(desk, mark, "repeated-complaints") == [("Bea Complains", 3)]
    assert await listed(desk, mark, "churn-risk") == [("Cal Silent", 20), ("Dee Drifting", 10)]
    assert await listed(desk, mark, "highest-value") == [
        ("Ann Active", 5000),
        ("Bea Complains", 120.5),
    ]


async def test_thresholds_come_from_the_settings(make_desk) -> None:  # type: ignore[no-untyped-def]
    desk = await make_desk(
        **{"crm.insights.complaint_tickets": "2", "crm.insights.complaint_days": "6"}
    )
    await history(desk)
    _, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    assert await listed(desk, sue, "repeated-complaints") == [("Bea Complains", 2)]


async def test_saved_as_a_segment(desk: Desk) -> None:
    people = await history(desk)
    mark_id, mark = await desk.agent("mark@example.com", role=Role.MARKETER, teams=())
    _, alice = await desk.agent("alice@example.com")

    status, segment = await call(
        desk.client, "POST", "/api/v1/insights/churn-risk/segments", mark, {"name": "Win back"}
    )

    assert status == 201, segment
    assert segment["name"] == "Win back" and segment["origin"] == "insight"
    async with desk.hub.db.reader() as session:
        row = await session.scalar(select(Segment).where(Segment.id == segment["id"]))
        assert row is not None and row.created_by == mark_id
        chosen = set((await session.scalars(members(row.definition, NOW))).all())
    assert chosen == {people["cal"], people["dee"]}

    again = await call(
        desk.client, "POST", "/api/v1/insights/most-active/segments", mark, {"name": "Win back"}
    )
    assert again[0] == 422 and "already exists" in again[1]["error"]["fields"]["name"]
    status, body = await call(
        desk.client, "POST", "/api/v1/insights/churn-risk/segments", alice, {"name": "Mine"}
    )
    assert status == 403 and "insight lists" in body["error"]["message"]
    assert (await call(desk.client, "GET", "/api/v1/insights/nope", mark))[0] == 404
    assert (await call(desk.client, "GET", "/api/v1/insights/most-active", alice))[0] == 403
