"""The one job queue: every kind of deferred work (outbound delivery, follow-ups and bot calls,
snooze wake-ups, chat file fetches, campaign sends next) is a row in a table with the shared
queue columns (hub/db/queue_columns.py), and this is the one implementation that runs them.

Enqueueing is an insert in the caller's transaction. A worker claims a batch of due rows with a
lease in one statement (``UPDATE … WHERE key IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``
on PostgreSQL, so several processes share the work; an indexed range on ``(state,
next_attempt_at)``, never a scan), reading back the columns its handler needs. For each item
it first does the slow outside work (a download, a send) with no transaction open, then in one
transaction, only while it still holds the lease, applies the item's effects and writes its
outcome, as soon as that item is done (with those of the items finishing within a few
milliseconds of it). A failed attempt is retried with exponential backoff; after
``max_attempts`` (or a permanent failure) the row is dead-lettered (state ``failed``) with its
last error. Leases are short and renewed (every third of the lease) while their items are still
being worked on, so a long pass keeps its items; a worker that dies leaves its leases to run out
within one lease: the item is then claimed again, that lost attempt counted as a failed one."""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from hub.db.queue_columns import QueuedWork
from hub.platform.clock import Clock
from hub.platform.database import Database, unreachable

log = logging.getLogger(__name__)
PENDING = "pending"
DEAD = "failed"
LEASE_LOST = "the worker stopped before finishing (its lease ran out)"
# While the database cannot be reached, outcomes already earned (a mail handed to the relay)
# are written again and again for up to this many leases rather than given up: an item whose
# outcome is lost would be done a second time once its lease ran out.
RECORD_PATIENCE_LEASES = 4
# Once an item is done, the outcomes of the items finishing within this moment are written with
# it (one transaction, one turn at the writer), unless none is left under way. Kept short: a
# mail the relay accepted is sent again if the process dies before its outcome is written.
GATHER_SECONDS = 0.002

Row = TypeVar("Row", bound=QueuedWork)
RowIn = TypeVar("RowIn", bound=QueuedWork, contravariant=True)
Prepared = TypeVar("Prepared")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how soon a failed item is tried again."""

    max_attempts: int
    base_seconds: float
    max_seconds: float
    jitter: bool = False

    def delay(self, failures: int) -> float:
        """Seconds before the next try after ``failures`` failed ones: doubling, capped; with
        jitter a random point in the upper half, so retries of many items spread out."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(0, failures - 1))
        if not self.jitter:
            return float(ceiling)
        return float(ceiling / 2 + random.uniform(0, ceiling / 2))


@dataclass(frozen=True, slots=True)
class Claim:
    """One claimed item: its key, the lease token, which attempt this is (1 = first) and the
    columns the queue was asked to ``carry``, as they were when it was claimed."""

    key: Any
    token: str
    attempt: int
    carried: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed attempt: retried later (after ``retry_after`` seconds if given, else the
    policy's backoff) unless ``permanent`` or out of attempts."""

    error: str
    permanent: bool = False
    retry_after: float | None = None


class RetryLater(Exception):
    """Raised by a handler: this attempt failed in an expected way (not logged as an error)."""

    def __init__(
        self, error: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(error)
        self.failure = Failure(error, permanent, retry_after)


class Handler(Protocol[RowIn, Prepared]):
    """What one kind of work does with an item."""

    async def prepare(self, claim: Claim) -> Prepared:
        """The slow part (network), run with no transaction open."""

    async def apply(
        self, session: AsyncSession, row: RowIn, prepared: Prepared, now: datetime
    ) -> str | Failure:
        """The effects, in the transaction that records the outcome; returns the row's final
        state (or a Failure)."""

    async def failed(
        self, session: AsyncSession, row: RowIn, failure: Failure, now: datetime
    ) -> None:
        """Effects of a failed attempt, after the queue set the row to retry (``pending``) or
        gave it up (``failed``)."""


class _Isolate(Exception):
    """An item's effects failed in a group write: write the group again, item by item."""


class WorkQueue(Generic[Row]):
    """The queue over one table of work."""

    def __init__(
        self,
        db: Database,
        model: type[Row],
        clock: Clock,
        policy: RetryPolicy,
        *,
        lease_seconds: float,
        batch_size: int,
        concurrency: int = 1,
        carry: Sequence[str] = (),
        after_record: Callable[[], None] | None = None,
        read_along: Callable[[AsyncSession, list[Row]], Awaitable[None]] | None = None,
    ) -> None:
        self.db = db
        self.carry = tuple(carry)
        self.after_record = after_record  # called after each commit of outcomes
        # Reads, for a group of rows at once, what the handler's apply and failed need (keeping
        # it in session.info), where each item would read its own.
        self.read_along = read_along
        self.model = model
        self.clock = clock
        self.policy = policy
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.concurrency = concurrency
        keys = model.__mapper__.primary_key  # type: ignore[attr-defined]
        self.key: InstrumentedAttribute[Any] = getattr(model, keys[0].key)
        length = getattr(model.__table__.c.last_error.type, "length", None)  # type: ignore[attr-defined]
        self._error_length: int = length or 2000

    async def claim(self, limit: int | None = None) -> list[Claim]:
        """Lease up to ``limit`` due items to this worker, oldest due first. One statement: an
        item whose earlier lease ran out (its worker never finished) counts that attempt as
        failed."""
        model, now = self.model, self.clock.now()
        token = uuid.uuid4().hex
        due = (
            select(self.key)
            .where(
                model.state == PENDING,
                model.next_attempt_at <= now,
                or_(model.locked_until.is_(None), model.locked_until < now),
            )
            .order_by(model.next_attempt_at, self.key)
            .limit(limit or self.batch_size)
        )
        if self.db.is_sqlite:
            # One writer at a time on SQLite: look with a reader first, and take the write
            # lock only when something is due (most wake-ups of most queues find nothing).
            async with self.db.reader() as session:
                if await session.scalar(due.limit(1)) is None:
                    return []
        else:
            due = due.with_for_update(skip_locked=True)
        lost = model.locked_until.is_not(None)
        claiming = (
            update(model)
            .where(self.key.in_(due.scalar_subquery()))
            .values(
                locked_by=token,
                locked_until=now + self.lease,
                attempts=model.attempts + case((lost, 1), else_=0),
                last_error=case((lost, LEASE_LOST), else_=model.last_error),
            )
            .returning(
                self.key,
                model.attempts,
                model.next_attempt_at,
                *(getattr(model, name) for name in self.carry),
            )
            .execution_options(synchronize_session=False)
        )
        async with self.db.writer() as session:
            rows = sorted((await session.execute(claiming)).all(), key=lambda r: (r[2], r[0]))
            await session.commit()
        return [
            Claim(row[0], token, row[1] + 1, dict(zip(self.carry, row[3:], strict=True)))
            for row in rows
        ]

    def _fail(self, row: Row, failure: Failure, now: datetime) -> None:
        row.attempts += 1
        row.last_error = failure.error[: self._error_length]
        row.locked_by = row.locked_until = None
        if failure.permanent or row.attempts >= self.policy.max_attempts:
            row.state = DEAD
        else:
            delay = failure.retry_after
            if delay is None:
                delay = self.policy.delay(row.attempts)
            row.next_attempt_at = now + timedelta(seconds=delay)

    def _unexpected(self, claim: Claim, exc: Exception) -> Failure:
        table = self.model.__table__.name  # type: ignore[attr-defined]
        log.exception("%s %s: attempt %d failed", table, claim.key, claim.attempt)
        return Failure(f"{type(exc).__name__}: {exc}")

    async def _prepare(self, handler: Handler[Row, Any], claim: Claim) -> Any:
        """The item's outside work; a Failure when it failed."""
        if claim.attempt > self.policy.max_attempts:
            return Failure(LEASE_LOST, permanent=True)  # it kept taking its worker down
        try:
            return await handler.prepare(claim)
        except RetryLater as exc:
            return exc.failure
        except Exception as exc:
            return self._unexpected(claim, exc)

    async def _record(self, handler: Handler[Row, Any], done: list[tuple[Claim, Any]]) -> None:
        """Write the outcomes of the items done so far in one transaction (a group commit).
        Should one item's effects fail, the group is written again with each item in a
        savepoint of its own, so that item fails alone. An item whose lease went to another
        worker is left alone."""
        try:
            await self._write(handler, done, isolate=False)
        except _Isolate:
            await self._write(handler, done, isolate=True)

    async def _record_patiently(
        self, handler: Handler[Row, Any], done: list[tuple[Claim, Any]]
    ) -> None:
        """``_record``, tried again while the database cannot be reached (a restart, a cut
        connection), with a growing pause, within ``RECORD_PATIENCE_LEASES`` leases. Once it is
        back the outcomes are written, as long as no other worker has claimed the items."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.lease.total_seconds() * RECORD_PATIENCE_LEASES
        pause = 0.2
        while True:
            try:
                await self._record(handler, done)
                return
            except Exception as exc:
                if not unreachable(exc) or loop.time() + pause > give_up:
                    raise
                table = self.model.__table__.name  # type: ignore[attr-defined]
                log.warning("%s: outcomes not written yet (%s); trying again", table, exc)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 5.0)

    async def _write(
        self, handler: Handler[Row, Any], done: list[tuple[Claim, Any]], *, isolate: bool
    ) -> None:
        now = self.clock.now()
        async with self.db.writer() as session:
            query = select(self.model).where(self.key.in_([claim.key for claim, _ in done]))
            if not self.db.is_sqlite:
                query = query.with_for_update()
            rows = {getattr(row, self.key.key): row for row in (await session.scalars(query))}
            if self.read_along is not None and rows:
                await self.read_along(session, list(rows.values()))
            for claim, prepared in done:
                row = rows.get(claim.key)
                if row is None or row.locked_by != claim.token or row.state != PENDING:
                    continue
                outcome = prepared
                if not isinstance(prepared, Failure):
                    outcome = await self._apply(
                        session, handler, claim, row, prepared, now, isolate
                    )
                if isinstance(outcome, Failure):
                    self._fail(row, outcome, now)
                    await handler.failed(session, row, outcome, now)
                else:
                    row.state = outcome
                    row.locked_by = row.locked_until = None
            await session.commit()

    async def _apply(
        self,
        session: AsyncSession,
        handler: Handler[Row, Any],
        claim: Claim,
        row: Row,
        prepared: Any,
        now: datetime,
        isolate: bool,
    ) -> str | Failure:
        if not isolate:
            try:
                return await handler.apply(session, row, prepared, now)
            except Exception as exc:
                raise _Isolate from exc
        try:
            async with session.begin_nested():
                return await handler.apply(session, row, prepared, now)
        except RetryLater as exc:
            failure = exc.failure
        except Exception as exc:
            failure = self._unexpected(claim, exc)
        await session.refresh(row)  # as it was before the apply that failed
        return failure

    async def run_batch(self, handler: Handler[Row, Any]) -> int:
        """Claim one batch and attempt every item; returns how many were attempted."""
        claims = await self.claim()
        await self.run_claims(handler, claims)
        return len(claims)

    async def run_claims(self, handler: Handler[Row, Any], claims: Sequence[Claim]) -> None:
        """Attempt the claimed items, ``concurrency`` at a time. Each outcome is written as
        soon as its item is done, with those of the items finishing within ``GATHER_SECONDS``
        and of every item done while the writer was writing the last ones (so a batch of quick
        items shares a few commits, not one each)."""
        if not claims:
            return
        finished: asyncio.Queue[tuple[Claim, Any]] = asyncio.Queue()
        limit = asyncio.Semaphore(self.concurrency)

        async def attempt(claim: Claim) -> None:
            async with limit:
                finished.put_nowait((claim, await self._prepare(handler, claim)))

        outstanding = {(claim.token, claim.key) for claim in claims}
        tasks = [asyncio.create_task(attempt(claim)) for claim in claims]
        tasks.append(asyncio.create_task(self._renew(outstanding)))
        try:
            left = len(claims)
            while left:
                done = [await finished.get()]
                await self._gather_more(finished, done, left)
                await self._record_patiently(handler, done)
                if self.after_record is not None:
                    self.after_record()  # what the outcomes queued (a reply) goes out now
                outstanding.difference_update((claim.token, claim.key) for claim, _ in done)
                left -= len(done)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _gather_more(
        self, finished: asyncio.Queue[tuple[Claim, Any]], done: list[tuple[Claim, Any]], left: int
    ) -> None:
        """Add to ``done`` the items that finish within ``GATHER_SECONDS`` (at once if all
        ``left`` are done): a batch of sends finishing a few milliseconds apart is written in a
        few transactions, not one each."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GATHER_SECONDS
        while len(done) < left:
            while not finished.empty():
                done.append(finished.get_nowait())
            if len(done) >= left or loop.time() >= deadline:
                break
            try:
                async with asyncio.timeout_at(deadline):
                    done.append(await finished.get())
            except TimeoutError:
                break

    async def _renew(self, outstanding: set[tuple[str, Any]]) -> None:
        """Every third of the lease, extend the leases of the items still being worked on
        (``outstanding``: token and key), as long as this worker still holds them."""
        model = self.model
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            by_token: dict[str, list[Any]] = {}
            for token, key in outstanding:
                by_token.setdefault(token, []).append(key)
            try:
                async with self.db.writer() as session:
                    for token, keys in by_token.items():
                        await session.execute(
                            update(model)
                            .where(
                                self.key.in_(keys),
                                model.locked_by == token,
                                model.state == PENDING,
                            )
                            .values(locked_until=self.clock.now() + self.lease)
                            .execution_options(synchronize_session=False)
                        )
                    await session.commit()
            except Exception:  # the next renewal tries again; the lease covers two misses
                log.exception("renewing leases on %s failed", model.__table__.name)  # type: ignore[attr-defined]

    async def drain(self, handler: Handler[Row, Any]) -> int:
        """Run batches until fewer than a full batch were due; returns how many ran."""
        ran = count = await self.run_batch(handler)
        while count == self.batch_size:
            count = await self.run_batch(handler)
            ran += count
        return ran
