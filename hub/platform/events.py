"""The event log behind live inboxes. Services ``publish`` an event row in the same transaction
as the change it describes; the ``EventBus`` polls the table (so events written by any process
arrive), fans new rows out to every open stream, and replays ``id > Last-Event-ID`` for a stream
that reconnects. Ephemeral signals (someone is typing) go straight to the streams, unstored."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.base import table_of
from hub.db.inbox_models import Event
from hub.db.models import Conversation
from hub.db.webhook_models import WebhookSubscription
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.notify import EVENTS_CHANNEL, Listener, plain_dsn
from hub.platform.supervisor import Worker

log = logging.getLogger(__name__)
_DEFERRED = "relaydesk.deferred_events"
_INSERT_EVENTS = insert(table_of(Event))
QUEUE_SIZE = 1000
RESET = "reset"
COALESCE_SECONDS = 0.025


class Viewer(Protocol):
    """Who watches the stream (``hub.core.authz.Principal``), as far as events care."""

    @property
    def agent_id(self) -> int: ...
    @property
    def team_ids(self) -> frozenset[int]: ...
    @property
    def sees_everything(self) -> bool: ...
    @property
    def handles_conversations(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class LiveEvent:
    id: int | None
    kind: str
    conversation_id: int | None
    team_ids: frozenset[int] = frozenset()
    agent_ids: frozenset[int] = frozenset()
    payload: Mapping[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None  # stored events (replays skip stale ephemeral ones)

    def visible_to(self, principal: Viewer) -> bool:
        if self.kind == RESET or principal.sees_everything:
            return True
        if not principal.handles_conversations:
            return False
        return principal.agent_id in self.agent_ids or bool(principal.team_ids & self.team_ids)

    def data(self) -> dict[str, Any]:
        return {"kind": self.kind, "conversation_id": self.conversation_id, **self.payload}


async def publish(
    session: AsyncSession,
    kind: str,
    conversation: Conversation,
    now: datetime,
    *,
    agent_ids: Iterable[int | None] = (),
    team_ids: Iterable[int | None] = (),
    **payload: Any,
) -> None:
    """Record an event about ``conversation`` in the caller's transaction (inside
    ``written_together``: at its end)."""
    values = event_values(
        kind,
        conversation.id,
        conversation.team_id,
        conversation.assignee_id,
        now,
        agent_ids=agent_ids,
        team_ids=team_ids,
        **payload,
    )
    deferred: list[dict[str, Any]] | None = session.info.get(_DEFERRED)
    if deferred is None:
        if _later(values):
            await session.flush()
            values = _resolved(values)
        session.add(Event(**values))
    else:
        deferred.append(values)


@dataclass(frozen=True, slots=True)
class IdOf:
    """A payload value: the id of a row that is not written yet. ``written_together`` reads it
    when it writes the events, after flushing what is still pending."""

    row: Any


def _later(values: dict[str, Any]) -> bool:
    return any(isinstance(value, IdOf) for value in values["payload"].values())


def _resolved(values: dict[str, Any]) -> dict[str, Any]:
    if not _later(values):
        return values
    payload = {
        key: value.row.id if isinstance(value, IdOf) else value
        for key, value in values["payload"].items()
    }
    return {**values, "payload": payload}


@asynccontextmanager
async def written_together(session: AsyncSession) -> AsyncIterator[None]:
    """Events published in the block are inserted together when it ends, in the order they
    were published: one statement for a whole ingest batch, where ORM rows would go in with
    whichever flushes come along (one statement each, and a row object each). Nothing may
    read them back inside the block; an error in it writes none."""
    rows: list[dict[str, Any]] = []
    session.info[_DEFERRED] = rows
    try:
        yield
        if any(_later(row) for row in rows):
            await session.flush()
            rows = [_resolved(row) for row in rows]
        if rows:
            await session.execute(_INSERT_EVENTS, rows)
    finally:
        session.info.pop(_DEFERRED, None)


def event_values(
    kind: str,
    conversation_id: int,
    team_id: int | None,
    assignee_id: int | None,
    now: datetime,
    *,
    agent_ids: Iterable[int | None] = (),
    team_ids: Iterable[int | None] = (),
    **payload: Any,
) -> dict[str, Any]:
    """The columns of an event row (``publish``; bulk writers insert these directly)."""
    agents = {assignee_id, *agent_ids} - {None}
    teams = {team_id, *team_ids} - {None}
    return {
        "kind": kind,
        "conversation_id": conversation_id,
        "team_ids": sorted(t for t in teams if t is not None),
        "agent_ids": sorted(a for a in agents if a is not None),
        "payload": payload,
        "created_at": now,
    }


def _live(row: Event) -> LiveEvent:
    return LiveEvent(
        row.id,
        row.kind,
        row.conversation_id,
        frozenset(row.team_ids or ()),
        frozenset(row.agent_ids or ()),
        dict(row.payload or {}),
        row.created_at,
    )


class EventBus:
    """One poller per process; every subscriber gets its own bounded queue."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        poll_seconds: float = 0.2,
        gap_seconds: float = 5.0,
        retention: timedelta = timedelta(days=7),
        listen: bool = True,
        listen_url: str = "",
    ) -> None:
        self.db = db
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.gap_seconds = gap_seconds
        self.retention = retention
        self._subscribers: set[asyncio.Queue[LiveEvent | None]] = set()
        # Woken by a commit, the bus gathers the commits of the next moment into the same read,
        # so a busy ingest does not cost one poll per batch.
        self.worker = Worker(
            "relaydesk-events",
            self._step,
            idle_seconds=poll_seconds,
            settle_seconds=COALESCE_SECONDS,
            setup=self._begin,
            after_stop=self._closed,
        )
        self._last_prune = 0.0
        self._floor = 0  # every id up to here was delivered (or given up as never committed)
        self._seen: set[int] = set()  # delivered ids above the floor
        self._gaps: dict[int, float] = {}  # missing id -> when first missed
        # PostgreSQL: other processes' commits wake this bus through NOTIFY (migration
        # 0030_event_notify); the poll every ``poll_seconds`` stays as the fallback.
        # ``listen_url``: a direct address when ``db.url`` goes through a transaction pooler.
        dsn = plain_dsn(listen_url or db.url) if listen else None
        self.listener = Listener(dsn, EVENTS_CHANNEL, self.wake) if dsn else None

    async def _begin(self) -> None:
        self._floor = await self.latest_id()
        self._last_prune = 0.0
        if self.listener is not None:
            await self.listener.ensure()

    async def _closed(self) -> None:
        self.close_streams()
        if self.listener is not None:
            await self.listener.close()

    def close_streams(self) -> None:
        for queue in list(self._subscribers):
            self._offer(queue, None)

    def wake(self) -> None:
        self.worker.wake()

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[LiveEvent | None]]:
        queue: asyncio.Queue[LiveEvent | None] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    def broadcast(self, event: LiveEvent) -> None:
        for queue in list(self._subscribers):
            self._offer(queue, event)

    def _offer(self, queue: asyncio.Queue[LiveEvent | None], event: LiveEvent | None) -> None:
        try:
            queue.put_nowait(event)
        except asyncio.QueueFull:
            # A stream that fell this far behind reloads instead of catching up.
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(LiveEvent(None, RESET, None))

    async def latest_id(self) -> int:
        async with self.db.reader() as session:
            return int(await session.scalar(select(func.max(Event.id))) or 0)

    async def replay(self, after_id: int, limit: int = 500) -> list[LiveEvent] | None:
        """Stored events after ``after_id``, oldest first; None when there are too many to
        replay (the stream then tells the page to reload)."""
        async with self.db.reader() as session:
            rows = list(
                (
                    await session.scalars(
                        select(Event).where(Event.id > after_id).order_by(Event.id).limit(limit + 1)
                    )
                ).all()
            )
        return None if len(rows) > limit else [_live(row) for row in rows]

    async def _step(self) -> None:
        if self.listener is not None:
            await self.listener.ensure()
        await self.poll_once()
        if time.monotonic() - self._last_prune > 600:
            self._last_prune = time.monotonic()
            await self.prune()

    async def poll_once(self) -> int:
        """Deliver rows committed since the last poll; returns how many were delivered."""
        if not self._subscribers:  # nobody to deliver to: only move the floor, reading ids
            return await self._skip_unheard()
        async with self.db.reader() as session:
            rows = list(
                (
                    await session.scalars(
                        select(Event).where(Event.id > self._floor).order_by(Event.id).limit(1000)
                    )
                ).all()
            )
        delivered = 0
        for row in rows:
            if row.id in self._seen:
                continue
            self._seen.add(row.id)
            self._gaps.pop(row.id, None)
            self.broadcast(_live(row))
            delivered += 1
        self._advance()
        return delivered

    async def _skip_unheard(self) -> int:
        async with self.db.reader() as session:
            ids = (
                await session.scalars(
                    select(Event.id).where(Event.id > self._floor).order_by(Event.id).limit(1000)
                )
            ).all()
        fresh = [event_id for event_id in ids if event_id not in self._seen]
        self._seen.update(fresh)
        for event_id in fresh:
            self._gaps.pop(event_id, None)
        self._advance()
        return len(fresh)

    def _advance(self) -> None:
        """Move the floor over delivered ids. An id below a delivered one may belong to a
        transaction still committing (PostgreSQL hands out ids before commit), so it is waited
        for, up to ``gap_seconds``, before it is taken as rolled back."""
        if not self._seen:
            return
        now = time.monotonic()
        top = max(self._seen)
        if top - self._floor > 10_000:
            self._floor, self._seen, self._gaps = top, set(), {}
            return
        for missing in range(self._floor + 1, top):
            if missing not in self._seen:
                self._gaps.setdefault(missing, now)
        while self._floor < top:
            nxt = self._floor + 1
            if nxt in self._seen:
                self._seen.discard(nxt)
            elif now - self._gaps.get(nxt, now) >= self.gap_seconds:
                self._gaps.pop(nxt, None)
            else:
                break
            self._floor = nxt

    async def prune(self) -> None:
        cutoff = self.clock.now() - self.retention
        async with self.db.writer() as session:
            # Rows an enabled webhook subscription has not consumed yet stay (docs/webhooks.md).
            unread = select(func.min(WebhookSubscription.cursor)).where(
                WebhookSubscription.enabled.is_(True)
            )
            floor = await session.scalar(unread)
            old = Event.created_at < cutoff
            await session.execute(
                delete(Event).where(old if floor is None else old & (Event.id <= floor))
            )
            await session.commit()
