"""The SLA countdown on a conversation is live and a breach is loud: the page carries the due
time for the browser to count down, every change of the SLA state is pushed on the live event
stream, and the assignee and the team's supervisors are notified (as jobs on the one queue)
when a target is at risk and when it is breached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hub.config.settings import Settings
from hub.db.inbox_models import Event
from hub.db.models import Role
from hub.db.routing_models import AdminNotice, Job
from hub.platform.clock import Clock, ManualClock
from tests.conftest import fake_endpoints, make_settings
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.agent_api import call
from tests.support.desk import Desk
from tests.support.recorder import HttpRecorder
from tests.support.smtp import SmtpSink

MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = {
    "name": "round the clock",
    "first_response_minutes": 30,
    "resolution_minutes": 600,
    "warn_before_minutes": 10,
}


@pytest.fixture
def desk_clock() -> Clock:
    return ManualClock(MONDAY_9)


@pytest.fixture
def settings(database_url: str, smtp_sink: SmtpSink, callback_server: HttpRecorder) -> Settings:
    return make_settings(
        database_url,
        **fake_endpoints(smtp_sink, callback_server),
        **{"sla_policies": [POLICY], "jobs.poll_seconds": 3600, "followups.rules": []},
    )


async def notices(desk: Desk, token: str) -> list[str]:
    status, listed = await call(desk.client, "GET", "/api/v1/routing/notices", token)
    assert status == 200
    return sorted(n["kind"] for n in listed["items"])


async def sla_events(desk: Desk, conversation_id: int) -> list[str]:
    async with desk.db.reader() as session:
        rows = await session.scalars(
            select(Event).where(Event.kind == "sla", Event.conversation_id == conversation_id)
        )
        return [str(row.payload["state"]) for row in rows]


async def test_countdown_is_live_and_risk_and_breach_are_notified(
    desk: Desk, ui_agent: UiFactory
) -> None:
    clock = desk.clock
    alice = await ui_agent("alice@example.com")
    _, alice_token = await desk.agent("alice.api@example.com", capacity=0)
    boss_id, boss_token = await desk.agent("boss@example.com", role=Role.SUPERVISOR, capacity=0)
    opened = await inbound(desk, "Our printer is broken")
    conversation = await desk.conversation(opened.conversation_id)
    assert conversation.assignee_id == alice.agent_id
    due = MONDAY_9 + timedelta(minutes=30)

    page = await alice.page(f"/ui/conversations/{opened.conversation_id}")
    assert f'data-due="{due.isoformat()}"' in page  # the browser counts down from it

    clock.current = MONDAY_9 + timedelta(minutes=21)  # 9 minutes left: at risk
    await desk.run_jobs()
    assert await sla_events(desk, opened.conversation_id) == ["warning"]
    assert await notices(desk, boss_token) == ["sla_warning"]
    page = await alice.page(f"/ui/conversations/{opened.conversation_id}")
    assert "sla-due_soon" in page

    clock.current = MONDAY_9 + timedelta(minutes=31)
    await desk.run_jobs()
    await desk.run_jobs()  # nothing twice
    assert await sla_events(desk, opened.conversation_id) == ["warning", "breach"]
    assert await notices(desk, boss_token) == ["sla_breach", "sla_warning"]
    page = await alice.page(f"/ui/conversations/{opened.conversation_id}")
    assert "sla-breached" in page
    async with desk.db.reader() as session:
        jobs = (await session.scalars(select(Job).where(Job.kind == "sla_notice"))).all()
        assert sorted(job.state for job in jobs) == ["done", "done"]
        pushed = (await session.scalars(select(Event).where(Event.kind == "notice"))).all()
        assert all({alice.agent_id, boss_id} <= set(e.agent_ids) for e in pushed)
        assert len(pushed) == 2
        mine = await session.scalars(
            select(AdminNotice.kind).where(AdminNotice.agent_id == alice.agent_id)
        )
        assert sorted(mine) == ["sla_breach", "sla_warning"]  # the assignee's notices
    assert await notices(desk, alice_token) == []  # someone else's notices stay theirs
