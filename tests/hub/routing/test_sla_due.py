"""The conversation's next SLA deadline (``sla_due_at``, what the inbox sorts and filters by)
follows the facts: first response, waiting on the customer and back, a priority change (which
re-applies the SLA policy to the ticket over the API), resolution."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text

from hub.db.models import Direction, Message, Role
from hub.platform.migrate import upgrade
from tests.support.desk import Desk, MakeDesk, auth

POLICIES = [
    {
        "name": "fast lane",
        "priorities": ["high", "urgent"],
        "first_response_minutes": 15,
        "resolution_minutes": 60,
        "notify_supervisor": False,
    },
    {
        "name": "standard",
        "first_response_minutes": 30,
        "resolution_minutes": 120,
        "notify_supervisor": False,
    },
]


async def due(desk: Desk, conversation_id: int) -> datetime | None:
    return (await desk.conversation(conversation_id)).sla_due_at


async def ticket(desk: Desk, token: str, conversation_id: int) -> dict[str, Any]:
    response = await desk.client.get(
        f"/api/v1/conversations/{conversation_id}", headers=auth(token)
    )
    assert response.status == 200
    body: dict[str, Any] = (await response.json())["ticket"]
    return body


async def events(desk: Desk, conversation_id: int) -> list[str]:
    async with desk.hub.db.reader() as session:
        found = await session.scalars(
            select(Message.text)
            .where(Message.conversation_id == conversation_id, Message.direction == Direction.EVENT)
            .order_by(Message.id)
        )
        return list(found.all())


async def test_due_time_follows_reply_pause_priority_and_resolve(make_desk: MakeDesk) -> None:
    desk = await make_desk(sla_policies=POLICIES)
    start = desk.clock.now()
    _, token = await desk.agent("agent@example.com")
    opened = await desk.customer_writes("Where is my parcel?")
    conversation_id = opened.conversation_id
    path = f"/api/v1/conversations/{conversation_id}"

    assert await due(desk, conversation_id) == start + timedelta(minutes=30)  # first response
    await desk.run_jobs()  # the ticket shows the clock's due times
    shown = await ticket(desk, token, conversation_id)
    assert shown["first_response_due_at"] == (start + timedelta(minutes=30)).isoformat()
    assert shown["resolution_due_at"] == (start + timedelta(minutes=120)).isoformat()

    desk.clock.advance(timedelta(minutes=10))
    reply = await desk.client.post(
        f"{path}/messages", json={"text": "Which order?"}, headers=auth(token)
    )
    assert reply.status == 201
    assert await due(desk, conversation_id) == start + timedelta(minutes=120)  # resolution next

    waiting = await desk.client.patch(path, json={"status": "pending"}, headers=auth(token))
    assert waiting.status == 200
    assert await due(desk, conversation_id) is None  # paused: nothing is due
    await desk.run_jobs()
    assert await due(desk, conversation_id) is None

    desk.clock.advance(timedelta(hours=1))
    back = await desk.client.patch(path, json={"status": "open"}, headers=auth(token))
    assert back.status == 200
    await desk.run_jobs()
    assert await due(desk, conversation_id) == start + timedelta(hours=3)  # 2 h + 1 h paused

    raised = await desk.client.patch(path, json={"priority": "high"}, headers=auth(token))
    assert raised.status == 200
    # The fast lane: resolution 60 minutes of running time; the first response stays met.
    assert await due(desk, conversation_id) == start + timedelta(hours=2)
    shown = await ticket(desk, token, conversation_id)
    assert shown["priority"] == "high"
    assert shown["resolution_due_at"] == (start + timedelta(hours=2)).isoformat()
    assert shown["first_response_due_at"] == (start + timedelta(minutes=30)).isoformat()
    assert any(
        text.startswith("Priority changed to high") for text in await events(desk, conversation_id)
    )
    await desk.run_jobs()
    assert await due(desk, conversation_id) == start + timedelta(hours=2)

    resolved = await desk.client.patch(path, json={"status": "resolved"}, headers=auth(token))
    assert resolved.status == 200
    assert await due(desk, conversation_id) is None
    await desk.run_jobs()
    assert await due(desk, conversation_id) is None


async def test_priority_patch_reapplies_the_policy_to_the_ticket(make_desk: MakeDesk) -> None:
    desk = await make_desk(sla_policies=POLICIES)
    start = desk.clock.now()
    await desk.agent("agent@example.com")
    _, boss = await desk.agent("boss@example.com", role=Role.SUPERVISOR, capacity=0)
    opened = await desk.customer_writes("My invoice looks wrong")
    conversation_id = opened.conversation_id
    path = f"/api/v1/conversations/{conversation_id}"
    await desk.run_jobs()
    desk.clock.advance(timedelta(minutes=5))

    changed = await desk.client.patch(path, json={"priority": "urgent"}, headers=auth(boss))
    assert changed.status == 200
    assert (await changed.json())["priority"] == "urgent"
    shown = await ticket(desk, boss, conversation_id)
    assert shown["priority"] == "urgent"
    assert shown["first_response_due_at"] == (start + timedelta(minutes=15)).isoformat()
    assert shown["resolution_due_at"] == (start + timedelta(minutes=60)).isoformat()
    assert await due(desk, conversation_id) == start + timedelta(minutes=15)
    deadline = start + timedelta(minutes=15)
    expected = f"Priority changed to urgent; next SLA deadline {deadline:%Y-%m-%d %H:%M} UTC"
    assert expected in await events(desk, conversation_id)

    # The same priority again changes nothing and records nothing.
    again = await desk.client.patch(path, json={"priority": "urgent"}, headers=auth(boss))
    assert again.status == 200
    assert (await events(desk, conversation_id)).count(expected) == 1

    # The monitor now breaches against the new target.
    desk.clock.current = start + timedelta(minutes=16)
    await desk.run_jobs()
    response = await desk.client.get("/api/v1/routing/sla/events?kind=breach", headers=auth(boss))
    [breach] = (await response.json())["items"]
    assert breach["metric"] == "first_response"
    assert breach["due_at"] == (start + timedelta(minutes=15)).isoformat()

    bad = await desk.client.patch(path, json={"priority": "asap"}, headers=auth(boss))
    assert bad.status == 422
    assert "priority" in await bad.text()


def test_migration_fills_the_due_time_from_clock_or_ticket(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0003_inbox")
    upgrade(url, "0005_routing")
    engine = create_engine(url.replace("+aiosqlite", ""))
    at = "2026-03-02 09:00:00.000000"
    with engine.begin() as db:
        db.execute(
            text(
                "INSERT INTO customers (id, name, name_key, company, tier, tags, attributes,"
                " locale, timezone, consent, notes, created_at)"
                " VALUES (1, 'Jane', 'jane', '', 'standard', '[]', '{}', 'en', 'UTC', '{}', '',"
                " :at)"
            ),
            {"at": at},
        )
        # id, status, first response, ticket (first, resolution), clock (first, resolution)
        rows = [
            (1, "open", None, ("2026-03-02 10:00:00.000000", "2026-03-05 09:00:00.000000"), None),
            (2, "open", at, ("2026-03-02 10:00:00.000000", "2026-03-05 09:00:00.000000"), None),
            (
                3,
                "pending",
                None,
                ("2026-03-02 10:00:00.000000", "2026-03-05 09:00:00.000000"),
                None,
            ),
            (
                4,
                "open",
                None,
                ("2026-03-02 10:00:00.000000", "2026-03-05 09:00:00.000000"),
                ("2026-03-03 08:30:00.000000", "2026-03-04 12:00:00.000000"),
            ),
            (5, "open", None, None, None),
        ]
        for cid, status, answered, ticket, clock in rows:
            db.execute(
                text(
                    "INSERT INTO conversations (id, token, customer_id, channel, subject, status,"
                    " priority, created_at, last_activity_at, first_response_at)"
                    " VALUES (:id, :token, 1, 'mail', '', :status, 'normal', :at, :at, :answered)"
                ),
                {"id": cid, "token": f"t{cid}", "status": status, "at": at, "answered": answered},
            )
            if ticket:
                db.execute(
                    text(
                        "INSERT INTO tickets (number, conversation_id, subject, status, priority,"
                        " category, first_response_due_at, resolution_due_at, created_at,"
                        " updated_at) VALUES (:number, :id, '', 'open', 'normal', '', :first,"
                        " :resolution, :at, :at)"
                    ),
                    {"number": 1000 + cid, "id": cid, "first": ticket[0], "resolution": ticket[1]}
                    | {"at": at},
                )
            if clock:
                db.execute(
                    text(
                        "INSERT INTO sla_clocks (conversation_id, policy, started_at, pauses,"
                        " first_due_at, resolution_due_at, dirty)"
                        " VALUES (:id, 'office', :at, '[]', :first, :resolution, 0)"
                    ),
                    {"id": cid, "at": at, "first": clock[0], "resolution": clock[1]},
                )
    upgrade(url)
    with engine.connect() as db:
        found = dict(db.execute(text("SELECT id, sla_due_at FROM conversations")).all())
        indexes = {row[1] for row in db.execute(text("PRAGMA index_list('conversations')"))}
    engine.dispose()
    assert found == {
        1: "2026-03-02 10:00:00.000000",  # unanswered: first response (ticket)
        2: "2026-03-05 09:00:00.000000",  # answered: resolution
        3: None,  # waiting on the customer: paused
        4: "2026-03-03 08:30:00.000000",  # the clock decides over the ticket
        5: None,  # no SLA
    }
    assert {"ix_inbox_status_sla", "ix_inbox_assignee_sla", "ix_inbox_team_sla"} <= indexes
