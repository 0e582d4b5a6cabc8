"""Work leased in the transaction that writes it: while this process's worker runs, a job
queued here is leased to it by its own INSERT and handed over at the commit, so no other worker
claims it and the worker needs no claim of its own. What a rollback undid is never handed over;
what the worker gives back when it stops, or leaves behind when it dies, is claimed as usual."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.db.routing_models import Job
from hub.platform.claimed_on_write import ClaimedOnWrite
from hub.platform.clock import ManualClock
from hub.platform.database import Database, open_database
from hub.platform.jobs import CARRIED, enqueue
from hub.platform.queue import LEASE_LOST
from tests.hub.platform.test_job_queue import NOW, Recorder, job, make_queue

LEASE = 60.0


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = open_database(database_url)
    yield database
    await database.dispose()


class Woken:
    def __init__(self) -> None:
        self.times = 0

    def __call__(self) -> None:
        self.times += 1


@dataclass
class Leasing:
    """This process's leases on write, as a running job runner has them."""

    written: ClaimedOnWrite[Job]
    clock: ManualClock
    woken: Woken


@pytest.fixture
async def leasing(db: Database) -> AsyncIterator[Leasing]:
    clock, woken = ManualClock(NOW), Woken()
    written = ClaimedOnWrite(db, Job, clock, lease_seconds=LEASE, carry=CARRIED, ready=woken)
    written.start()
    yield Leasing(written, clock, woken)
    written.close()


async def queue_one(db: Database) -> Job:
    """A job due now, queued and committed."""
    async with db.writer() as session:
        queued = await enqueue(session, "test", NOW)
        await session.commit()
    assert queued is not None
    return queued


async def test_a_job_queued_while_the_worker_runs_is_its_own_at_the_commit(
    db: Database, leasing: Leasing
) -> None:
    async with db.writer() as session:
        queued = await enqueue(session, "test", NOW, payload={"n": 1})
        assert queued is not None
        assert leasing.written.take() == [], "handed over before the commit"
        await session.commit()
    [claim] = leasing.written.take()
    assert leasing.woken.times == 1
    assert (claim.key, claim.attempt, claim.carried["payload"]) == (queued.id, 1, {"n": 1})
    assert (await job(db, queued.id)).locked_by == claim.token
    other_worker = make_queue(db, leasing.clock)
    assert await other_worker.claim() == [], "another worker took a leased job"

    handler = Recorder()
    await make_queue(db, leasing.clock).run_claims(handler, [claim])
    assert handler.prepared == [queued.id]
    done = await job(db, queued.id)
    assert (done.state, done.attempts, done.locked_by) == ("done", 0, None)


async def test_what_a_rollback_undid_is_never_handed_over(db: Database, leasing: Leasing) -> None:
    async with db.writer() as session:
        kept = await enqueue(session, "test", NOW, payload={"n": "kept"})
        savepoint = await session.begin_nested()
        session.add(Job(kind="test", payload={"n": "undone"}, next_attempt_at=NOW, created_at=NOW))
        await session.flush()
        await savepoint.rollback()
        later = await enqueue(session, "test", NOW + timedelta(hours=1), payload={"n": 3})
        await session.commit()
    assert kept is not None and later is not None
    assert [claim.key for claim in leasing.written.take()] == [kept.id]
    assert (await job(db, later.id)).locked_by is None, "a job not due yet was leased"

    async with db.writer() as session:
        await enqueue(session, "test", NOW, payload={"n": "rolled back"})
        await session.rollback()
    assert leasing.written.take() == []
    async with db.reader() as session:
        payloads = [p["n"] for p in await session.scalars(select(Job.payload))]
    assert sorted(map(str, payloads)) == ["3", "kept"]


async def test_jobs_queued_while_the_worker_is_stopped_wait_for_an_ordinary_claim(
    db: Database, leasing: Leasing
) -> None:
    await leasing.written.stopping()
    queued = await queue_one(db)
    assert (leasing.written.take(), leasing.woken.times) == ([], 0)
    [claim] = await make_queue(db, leasing.clock).claim()
    assert (claim.key, claim.attempt) == (queued.id, 1)


async def test_a_stopping_worker_gives_back_what_it_had_not_started(
    db: Database, leasing: Leasing
) -> None:
    queued = await queue_one(db)
    await leasing.written.stopped()
    [claim] = await make_queue(db, leasing.clock).claim()  # at once, no attempt counted lost
    assert (claim.key, claim.attempt) == (queued.id, 1)
    assert (await job(db, queued.id)).last_error is None


async def test_a_worker_that_died_holding_a_job_leaves_it_to_others_after_the_lease(
    db: Database, leasing: Leasing
) -> None:
    queued = await queue_one(db)
    assert len(leasing.written.take()) == 1  # then the process dies
    survivor = make_queue(db, leasing.clock)
    assert await survivor.claim() == []
    leasing.clock.advance(timedelta(seconds=LEASE + 1))
    [claim] = await survivor.claim()
    assert (claim.key, claim.attempt) == (queued.id, 2)  # the lost attempt counts
    assert (await job(db, queued.id)).last_error == LEASE_LOST
