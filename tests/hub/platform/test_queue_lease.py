"""Leases on the job queue are short and renewed while their item is worked on: a slow item
keeps its lease past the lease's length (no other worker takes it), and a dead worker's items
are free again within one lease."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.routing import JobSettings
from hub.db.routing_models import Job
from hub.platform.clock import ManualClock
from hub.platform.database import Database, open_database
from hub.platform.queue import Claim, Failure
from tests.hub.platform.test_job_queue import NOW, add_jobs, job, make_queue


class Slow:
    """A handler whose outside work lasts until the test lets it finish."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.finish = asyncio.Event()

    async def prepare(self, claim: Claim) -> int:
        self.started.set()
        await self.finish.wait()
        return int(claim.key)

    async def apply(self, session: AsyncSession, row: Job, key: int, now: object) -> str:
        return "done"

    async def failed(self, session: AsyncSession, row: Job, failure: Failure, now: object) -> None:
        raise AssertionError(failure)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = open_database(database_url)
    yield database
    await database.dispose()


async def test_a_slow_item_keeps_its_lease_while_it_is_worked_on(db: Database) -> None:
    clock = ManualClock(NOW)
    working = make_queue(db, clock, lease_seconds=0.3)
    other = make_queue(db, clock, lease_seconds=0.3)
    [job_id] = await add_jobs(db, 1)
    handler = Slow()
    run = asyncio.create_task(working.run_batch(handler))
    await handler.started.wait()
    for _ in range(3):  # three lease lengths pass while the item is still being worked on
        clock.advance(timedelta(seconds=0.3))
        await asyncio.sleep(0.25)  # the renewal runs every third of the lease
        assert await other.claim() == [], "the lease ran out while the item was worked on"
    handler.finish.set()
    assert await run == 1
    assert (await job(db, job_id)).state == "done"


def test_leases_are_short_by_default() -> None:
    assert JobSettings().lease_seconds <= 30
