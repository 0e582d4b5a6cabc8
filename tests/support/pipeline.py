"""The hub's core services (database, pipeline, ingestor, dispatcher) without the web server and
with no worker running, on a real database, with a clock the test drives.

Only tests/hub/test_outbox.py and tests/hub/test_routing.py still use it (their owners are
rewriting them: the outbox moves onto the job queue, the first-cut router goes); everything else
uses the Desk (tests/support/desk.py). Delete this module with their last use."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, func, select

from channels.base import InboundMessage
from channels.registry import build_channel
from hub.assembly import database
from hub.config.settings import Settings
from hub.db.base import Base
from hub.email.hooks import EMAIL_INGEST
from hub.inbound.ingest import Ingestor
from hub.inbound.pipeline import Pipeline
from hub.inbound.results import IngestResult
from hub.outbound.outbox import Dispatcher
from hub.outbound.templates import FollowupRenderer
from hub.platform.clock import ManualClock
from hub.platform.database import Database
from hub.routing.engine import RoutingEngine
from hub.routing.hooks import ingest_hooks
from tests.support.messages import inbound as inbound


@dataclass
class Core:
    settings: Settings
    db: Database
    clock: ManualClock
    pipeline: Pipeline

    def ingestor(self, after_commit: Callable[[], None] | None = None) -> Ingestor:
        return Ingestor(self.db, self.pipeline, self.settings.ingest.batch_size, after_commit)

    def dispatcher(self) -> Dispatcher:
        channels = {name: build_channel(name, c) for name, c in self.settings.channels.items()}
        return Dispatcher(self.db, channels, self.settings.outbox, self.clock)

    async def ingest(self, *messages: InboundMessage) -> list[IngestResult]:
        """Ingest in one transaction, as one group-commit batch does."""
        return await self.ingestor().process(list(messages))

    async def count(self, model: type[Base], *where: ColumnElement[bool]) -> int:
        async with self.db.reader() as session:
            value = await session.scalar(select(func.count()).select_from(model).where(*where))
        return int(value or 0)


@asynccontextmanager
async def open_core(settings: Settings) -> AsyncIterator[Core]:
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    renderer = FollowupRenderer(settings.templates_dir)
    async with database(settings) as db:
        hooks = ingest_hooks(RoutingEngine(settings, clock), EMAIL_INGEST)
        yield Core(settings, db, clock, Pipeline(settings, renderer, clock, hooks))
