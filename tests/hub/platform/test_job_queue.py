"""The one job queue and the supervisor: work enqueued in the caller's transaction, claimed with
a lease (taken again when a worker dies; shared without overlap by concurrent workers), retried
with growing delays, dead-lettered with its last error, one item's failure isolated from the
others written with it; a supervised loop that fails is logged once and stops cleanly."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.routing_models import Job
from hub.platform.clock import ManualClock
from hub.platform.database import Database, open_database
from hub.platform.jobs import enqueue
from hub.platform.queue import Claim, Failure, RetryLater, RetryPolicy, WorkQueue
from hub.platform.supervisor import Supervisor, Worker

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Recorder:
    """A handler that fails the items it is told to, and records what it did."""

    def __init__(self) -> None:
        self.failing: dict[int, str] = {}  # job id -> "retry" | "raise"
        self.prepared: list[int] = []
        self.failed_states: list[tuple[int, str]] = []

    async def prepare(self, claim: Claim) -> int:
        self.prepared.append(claim.key)
        if self.failing.get(claim.key) == "retry":
            raise RetryLater("not now")
        return int(claim.key)

    async def apply(self, session: AsyncSession, row: Job, key: int, now: datetime) -> str:
        row.outcome = "ran"
        if self.failing.get(key) == "raise":
            raise ValueError("broken effects")
        return "done"

    async def failed(
        self, session: AsyncSession, row: Job, failure: Failure, now: datetime
    ) -> None:
        self.failed_states.append((row.id, row.state))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = open_database(database_url)
    yield database
    await database.dispose()


def make_queue(db: Database, clock: ManualClock, **options: Any) -> WorkQueue[Job]:
    values: dict[str, Any] = {"lease_seconds": 60, "batch_size": 10}
    values.update(options)
    return WorkQueue(db, Job, clock, RetryPolicy(3, 10, 100), **values)


async def add_jobs(db: Database, count: int, *, commit: bool = True) -> list[int]:
    async with db.writer() as session:
        jobs = [await enqueue(session, "test", NOW, payload={"n": n}) for n in range(count)]
        if commit:
            await session.commit()
        else:
            await session.rollback()
    return [job.id for job in jobs if job is not None]


async def job(db: Database, job_id: int) -> Job:
    async with db.reader() as session:
        found = await session.get(Job, job_id)
        assert found is not None
        return found


async def test_enqueue_belongs_to_the_callers_transaction(db: Database) -> None:
    await add_jobs(db, 3, commit=False)
    queue = make_queue(db, ManualClock(NOW))
    assert await queue.claim() == []
    await add_jobs(db, 3)
    assert len(await queue.claim()) == 3


async def test_failures_back_off_then_the_item_is_dead_lettered_with_its_error(
    db: Database,
) -> None:
    clock = ManualClock(NOW)
    queue = make_queue(db, clock)
    [job_id] = await add_jobs(db, 1)
    handler = Recorder()
    handler.failing[job_id] = "retry"
    delays = []
    for attempt in (1, 2):
        assert await queue.run_batch(handler) == 1
        row = await job(db, job_id)
        assert (row.state, row.attempts, row.last_error) == ("pending", attempt, "not now")
        delays.append((row.next_attempt_at - clock.now()).total_seconds())
        assert await queue.run_batch(handler) == 0  # not before it is due
        clock.advance(timedelta(seconds=delays[-1]))
    assert delays == [10, 20]
    assert await queue.run_batch(handler) == 1
    row = await job(db, job_id)
    assert (row.state, row.attempts, row.last_error) == ("failed", 3, "not now")
    assert handler.failed_states == [(job_id, "pending"), (job_id, "pending"), (job_id, "failed")]
    clock.advance(timedelta(days=1))
    assert await queue.run_batch(handler) == 0


async def test_a_dead_workers_lease_runs_out_and_the_item_is_taken_again(db: Database) -> None:
    clock = ManualClock(NOW)
    queue = make_queue(db, clock)
    [job_id] = await add_jobs(db, 1)
    [lost] = await queue.claim()  # this worker dies without finishing
    assert await queue.claim() == []  # leased: nobody else takes it
    clock.advance(timedelta(seconds=61))
    [again] = await queue.claim()
    assert again.key == job_id and again.attempt == 2 and again.token != lost.token
    handler = Recorder()
    await queue.run_claims(handler, [lost])  # the old worker comes back: its lease is gone
    assert (await job(db, job_id)).state == "pending"
    await queue.run_claims(handler, [again])
    row = await job(db, job_id)
    assert (row.state, row.attempts, row.outcome) == ("done", 1, "ran")


async def test_one_failing_item_does_not_sink_the_others_written_with_it(db: Database) -> None:
    queue = make_queue(db, ManualClock(NOW), concurrency=4)
    ids = await add_jobs(db, 6)
    handler = Recorder()
    handler.failing[ids[2]] = "raise"
    assert await queue.run_batch(handler) == 6
    rows = [await job(db, job_id) for job_id in ids]
    assert [row.state for row in rows] == ["done", "done", "pending", "done", "done", "done"]
    broken = rows[2]
    assert broken.attempts == 1 and broken.outcome is None
    assert broken.last_error == "ValueError: broken effects"


async def test_concurrent_workers_share_the_work_without_overlap(db: Database) -> None:
    ids = await add_jobs(db, 40)
    queues = [make_queue(db, ManualClock(NOW), batch_size=7) for _ in range(3)]
    handlers = [Recorder() for _ in queues]
    await asyncio.gather(*(q.drain(h) for q, h in zip(queues, handlers, strict=True)))
    prepared = [key for handler in handlers for key in handler.prepared]
    assert sorted(prepared) == ids  # each item ran exactly once
    async with db.reader() as session:
        states = set((await session.scalars(select(Job.state))).all())
    assert states == {"done"}


async def test_a_failing_loop_is_logged_once_and_stops_cleanly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rounds = 0

    async def step() -> float:
        nonlocal rounds
        rounds += 1
        if rounds <= 5:
            raise ConnectionError("database away")
        return 0.001

    supervisor = Supervisor()
    await supervisor.add(Worker("flaky", step, idle_seconds=0.001))
    with caplog.at_level(logging.INFO, logger="hub.platform.supervisor"):
        await supervisor.start()
        while rounds < 10:
            await asyncio.sleep(0.01)
        await asyncio.wait_for(supervisor.stop(), timeout=5)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "database away" in errors[0].getMessage()
    assert any("works again" in r.getMessage() for r in caplog.records)
    stopped_at = rounds
    await asyncio.sleep(0.05)
    assert rounds == stopped_at
