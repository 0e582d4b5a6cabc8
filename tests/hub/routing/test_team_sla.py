"""Per-team SLA defaults: a team's default policy applies to its conversations only (policies
before it in the list still win), and a team's calendar is the SLA calendar when the policy
names none; both can change while the hub runs."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.db.models import Role
from hub.db.routing_models import SlaClock
from hub.platform.clock import ManualClock
from tests.support.desk import Desk, MakeDesk, auth

POLICIES = [
    {"name": "urgent", "priorities": ["urgent"], "first_response_minutes": 15},
    {"name": "billing hours", "first_response_minutes": 120},
]
# Saturday 10:00 UTC: the office calendar (Mon-Fri 09:00-17:00 Berlin) is closed.
SATURDAY = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)


async def clock_of(desk: Desk, conversation_id: int) -> SlaClock:
    async with desk.db.reader() as session:
        clock = await session.get(SlaClock, conversation_id)
    assert clock is not None
    return clock


async def test_team_defaults(make_desk: MakeDesk) -> None:
    desk = await make_desk(
        ManualClock(SATURDAY),
        memory=("api",),
        sla_policies=POLICIES,
        **{"admin.teams.billing": {"sla_policy": "billing hours", "calendar": "office"}},
    )
    await desk.agent("bill@example.com", teams=("billing",))
    invoice = await desk.customer_writes("Question about my invoice", channel="api")
    clock = await clock_of(desk, invoice.conversation_id)
    assert clock.policy == "billing hours @ billing"
    # closed all weekend: opens Monday 09:00 Berlin, due 120 business minutes later (10:00 UTC)
    assert clock.first_due_at == datetime(2026, 3, 9, 10, 0, tzinfo=UTC)
    other = await desk.customer_writes("Hello there", channel="api", sender="b@example.com")
    assert (await clock_of(desk, other.conversation_id)).policy == "default normal"
    outage = await desk.customer_writes("Outage!", channel="api", sender="c@example.com")
    assert (await clock_of(desk, outage.conversation_id)).policy == "urgent"

    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN)
    response = await desk.client.put(
        "/api/v1/admin/settings/admin.teams",
        json={"value": {"support": {"sla_policy": "billing hours"}}},
        headers=auth(admin),
    )
    assert response.status == 200
    hello = await desk.customer_writes("Hi again", channel="api", sender="d@example.com")
    assert (await clock_of(desk, hello.conversation_id)).policy == "billing hours"
