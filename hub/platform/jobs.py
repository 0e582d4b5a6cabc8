"""Persisted jobs (follow-ups, bot calls and the like) on the job queue, and the periodic
sweeps (SLA checks, the assignment queue, reassignment) that run on their own cadence: at most
once per ``poll_seconds`` (or when ``wake()`` asks for them), not on every pass a new job wakes.

A job is a row: scheduling it is part of the caller's transaction, so it survives restarts.
Its handler may do slow outside work (an HTTP call) first, without a transaction; then in ONE
transaction, only while the job's lease holds, the job's effects are applied and it is marked
finished. A job's effects therefore commit at most once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.routing import JobSettings
from hub.db.routing_models import Job
from hub.platform.claimed_on_write import ClaimedOnWrite
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.finished_work import FinishedWork
from hub.platform.queue import Claim, Failure, RetryPolicy, WorkQueue
from hub.platform.supervisor import Worker

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
JOB_RETRIES = RetryPolicy(max_attempts=MAX_ATTEMPTS, base_seconds=10, max_seconds=3600)


@dataclass(frozen=True, slots=True)
class JobView:
    id: int
    kind: str
    conversation_id: int | None
    payload: Mapping[str, Any]
    attempts: int  # which attempt this is (1 = the first)


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str  # done, skipped, failed
    text: str


Apply = Callable[[AsyncSession, Job, Any, datetime], Awaitable[Outcome]]
Prepare = Callable[[JobView], Awaitable[Any]]
ReadAlong = Callable[[AsyncSession, list[Job]], Awaitable[None]]
Sweep = Callable[[AsyncSession, datetime], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class JobHandler:
    apply: Apply
    prepare: Prepare | None = None
    close: Callable[[], Awaitable[None]] | None = None  # frees what prepare holds (connections)
    # Reads, for the jobs of this kind whose outcomes are written together, what each apply
    # would read on its own (into the session or its transaction memo).
    read_along: ReadAlong | None = None
    # Finished jobs of this kind are history other code reads: never forgotten.
    keep_finished: bool = False


def _pending(
    kind: str,
    run_at: datetime,
    conversation_id: int | None,
    payload: Mapping[str, Any],
    dedupe_key: str | None,
    created_at: datetime,
) -> Job:
    return Job(
        kind=kind,
        conversation_id=conversation_id,
        dedupe_key=dedupe_key,
        payload=dict(payload),
        state="pending",
        next_attempt_at=run_at,
        attempts=0,
        created_at=created_at,
    )


async def enqueue(
    session: AsyncSession,
    kind: str,
    run_at: datetime,
    *,
    conversation_id: int | None = None,
    payload: Mapping[str, Any] | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> Job | None:
    """Schedule a job in the caller's transaction; None if ``dedupe_key`` is already taken."""
    if dedupe_key is not None:
        taken = await session.scalar(select(Job.id).where(Job.dedupe_key == dedupe_key))
        if taken is not None:
            return None
    job = _pending(kind, run_at, conversation_id, payload or {}, dedupe_key, now or run_at)
    try:
        async with session.begin_nested():
            session.add(job)
            await session.flush()
    except IntegrityError:
        return None  # scheduled by a concurrent transaction
    return job


@dataclass(frozen=True, slots=True)
class NewJob:
    conversation_id: int | None
    payload: Mapping[str, Any]
    dedupe_key: str


async def enqueue_together(
    session: AsyncSession, kind: str, run_at: datetime, jobs: Sequence[NewJob]
) -> int:
    """Schedule several jobs in the caller's transaction: one read of their keys, the ones not
    taken added for the next flush. For keys no concurrent transaction can take (named after
    rows this transaction inserted); ``enqueue`` guards each insert otherwise. The count added."""
    if not jobs:
        return 0
    keys = [job.dedupe_key for job in jobs]
    taken = set(await session.scalars(select(Job.dedupe_key).where(Job.dedupe_key.in_(keys))))
    added = [
        _pending(kind, run_at, job.conversation_id, job.payload, job.dedupe_key, run_at)
        for job in jobs
        if job.dedupe_key not in taken
    ]
    session.add_all(added)
    return len(added)


# Read with the claim, so a job's handler starts without reading its row again.
CARRIED = ("kind", "conversation_id", "payload")


class _Jobs:
    """The queue handler of the jobs table: dispatches on the job's kind. The jobs of one
    conversation are prepared one after the other, in the order they were claimed (a bot gets
    a conversation's events in order), while other conversations' jobs run alongside."""

    def __init__(self, db: Database, handlers: Mapping[str, JobHandler]) -> None:
        self.db = db
        self.handlers = handlers
        self._turns: dict[int, tuple[asyncio.Lock, int]] = {}  # conversation: lock, waiting

    async def read_along(self, session: AsyncSession, jobs: list[Job]) -> None:
        for kind, handler in self.handlers.items():
            if handler.read_along is not None:
                mine = [job for job in jobs if job.kind == kind]
                if mine:
                    await handler.read_along(session, mine)

    async def prepare(self, claim: Claim) -> tuple[JobHandler, Any]:
        row = claim.carried
        view = JobView(
            claim.key, row["kind"], row["conversation_id"], dict(row["payload"]), claim.attempt
        )
        handler = self.handlers.get(view.kind)
        if handler is None:
            raise LookupError(f"no handler for job kind {view.kind!r}")
        if handler.prepare is None:
            return handler, None
        if view.conversation_id is None:
            return handler, await handler.prepare(view)
        key = view.conversation_id
        lock, waiting = self._turns.get(key) or (asyncio.Lock(), 0)
        self._turns[key] = (lock, waiting + 1)
        try:
            async with lock:
                return handler, await handler.prepare(view)
        finally:
            lock, waiting = self._turns[key]
            if waiting == 1:
                del self._turns[key]
            else:
                self._turns[key] = (lock, waiting - 1)

    async def apply(
        self, session: AsyncSession, job: Job, prepared: tuple[JobHandler, Any], now: datetime
    ) -> str:
        handler, value = prepared
        outcome = await handler.apply(session, job, value, now)
        job.outcome, job.finished_at, job.last_error = outcome.text, now, None
        return outcome.state

    async def failed(
        self, session: AsyncSession, job: Job, failure: Failure, now: datetime
    ) -> None:
        job.outcome = failure.error[:2000]
        if job.state != "pending":
            job.finished_at = now


class JobRunner:
    """Runs every due job on each pass (woken, or every ``poll_seconds``), after the sweeps when
    they are due: ``wake()`` asks for a pass with the sweeps (something changed that they
    act on), ``wake_jobs()`` for one that goes straight to the due jobs (a new job)."""

    def __init__(
        self,
        db: Database,
        handlers: Mapping[str, JobHandler],
        sweeps: Sequence[Sweep],
        settings: JobSettings,
        clock: Clock,
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self.db = db
        self.sweeps = sweeps
        self.clock = clock
        self.after_commit = after_commit
        self._jobs = _Jobs(db, handlers)
        self.queue = WorkQueue(
            db,
            Job,
            clock,
            JOB_RETRIES,
            lease_seconds=settings.lease_seconds,
            batch_size=settings.batch_size,
            concurrency=settings.concurrency,
            carry=CARRIED,
            after_record=after_commit,
            read_along=self._jobs.read_along,
        )
        self._pass = asyncio.Lock()
        self.poll_seconds = settings.poll_seconds
        self._swept_at: float | None = None  # the event loop's time of the last sweeps
        self._sweeps_asked = False
        # While the worker runs, a job queued in this process is leased to it in the same
        # INSERT and started right after the commit, with no claim of its own.
        self.written = ClaimedOnWrite(
            db,
            Job,
            clock,
            lease_seconds=settings.lease_seconds,
            carry=CARRIED,
            ready=lambda: self.worker.wake(),  # send (start) them now
        )
        self._look = True  # the next pass looks for due jobs (woken, or the poll)
        kept = sorted(kind for kind, handler in handlers.items() if handler.keep_finished)
        self.finished = FinishedWork(
            db,
            Job,
            clock,
            timedelta(days=settings.keep_finished_days),
            spare=Job.kind.in_(kept) if kept else None,
        )
        self.worker = Worker(
            "relaydesk-jobs",
            self._step,
            idle_seconds=settings.poll_seconds,
            setup=self.written.started,
            drain=self.written.stopping,
            after_stop=self.written.stopped,
        )

    def wake(self) -> None:
        """A pass now, sweeps included."""
        self._sweeps_asked = self._look = True
        self.worker.wake()

    def wake_jobs(self) -> None:
        """A pass now for the due jobs; the sweeps only if their time has come."""
        self._look = True
        self.worker.wake()

    async def close(self) -> None:
        """Free what the handlers hold (the hub calls it once, when it stops)."""
        closers = {id(h.close): h.close for h in self._jobs.handlers.values() if h.close}
        for close in closers.values():
            await close()

    async def _step(self) -> None:
        now = asyncio.get_running_loop().time()
        due = self._swept_at is None or now - self._swept_at >= self.poll_seconds
        if not (self._look or due or self._sweeps_asked):
            async with self._pass:  # only jobs queued here are new: run them, look no further
                await self._run_leased()
            return
        self._look = False
        await self.run_once(sweeps=due or self._sweeps_asked)
        await self.finished.prune()  # at most every ten minutes

    async def run_once(self, *, sweeps: bool = True) -> int:
        """One pass: the jobs queued here and leased to this runner, the sweeps (unless
        ``sweeps`` is false), then every due job; returns how many jobs ran."""
        async with self._pass:
            ran = await self._run_leased()
            if sweeps:
                self._sweeps_asked = False
                self._swept_at = asyncio.get_running_loop().time()
                await self._sweep()
            ran += await self.queue.drain(self._jobs)  # wakes after_commit per commit of jobs
            if self.after_commit is not None and sweeps:
                self.after_commit()
            return ran

    async def _run_leased(self) -> int:
        leased = self.written.take()
        await self.queue.run_claims(self._jobs, leased)
        return len(leased)

    async def _sweep(self) -> None:
        now = self.clock.now()
        for sweep in self.sweeps:
            try:
                async with self.db.writer() as session:
                    await sweep(session, now)
                    await session.commit()
            except Exception:  # one failing check must not hold up the others or the jobs
                log.exception("sweep %s failed", getattr(sweep, "__name__", sweep))
