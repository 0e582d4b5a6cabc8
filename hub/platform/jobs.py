"""Persisted jobs and the runner that executes them (started from the app lifecycle).

A job is a row: scheduling it is part of the caller's transaction, so it survives restarts.
The runner claims due jobs with a lease, does any slow outside work (an HTTP call) without a
transaction, then in ONE transaction marks the job finished - conditionally, only if it still
holds the lease - and applies the job's effects. A job's effects therefore commit at most once,
and a crash before the commit leaves the job to be claimed again when the lease runs out.
Each pass also runs the periodic sweeps (SLA checks, the assignment queue, reassignment)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.routing import JobSettings
from hub.db.routing_models import Job
from hub.platform.background import Background
from hub.platform.clock import Clock
from hub.platform.database import Database

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class JobView:
    id: int
    kind: str
    conversation_id: int | None
    payload: Mapping[str, Any]
    attempts: int


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str  # done, skipped, failed
    text: str


Apply = Callable[[AsyncSession, Job, Any, datetime], Awaitable[Outcome]]
Prepare = Callable[[JobView], Awaitable[Any]]
Sweep = Callable[[AsyncSession, datetime], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class JobHandler:
    apply: Apply
    prepare: Prepare | None = None


class RetryLater(Exception):
    """The job could not run now; it is tried again with backoff."""


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
    job = Job(
        kind=kind,
        conversation_id=conversation_id,
        dedupe_key=dedupe_key,
        payload=dict(payload or {}),
        state="pending",
        run_at=run_at,
        attempts=0,
        created_at=now or run_at,
    )
    try:
        async with session.begin_nested():
            session.add(job)
            await session.flush()
    except IntegrityError:
        return None  # scheduled by a concurrent transaction
    return job


class JobRunner:
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
        self.handlers = handlers
        self.sweeps = sweeps
        self.settings = settings
        self.clock = clock
        self.after_commit = after_commit
        self._background = Background("relaydesk-jobs", self._run)
        self._wake = asyncio.Event()
        self._pass = asyncio.Lock()

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("job pass failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.poll_seconds):
                    await self._wake.wait()
            self._wake.clear()

    async def run_once(self) -> int:
        """One pass: the sweeps, then every due job; returns how many jobs ran."""
        async with self._pass:
            now = self.clock.now()
            for sweep in self.sweeps:
                try:
                    async with self.db.writer() as session:
                        await sweep(session, now)
                        await session.commit()
                except Exception:
                    log.exception("sweep %s failed", getattr(sweep, "__name__", sweep))
            ran = 0
            while True:
                token = uuid.uuid4().hex
                ids = await self._claim(now, token)
                for job_id in ids:
                    await self._execute(job_id, token)
                ran += len(ids)
                if len(ids) < self.settings.batch_size:
                    break
            if self.after_commit is not None:
                self.after_commit()
            return ran

    async def _claim(self, now: datetime, token: str) -> list[int]:
        async with self.db.writer() as session:
            query = (
                select(Job.id)
                .where(
                    Job.state == "pending",
                    Job.run_at <= now,
                    or_(Job.locked_until.is_(None), Job.locked_until < now),
                )
                .order_by(Job.run_at, Job.id)
                .limit(self.settings.batch_size)
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            ids = list((await session.scalars(query)).all())
            if ids:
                lease = now + timedelta(seconds=self.settings.lease_seconds)
                await session.execute(
                    update(Job)
                    .where(Job.id.in_(ids))
                    .values(locked_by=token, locked_until=lease, attempts=Job.attempts + 1)
                    .execution_options(synchronize_session=False)
                )
            await session.commit()
            return ids

    async def _execute(self, job_id: int, token: str) -> None:
        async with self.db.reader() as session:
            job = await session.get(Job, job_id)
            if job is None:
                return
            view = JobView(job.id, job.kind, job.conversation_id, dict(job.payload), job.attempts)
        handler = self.handlers.get(view.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {view.kind!r}")
            prepared = await handler.prepare(view) if handler.prepare else None
            await self._finish(view, token, handler, prepared)
        except Exception as exc:
            if not isinstance(exc, RetryLater):
                log.exception("job %s (%s) failed", view.id, view.kind)
            await self._failed(view, token, f"{type(exc).__name__}: {exc}")

    async def _finish(self, view: JobView, token: str, handler: JobHandler, prepared: Any) -> None:
        now = self.clock.now()
        async with self.db.writer() as session:
            taken = await session.execute(
                update(Job)
                .where(Job.id == view.id, Job.state == "pending", Job.locked_by == token)
                .values(state="running", locked_until=None)
                .execution_options(synchronize_session=False)
            )
            if not getattr(taken, "rowcount", 0):
                return  # lease lost to another runner, or already finished
            job = await session.get(Job, view.id)
            assert job is not None
            await session.refresh(job)
            outcome = await handler.apply(session, job, prepared, now)
            job.state, job.outcome, job.finished_at = outcome.state, outcome.text, now
            job.locked_by = None
            await session.commit()

    async def _failed(self, view: JobView, token: str, error: str) -> None:
        now = self.clock.now()
        final = view.attempts >= MAX_ATTEMPTS
        delay = timedelta(seconds=min(3600, 5 * 2**view.attempts))
        async with self.db.writer() as session:
            await session.execute(
                update(Job)
                .where(Job.id == view.id, Job.state == "pending", Job.locked_by == token)
                .values(
                    state="failed" if final else "pending",
                    run_at=now + delay,
                    locked_by=None,
                    locked_until=None,
                    outcome=error[:2000],
                    finished_at=now if final else None,
                )
                .execution_options(synchronize_session=False)
            )
            await session.commit()
