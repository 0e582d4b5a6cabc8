"""A desk a month on: the queue rows of the messages it sent and of the jobs that ran are
forgotten (the messages keep their delivery state, the conversation its history), while what
people still need stays: a message that could not be delivered (an agent may retry it), a job
not yet due, and the follow-ups that ran (the record of the reminders and surveys sent). A
backlog (the first pass after an upgrade) goes a few batches a pass, so the queue's own work is
never held up for long."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from hub.db.models import DeliveryState, Message, OutboxItem
from hub.db.routing_models import Job
from hub.platform.clock import ManualClock
from hub.platform.database import Database, open_database
from hub.platform.finished_work import BATCHES_PER_PASS, FinishedWork
from tests.support.agent_api import pending_after_reply
from tests.support.desk import MakeDesk, auth

MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REMINDER = {"name": "nudge", "trigger": "pending", "delay_minutes": 60, "template": "reminder"}


async def test_a_month_later_what_was_sent_and_ran_is_forgotten_and_the_rest_stays(
    make_desk: MakeDesk,
) -> None:
    quiet = {"jobs.poll_seconds": 3600, "sla_policies": [], "followups.rules": [REMINDER]}
    desk = await make_desk(ManualClock(MONDAY_9), memory=("api", "mail"), **quiet)
    _, token = await desk.agent("agent@example.com")
    conversation_id = await pending_after_reply(desk, token)
    conversation = f"/api/v1/conversations/{conversation_id}"
    desk.clock.advance(timedelta(minutes=61))
    await desk.run_jobs()  # the reminder goes out
    await desk.wait_sent(2, channel="api")
    await desk.hub.dispatcher.run_once()

    # Another customer's reply that could not be delivered, and a job due next year.
    other = await desk.customer_writes("Hello?", sender="tom@example.com")
    undelivered = await desk.client.post(
        f"/api/v1/conversations/{other.conversation_id}/messages",
        json={"text": "We are on it"},
        headers=auth(token),
    )
    assert undelivered.status == 201
    message_id = (await undelivered.json())["id"]
    await desk.wait_sent(3, channel="api")
    await desk.hub.dispatcher.run_once()
    async with desk.db.writer() as session:
        await session.execute(
            update(OutboxItem).where(OutboxItem.message_id == message_id).values(state="failed")
        )
        await session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(delivery_state=DeliveryState.FAILED)
        )
        await session.commit()
    async with desk.db.writer() as session:
        session.add(
            Job(
                kind="status_changed",
                conversation_id=other.conversation_id,
                payload={},
                next_attempt_at=desk.clock.now() + timedelta(days=365),
                created_at=desk.clock.now(),
            )
        )
        await session.commit()

    sent_before = await desk.count(OutboxItem, OutboxItem.state == "sent")
    ran_before = await desk.count(Job, Job.state == "done", Job.kind != "followup")
    assert sent_before >= 2 and ran_before >= 2

    desk.clock.advance(timedelta(days=29))
    assert await desk.hub.dispatcher.finished.forget() == 0  # within the month: all kept
    assert await desk.hub.routing.jobs.finished.forget() == 0

    desk.clock.advance(timedelta(days=2))
    assert await desk.hub.dispatcher.finished.forget() == sent_before
    assert await desk.hub.routing.jobs.finished.forget() == ran_before

    assert await desk.count(OutboxItem, OutboxItem.state == "sent") == 0
    assert await desk.count(OutboxItem, OutboxItem.state == "failed") == 1
    assert await desk.count(Job, Job.kind == "followup", Job.state == "done") == 1
    assert await desk.count(Job, Job.state == "pending") == 1
    assert await desk.count(Job, Job.state == "done", Job.kind != "followup") == 0
    # What the agent sees of the conversation is unchanged.
    page = await desk.client.get(f"{conversation}/messages", headers=auth(token))
    texts = [m["text"] for m in (await page.json())["items"]]
    assert "Which order?" in texts and "My order never arrived" in texts


async def test_a_backlog_goes_a_few_batches_a_pass_and_the_next_pass_comes_soon(
    database_url: str,
) -> None:
    clock = ManualClock(MONDAY_9)
    db = open_database(database_url)
    try:
        async with db.writer() as session:
            long_ago = MONDAY_9 - timedelta(days=90)
            session.add_all(
                Job(
                    kind="agent_replied",
                    payload={},
                    state="done",
                    next_attempt_at=long_ago,
                    created_at=long_ago,
                )
                for _ in range(BATCHES_PER_PASS * 2 + 3)
            )
            await session.commit()
        finished = FinishedWork(
            db,
            Job,
            clock,
            timedelta(days=30),
            per_transaction=2,
            every_seconds=3600,
            backlog_every_seconds=0.5,
        )
        assert await finished.prune() == BATCHES_PER_PASS * 2  # a pass's batches, no more
        assert await finished.prune() == 0  # the next pass is not due yet
        await asyncio.sleep(0.6)
        assert await finished.prune() == 3  # the rest, sooner than the usual interval
        await asyncio.sleep(0.6)
        assert await finished.prune() == 0  # nothing left: back to the usual interval
        assert await db_count(db) == 0
    finally:
        await db.dispose()


async def db_count(db: Database) -> int:
    async with db.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(Job)) or 0)
