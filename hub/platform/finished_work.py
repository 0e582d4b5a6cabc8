"""Forgetting finished queue rows: a message sent weeks ago, a job that ran, are of no use to
anybody once their effects are stored (the message row keeps its delivery state, the
conversation its history), but they would stay in their tables for the life of the desk: a
busy desk writes one or two of them per message. A queue's worker calls ``FinishedWork.prune``
on its round; at most every ``PRUNE_EVERY_SECONDS`` it deletes the rows that finished and were
last due before the retention, a batch per short transaction, so SQLite's one writer is never
held for long, and at most ``BATCHES_PER_PASS`` batches a pass, so the queue's own work waits
for a fraction of a second at most (a backlog, as on the first pass after an upgrade, goes
in passes ``BACKLOG_EVERY_SECONDS`` apart). Pending rows stay, and failed ones (dead letters:
people see and retry them); so does whatever the queue's ``spare`` condition names (a kind
whose finished rows are history that other code reads)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, select

from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.queue import DEAD, PENDING

log = logging.getLogger(__name__)
PRUNE_EVERY_SECONDS = 600.0
BACKLOG_EVERY_SECONDS = 5.0
PER_TRANSACTION = 1_000
BATCHES_PER_PASS = 10


class FinishedWork:
    """The finished rows of one queue table (``model``: a table with the queue columns)."""

    def __init__(
        self,
        db: Database,
        model: Any,
        clock: Clock,
        keep: timedelta,
        *,
        spare: ColumnElement[bool] | None = None,
        per_transaction: int = PER_TRANSACTION,
        every_seconds: float = PRUNE_EVERY_SECONDS,
        backlog_every_seconds: float = BACKLOG_EVERY_SECONDS,
    ) -> None:
        self.db = db
        self.model = model
        self.clock = clock
        self.keep = keep
        self.spare = spare
        self.per_transaction = per_transaction
        self.every_seconds = every_seconds
        self.backlog_every_seconds = backlog_every_seconds
        self._next_pass: float | None = None  # the event loop's time of the next pass

    async def prune(self) -> int:
        """Forget what finished before the retention, if a pass is due; returns how many rows
        went. A failure is logged and left to the next pass: the queue's own work comes
        first."""
        loop = asyncio.get_running_loop()
        if self._next_pass is not None and loop.time() < self._next_pass:
            return 0
        self._next_pass = loop.time() + self.every_seconds
        try:
            forgotten = await self.forget(batches=BATCHES_PER_PASS)
        except Exception:
            log.exception("forgetting finished %s failed", self.model.__table__.name)
            return 0
        if forgotten == BATCHES_PER_PASS * self.per_transaction:  # more may be left
            self._next_pass = loop.time() + self.backlog_every_seconds
        return forgotten

    async def forget(self, *, batches: int | None = None) -> int:
        """Delete the rows that finished (neither pending nor failed) and were last due before
        now minus the retention, ``per_transaction`` rows a transaction, all of them or up to
        ``batches`` transactions; returns how many."""
        model = self.model
        before = self.clock.now() - self.keep
        finished = (
            model.state.not_in((PENDING, DEAD)),
            model.next_attempt_at < before,  # the (state, next_attempt_at) index's range
        )
        batch = select(model.id).where(*finished).limit(self.per_transaction)
        if self.spare is not None:
            batch = batch.where(~self.spare)
        if not self.db.is_sqlite:  # every process prunes: each takes rows the others have not
            batch = batch.with_for_update(skip_locked=True)
        forgotten = done = 0
        while batches is None or done < batches:
            async with self.db.writer() as session:
                ids = list(await session.scalars(batch))
                if ids:
                    await session.execute(delete(model).where(model.id.in_(ids)))
                await session.commit()
            forgotten, done = forgotten + len(ids), done + 1
            if len(ids) < self.per_transaction:
                break
        return forgotten
