"""SLA clocks in business time, driven by a ManualClock: a warning before and a breach at the
right moment across a weekend, escalation (supervisor notified, priority raised), every event
recorded once for reports, and the clock paused while the conversation waits on the customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.db.models import Role
from hub.db.routing_models import SlaEvent
from hub.platform.clock import ManualClock
from tests.support.desk import MakeDesk, auth

OFFICE = {
    "timezone": "Europe/Berlin",
    "hours": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-03-09"],
}


async def test_breach_lands_at_the_right_business_hours_time(make_desk: MakeDesk) -> None:
    policy = {
        "name": "office hours",
        "calendar": "office",
        "first_response_minutes": 60,
        "warn_before_minutes": 15,
        "raise_priority": True,
    }
    # Friday 16:30 in Berlin (15:30 UTC): 30 minutes left on Friday, Monday is a holiday,
    # so the first response is due on Tuesday at 09:30 Berlin time (08:30 UTC).
    clock = ManualClock(datetime(2026, 3, 6, 15, 30, tzinfo=UTC))
    desk = await make_desk(clock, **{"calendars.office": OFFICE, "sla_policies": [policy]})
    boss, boss_token = await desk.agent("boss@example.com", role=Role.SUPERVISOR, capacity=0)
    await desk.agent("agent@example.com")
    opened = await desk.customer_writes("Our printer is broken")
    conversation_id = opened.conversation_id

    async def events(kind: str) -> list[dict[str, object]]:
        response = await desk.client.get(
            f"/api/v1/routing/sla/events?kind={kind}", headers=auth(boss_token)
        )
        assert response.status == 200
        items: list[dict[str, object]] = (await response.json())["items"]
        return items

    clock.current = datetime(2026, 3, 10, 8, 14, tzinfo=UTC)  # Tuesday 09:14 Berlin
    await desk.run_jobs()
    assert await events("warning") == [] and await events("breach") == []
    clock.current = datetime(2026, 3, 10, 8, 16, tzinfo=UTC)
    await desk.run_jobs()
    [warning] = await events("warning")
    assert warning["due_at"] == "2026-03-10T08:30:00+00:00"
    assert await events("breach") == []
    clock.current = datetime(2026, 3, 10, 8, 31, tzinfo=UTC)
    await desk.run_jobs()
    await desk.run_jobs()  # a second pass records nothing twice
    [breach] = await events("breach")
    assert breach["metric"] == "first_response"
    assert breach["conversation_id"] == conversation_id
    assert breach["due_at"] == "2026-03-10T08:30:00+00:00"
    assert breach["occurred_at"] == "2026-03-10T08:31:00+00:00"
    assert await desk.count(SlaEvent) == 2
    assert (await desk.conversation(conversation_id)).priority == "high"
    notices = await desk.client.get("/api/v1/routing/notices", headers=auth(boss_token))
    # the supervisor heard when the target was at risk and when it was breached
    warned, breached = sorted(
        (await notices.json())["items"], key=lambda n: n["kind"], reverse=True
    )
    assert (warned["kind"], breached["kind"]) == ("sla_warning", "sla_breach")
    assert breached["conversation_id"] == conversation_id
    assert boss is not None


async def test_clock_pauses_while_waiting_on_the_customer(make_desk: MakeDesk) -> None:
    policy = {
        "name": "round the clock",
        "first_response_minutes": 30,
        "next_response_minutes": 30,
        "resolution_minutes": 120,
        "warn_before_minutes": 0,
        "notify_supervisor": False,
    }
    desk = await make_desk(**{"sla_policies": [policy]})
    start = desk.clock.now()
    _, token = await desk.agent("agent@example.com")
    _, admin_token = await desk.agent("admin@example.com", role=Role.ADMIN, capacity=0)
    opened = await desk.customer_writes("Where is my parcel?")
    conversation = f"/api/v1/conversations/{opened.conversation_id}"
    desk.clock.advance(timedelta(minutes=10))
    reply = await desk.client.post(
        f"{conversation}/messages", json={"text": "Which order number?"}, headers=auth(token)
    )
    assert reply.status == 201
    pending = await desk.client.patch(conversation, json={"status": "pending"}, headers=auth(token))
    assert pending.status == 200

    async def breaches() -> dict[str, str]:
        await desk.run_jobs()
        response = await desk.client.get("/api/v1/routing/sla/events", headers=auth(admin_token))
        return {e["metric"]: e["due_at"] for e in (await response.json())["items"]}

    desk.clock.advance(timedelta(hours=5))  # waiting on the customer: no resolution breach
    assert await breaches() == {}
    await desk.customer_writes(
        "It is order 4711"
    )  # 5 h 10 min after the start; the clock runs again
    desk.clock.current = start + timedelta(hours=5, minutes=39)
    assert await breaches() == {}
    desk.clock.current = start + timedelta(hours=5, minutes=41)
    next_due = (start + timedelta(hours=5, minutes=40)).isoformat()
    assert await breaches() == {"next_response": next_due}
    # Resolution: 120 minutes of running time = start + 2 h + the 5 h paused.
    desk.clock.current = start + timedelta(hours=6, minutes=59)
    assert "resolution" not in await breaches()
    desk.clock.current = start + timedelta(hours=7, minutes=1)
    assert (await breaches())["resolution"] == (start + timedelta(hours=7)).isoformat()
