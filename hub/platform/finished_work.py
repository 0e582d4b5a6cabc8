"""Forgetting finished queue rows: a message sent weeks ago, a job that ran, are of no use to
anybody once their effects are stored (the message row keeps its delivery state, the
conversation its history), but they would stay in their tables for the life of the desk: a
busy desk writes one or two of them per message. A queue's worker calls ``FinishedWork.prune``
on its round; at most every ``PRUNE_EVERY_SECONDS`` it deletes the rows that finished and were
last due before the retention, a batch per short transaction, so SQLite's one writer is never
held for long. Pending rows stay, and failed ones (dead letters: people see and retry them);
so does whatever the queue's ``spare`` condition names (a kind whose finished rows are history
that other code reads)."""

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
PER_TRANSACTION = 1_000


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
    ) -> None:
        self.db = db
        self.model = model
        self.clock = clock
        self.keep = keep
        self.spare = spare
        self.per_transaction = per_transaction
        self._pruned_at: float | None = None  # the event loop's time of the last pass

    async def prune(self) -> int:
        """Forget what finished before the retention, unless that was done less than
        ``PRUNE_EVERY_SECONDS`` ago; returns how many rows went. A failure is logged and left
        to the next pass: the queue's own work comes first."""
        loop = asyncio.get_running_loop()
        if self._pruned_at is not None and loop.time() - self._pruned_at < PRUNE_EVERY_SECONDS:
            return 0
        self._pruned_at = loop.time()
        try:
            return await self.forget()
        except Exception:
            log.exception("forgetting finished %s failed", self.model.__table__.name)
            return 0

    async def forget(self) -> int:
        """Delete every row that finished (neither pending nor failed) and was last due before
        now minus the retention, ``per_transaction`` rows at a time; returns how many."""
        model = self.model
        before = self.clock.now() - self.keep
        finished = (
            model.state.not_in((PENDING, DEAD)),
            model.next_attempt_at < before,  # the (state, next_attempt_at) index's range
        )
        batch = select(model.id).where(*finished).limit(self.per_transaction)
        if self.spare is not None:
            batch = batch.where(~self.spare)
        forgotten = 0
        while True:
            async with self.db.writer() as session:
                ids = list(await session.scalars(batch))
                if ids:
                    await session.execute(delete(model).where(model.id.in_(ids)))
                await session.commit()
            forgotten += len(ids)
            if len(ids) < self.per_transaction:
                return forgotten
