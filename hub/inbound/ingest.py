"""Group commit for inbound messages. Handlers submit; one writer task takes everything that is
waiting (up to a batch), runs the pipeline over the batch, commits once, and only then answers the
submitters, so a provider's 2xx always means the message is durable."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage
from hub.inbound.pipeline import Pipeline
from hub.inbound.results import IngestResult
from hub.platform.database import Database, unreachable
from hub.platform.metrics import Metrics
from hub.platform.supervisor import Worker

log = logging.getLogger(__name__)

_Item = tuple[InboundMessage, "asyncio.Future[IngestResult]"]


class IngestUnavailable(Exception):
    """The batch could not be committed; nothing from it was stored."""


class Ingestor:
    def __init__(
        self,
        db: Database,
        pipeline: Pipeline,
        batch_size: int = 64,
        after_commit: Callable[[], None] | None = None,
        after_store: Callable[[], None] | None = None,
        *,
        metrics: Metrics | None = None,
    ) -> None:
        """``after_commit`` runs after a commit that queued something to send (it wakes the
        outbox); ``after_store`` after any commit that stored a new message (it wakes the live
        streams, whose events are written in the same transaction)."""
        self.db = db
        self.pipeline = pipeline
        self.batch_size = batch_size
        self.after_commit = after_commit
        self.after_store = after_store
        self.metrics = metrics
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self.worker = Worker("relaydesk-ingest", self._write_batch, drain=self._drain)

    async def submit(self, inbound: InboundMessage) -> IngestResult:
        started = time.perf_counter()
        if not self.worker.running:
            result = (await self.process([inbound]))[0]
        else:
            future: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
            await self._queue.put((inbound, future))
            result = await asyncio.shield(future)
        if self.metrics is not None:
            elapsed = time.perf_counter() - started
            self.metrics.ingested(inbound.channel, elapsed, stored=not result.duplicate)
        return result

    async def _drain(self, seconds: float = 30.0) -> None:
        """On stop: let queued submissions finish first, within reason."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._queue.join()

    async def _write_batch(self) -> float:
        """The writer's round: wait for a submission, take everything waiting (up to a batch)
        and store it in one transaction."""
        batch = [await self._queue.get()]
        # A few more turns of the loop, while they bring more, let handlers whose requests
        # already arrived reach submit(): a bigger batch shares one transaction's fixed
        # cost. No timer: a turn with nothing new ends the wait.
        for _ in range(3):
            waiting = self._queue.qsize()
            if waiting >= self.batch_size:
                break
            await asyncio.sleep(0)
            if self._queue.qsize() == waiting:
                break
        while len(batch) < self.batch_size and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        try:
            outcomes = await self._process_safely([item[0] for item in batch])
            for (_inbound, future), outcome in zip(batch, outcomes, strict=True):
                if future.done():
                    continue
                if isinstance(outcome, BaseException):
                    future.set_exception(outcome)
                else:
                    future.set_result(outcome)
        finally:
            for _ in batch:
                self._queue.task_done()
        return 0

    async def _process_safely(
        self, messages: list[InboundMessage]
    ) -> list[IngestResult | BaseException]:
        try:
            return await self._process(messages)
        except Exception as exc:
            log.exception("ingest batch of %d failed", len(messages))
            error = IngestUnavailable(str(exc))
            return [error for _ in messages]

    async def process(self, messages: list[InboundMessage]) -> list[IngestResult]:
        """Ingest messages in one transaction (used directly by the CLI and tests)."""
        outcomes = await self._process(messages)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return [o for o in outcomes if not isinstance(o, BaseException)]

    async def _one(self, session: AsyncSession, inbound: InboundMessage) -> IngestResult:
        """One message in its own savepoint. If another writer committed a conflicting row
        meanwhile (the same message, or the same new customer), look again once: the message
        is then a duplicate, or the customer now exists."""
        for attempt in (1, 2):
            try:
                async with session.begin_nested():
                    return await self.pipeline.ingest(session, inbound)
            except IntegrityError:
                existing = await self.pipeline.existing(session, inbound)
                if existing is not None:
                    return existing
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _process(self, messages: list[InboundMessage]) -> list[IngestResult | BaseException]:
        """The whole batch with shared reads; on any error, again one savepoint per message so
        a bad message or a concurrent writer's duplicate affects only itself."""
        async with self.db.writer() as session:
            try:
                fast: list[IngestResult | BaseException] = list(
                    await self.pipeline.ingest_batch(session, messages)
                )
                await session.commit()
            except Exception as exc:
                if unreachable(exc):  # one by one would fail alike: refuse them now (503)
                    log.warning("batch of %d refused, database unreachable: %s", len(messages), exc)
                    return [IngestUnavailable(f"database unreachable: {exc}") for _ in messages]
                log.info("batch of %d retried one by one after: %r", len(messages), exc)
                await session.rollback()
            else:
                quiet = all(isinstance(o, IngestResult) and o.quiet for o in fast)
                if self.after_commit is not None and not quiet:
                    self.after_commit()
                stored = any(isinstance(o, IngestResult) and not o.duplicate for o in fast)
                if self.after_store is not None and stored:
                    self.after_store()
                return fast
        return await self._process_one_by_one(messages)

    async def _process_one_by_one(
        self, messages: list[InboundMessage]
    ) -> list[IngestResult | BaseException]:
        outcomes: list[IngestResult | BaseException] = []
        async with self.db.writer() as session:
            for inbound in messages:
                try:
                    outcomes.append(await self._one(session, inbound))
                except Exception as exc:
                    log.exception("ingest of %s/%s failed", inbound.channel, inbound.external_id)
                    failure = IngestUnavailable(f"{inbound.channel}/{inbound.external_id}: {exc}")
                    failure.__cause__ = exc
                    outcomes.append(failure)
            await session.commit()
        if self.after_commit is not None:
            self.after_commit()
        if self.after_store is not None:
            self.after_store()
        return outcomes
