"""A backlog reaching its SLA targets at the same moment (a Monday morning's queue): the
supervisor is warned of each conversation once and told of each breach once, every timeline
says so, and the sweep records them together (one insert for the events, one for their
notices' jobs, and the notices go out a group at a time) instead of a round of statements per
conversation that holds every ingest up."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.settings import Settings
from hub.core import sla
from hub.db.models import Message, Role
from hub.db.routing_models import SlaClock, SlaEvent
from hub.routing.monitor import lock_conversations
from hub.routing.sla_events import Due, record_together, unrecorded
from tests.support.desk import Desk, MakeDesk, auth
from tests.support.messages import inbound
from tests.support.poll import eventually
from tests.support.reads import statements_heard

POLICY = {
    "name": "standard",
    "first_response_minutes": 60,
    "resolution_minutes": 600,
    "warn_before_minutes": 15,
}
BACKLOG = 12


async def _backlog(desk: Desk) -> list[int]:
    messages = [
        inbound(f"monday-{n}", address=f"customer{n}@example.com", name=f"Customer {n}")
        for n in range(BACKLOG)
    ]
    return [result.conversation_id for result in await desk.ingest(*messages)]


async def _sweep(desk: Desk) -> list[str]:
    heard: list[str] = []
    with statements_heard(desk, heard.append):
        await desk.run_jobs()
    return [statement.split(" (")[0] for statement in heard if statement.startswith("INSERT")]


async def test_a_backlog_reaching_its_targets_at_once_is_warned_and_breached_once_each(
    make_desk: MakeDesk,
) -> None:
    desk = await make_desk(sla_policies=[POLICY])
    _, boss = await desk.agent("boss@example.com", role=Role.SUPERVISOR, capacity=0)
    opened = await _backlog(desk)
    start = desk.clock.now()

    heard: list[str] = []
    with statements_heard(desk, heard.append):
        desk.clock.current = start + timedelta(minutes=50)
        assert (await _sweep(desk)).count("INSERT INTO sla_events") == 1  # twelve, one insert
        desk.clock.current = start + timedelta(minutes=61)
        assert (await _sweep(desk)).count("INSERT INTO sla_events") == 1
        await desk.run_jobs()  # a later pass records nothing twice

        async def delivered() -> bool:
            notices = await desk.client.get("/api/v1/routing/notices", headers=auth(boss))
            return len((await notices.json())["items"]) == 2 * BACKLOG

        await eventually(delivered, what="every notice delivered")
    # the notices went out a group at a time, not one insert each
    inserts = [s.split(" (")[0] for s in heard if s.startswith("INSERT INTO admin_notices")]
    assert 1 <= len(inserts) <= BACKLOG, inserts

    response = await desk.client.get("/api/v1/routing/sla/events?kind=warning", headers=auth(boss))
    warned = (await response.json())["items"]
    response = await desk.client.get("/api/v1/routing/sla/events?kind=breach", headers=auth(boss))
    breached = (await response.json())["items"]
    assert sorted(e["conversation_id"] for e in warned) == sorted(opened)
    assert sorted(e["conversation_id"] for e in breached) == sorted(opened)
    assert {e["metric"] for e in warned + breached} == {"first_response"}
    assert await desk.count(SlaEvent) == 2 * BACKLOG
    notices = await desk.client.get("/api/v1/routing/notices", headers=auth(boss))
    kinds = [(n["kind"], n["conversation_id"]) for n in (await notices.json())["items"]]
    assert sorted(kinds) == sorted(
        [("sla_warning", c) for c in opened] + [("sla_breach", c) for c in opened]
    )
    response = await desk.client.get(
        "/api/v1/reports/sla?start=2026-03-01&end=2026-03-31", headers=auth(boss)
    )
    assert (await response.json())["overall"]["first_response_breached"] == BACKLOG
    for conversation_id in opened:
        lines = await desk.count(
            Message, Message.conversation_id == conversation_id, Message.text.like("SLA %")
        )
        assert lines == 2  # "SLA at risk: ..." and "SLA breached: ..." in its timeline


async def test_events_another_process_recorded_meanwhile_are_left_to_one_at_a_time(
    make_desk: MakeDesk,
) -> None:
    """The group insert gives way when another process's sweep recorded one of its events
    between the read and the insert: none of the group is kept, and the sweep records the
    rest one by one."""
    desk = await make_desk(sla_policies=[POLICY])
    opened = await _backlog(desk)
    assert desk.hub.routing is not None
    monitor = desk.hub.routing.monitor
    now = desk.clock.now() + timedelta(minutes=50)
    async with desk.hub.db.writer() as session:
        conversations = {c.id: c for c in await lock_conversations(session, opened)}
        clocks = await _clocks(session, opened)
        found = [_warning(clock, monitor.settings) for clock in clocks]
        first = await record_together(session, found[:1], conversations, now)
        assert first is not None
        # the first event went in after this sweep read what was recorded
        assert await record_together(session, found, conversations, now) is None
        assert [due.key for due in await unrecorded(session, found)] == [
            due.key for due in found[1:]
        ]
        await session.commit()
    assert await desk.count(SlaEvent) == 1
    desk.clock.current = now
    await desk.run_jobs()
    assert await desk.count(SlaEvent) == BACKLOG


async def _clocks(session: AsyncSession, ids: list[int]) -> list[SlaClock]:
    query = select(SlaClock).where(SlaClock.conversation_id.in_(ids))
    return list((await session.scalars(query.order_by(SlaClock.conversation_id))).all())


def _warning(clock: SlaClock, settings: Settings) -> Due:
    policy = sla.policy_named(settings, clock.policy)
    due_at = sla.due_times(clock)["first_response"]
    assert policy is not None and due_at is not None
    return Due(clock, policy, "first_response", "warning", due_at)
