"""Live widget sockets of this process. Each socket follows its visitor's conversations: woken by
the event log (which every hub process writes, so replies queued anywhere arrive) or by a safety
poll, it reads the messages past the last one it pushed and pushes them in order. Pushing an
agent's reply records the delivery, so the outbox (in whichever process) can mark it sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import DeliveryState, Message, OutboxItem, OutboxState
from hub.db.widget_models import WidgetConnection, WidgetDelivery
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.events import RESET, EventBus, LiveEvent
from hub.platform.supervisor import Worker
from hub.widget.files import FileLinks
from hub.widget.visitors import HISTORY_LIMIT, chat_items

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=30)
RENEW_SECONDS = 10.0
SAFETY_POLL_SECONDS = 15.0
TYPING = "typing"  # the agent inbox's signal (hub/web/ui/collision.py)
PRUNE_EVERY = 360  # lease renewals, about an hour


class VisitorSocket(Protocol):
    """What a live connection needs of the visitor's socket: push a JSON frame, see whether it
    is closed, close it (hub/web/widget_socket.py holds the WebSocket itself)."""

    @property
    def closed(self) -> bool: ...

    async def send_json(self, data: Any) -> None: ...

    async def close(self, *, code: int = ..., message: bytes = ...) -> bool: ...


def socket_external_id(message_id: int) -> str:
    return f"widget:{message_id}"


class LiveConnection:
    """One visitor socket: sends are serialized; a follower task pushes new messages."""

    def __init__(
        self, registry: WidgetRegistry, ws: VisitorSocket, channel: str, visitor_id: str
    ) -> None:
        self.id = secrets.token_hex(16)
        self.registry = registry
        self.ws = ws
        self.channel = channel
        self.visitor_id = visitor_id
        self.cursor = 0
        # Messages this socket sent and had acknowledged: their events need no wake-up here.
        self.acked: set[int] = set()
        # While a message of this socket is being stored, message events wait here: most are
        # that message's own (the ack shows it), so they wake nothing once it is acknowledged.
        self.storing = 0
        self.deferred: set[int] = set()
        self._pushed: set[int] = set()
        self._unrecorded: set[int] = set()  # pushed replies whose delivery is not stored yet
        self._send_lock = asyncio.Lock()
        self._sync_lock = asyncio.Lock()
        # Follows the conversations while the socket is open: woken by their events, and
        # every SAFETY_POLL_SECONDS in case one was missed.
        self.worker = Worker(
            f"relaydesk-widget-{self.id[:8]}",
            self._follow,
            idle_seconds=SAFETY_POLL_SECONDS,
            retry_seconds=1.0,
        )
        self._started = False

    async def send(self, frame: dict[str, Any]) -> bool:
        if self.ws.closed:
            return False
        async with self._send_lock:
            try:
                await self.ws.send_json(frame)
            except (ConnectionError, RuntimeError):
                return False
        return True

    def wake(self) -> None:
        self.worker.wake()

    def stored(self) -> None:
        """A message of this socket was acknowledged: wake for deferred events of others."""
        if self.storing == 0:
            if self.deferred - self.acked:
                self.wake()
            self.deferred.clear()

    async def sync(self) -> None:
        """Push what the visitor has not seen yet, then record the deliveries."""
        async with self._sync_lock:
            while await self._sync_page():
                pass

    async def _sync_page(self) -> bool:
        """One page of messages; True when there may be more."""
        now = self.registry.clock.now()
        async with self.registry.db.reader() as session:
            items = await chat_items(session, self.visitor_id, self.channel, self.cursor, now)
        pushed: list[int] = []
        for item in items:
            if item.id in self._pushed:
                continue
            frame = item.frame(self.registry.links, self.channel, self.visitor_id)
            if not await self.send(frame):
                return False
            if item.undelivered:
                pushed.append(item.id)
        self._pushed = {item.id for item in items}
        before = self.cursor
        if items:
            self.cursor = max(self.cursor, items[-1].id)
            self.registry.watch(self, {item.conversation_id for item in items})
        self._unrecorded.update(pushed)
        if self._unrecorded:  # kept until stored, so a failed write is retried next time
            await self.registry.record_pushed(sorted(self._unrecorded))
            self._unrecorded.clear()
        newer = sum(1 for item in items if item.id > before)
        return newer >= HISTORY_LIMIT

    async def start(self, since: int) -> None:
        self.cursor = since
        await self.sync()
        await self.worker.start()

    async def stop(self) -> None:
        await self.worker.stop()

    async def _follow(self) -> float | None:
        if not self._started:  # start() has just synced: wait for news first
            self._started = True
        elif not self.ws.closed:
            await self.sync()
        return None


class WidgetRegistry:
    """The widget sockets this process holds, by visitor and by conversation."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        bus: EventBus,
        wake_outbox: Callable[[], None],
        links: FileLinks | None = None,
    ) -> None:
        self.db = db
        self.links = links  # signs the download links of files shown in the chat
        self.clock = clock
        self.bus = bus
        self.wake_outbox = wake_outbox
        self._by_visitor: dict[str, set[LiveConnection]] = {}
        self._by_conversation: dict[int, set[LiveConnection]] = {}
        self._waiters: dict[int, list[asyncio.Future[None]]] = {}
        self._tasks: set[asyncio.Task[bool]] = set()
        self._listening = contextlib.AsyncExitStack()
        self._events: asyncio.Queue[LiveEvent | None] | None = None
        self._turn = 0
        self.workers = (
            Worker(
                "relaydesk-widget-events",
                self._listen,
                idle_seconds=0,
                setup=self._subscribe,
                after_stop=self._unsubscribe,
            ),
            Worker(
                "relaydesk-widget-leases",
                self._renew,
                idle_seconds=RENEW_SECONDS,
                after_stop=self._close_sockets,
            ),
        )

    async def _subscribe(self) -> None:
        self._events = await self._listening.enter_async_context(self.bus.subscribe())

    async def _unsubscribe(self) -> None:
        await self._listening.aclose()

    async def _close_sockets(self) -> None:
        for connections in list(self._by_visitor.values()):
            for connection in list(connections):
                with contextlib.suppress(Exception):
                    await connection.ws.close(code=1001, message=b"server shutting down")

    # -- connections ---------------------------------------------------------------------
    async def open(self, connection: LiveConnection) -> None:
        now = self.clock.now()
        async with self.db.writer() as session:
            await session.execute(
                delete(WidgetConnection).where(
                    WidgetConnection.visitor_id == connection.visitor_id,
                    WidgetConnection.closed_at < now - timedelta(days=1),
                )
            )
            session.add(
                WidgetConnection(
                    id=connection.id,
                    visitor_id=connection.visitor_id,
                    opened_at=now,
                    lease_until=now + LEASE,
                )
            )
            await session.commit()
        self._by_visitor.setdefault(connection.visitor_id, set()).add(connection)

    async def close(self, connection: LiveConnection) -> None:
        await connection.stop()
        try:
            now = self.clock.now()
            async with self.db.writer() as session:
                await session.execute(
                    update(WidgetConnection)
                    .where(WidgetConnection.id == connection.id)
                    .values(closed_at=now, lease_until=now)
                )
                await session.commit()
        finally:
            self._by_visitor.get(connection.visitor_id, set()).discard(connection)
            if not self._by_visitor.get(connection.visitor_id):
                self._by_visitor.pop(connection.visitor_id, None)
            for conversation_id in list(self._by_conversation):
                connections = self._by_conversation[conversation_id]
                connections.discard(connection)
                if not connections:
                    del self._by_conversation[conversation_id]

    def watch(self, connection: LiveConnection, conversation_ids: set[int]) -> bool:
        """Follow these conversations' events; True when one of them is new to the socket (its
        events so far went unheard, so the caller wakes the socket to catch up)."""
        added = False
        for conversation_id in conversation_ids:
            watchers = self._by_conversation.setdefault(conversation_id, set())
            added = added or connection not in watchers
            watchers.add(connection)
        return added

    def has_local(self, visitor_id: str) -> bool:
        return bool(self._by_visitor.get(visitor_id))

    def wake_visitor(self, visitor_id: str) -> None:
        for connection in self._by_visitor.get(visitor_id, ()):
            connection.wake()

    @property
    def connections(self) -> int:
        return sum(len(c) for c in self._by_visitor.values())

    # -- deliveries ----------------------------------------------------------------------
    async def wait_pushed(self, message_id: int, seconds: float) -> bool:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(message_id, []).append(future)
        try:
            async with asyncio.timeout(seconds):
                await future
            return True
        except TimeoutError:
            return False
        finally:
            waiting = self._waiters.get(message_id, [])
            if future in waiting:
                waiting.remove(future)
            if not waiting:
                self._waiters.pop(message_id, None)

    async def record_pushed(self, message_ids: list[int]) -> None:
        """Record replies pushed to a socket, and put their outbox rows up for an immediate
        pass, so the dispatcher marks them sent (also after it gave up while the visitor was
        away: the reply is shown now)."""
        now = self.clock.now()
        for attempt in (1, 2):
            async with self.db.writer() as session:
                known = set(
                    (
                        await session.scalars(
                            select(WidgetDelivery.message_id).where(
                                WidgetDelivery.message_id.in_(message_ids)
                            )
                        )
                    ).all()
                )
                fresh = [m for m in message_ids if m not in known]
                for message_id in fresh:
                    session.add(
                        WidgetDelivery(
                            message_id=message_id,
                            via="socket",
                            detail="pushed to the visitor's chat window",
                            external_id=socket_external_id(message_id),
                            delivered_at=now,
                        )
                    )
                if fresh:
                    await _requeue(session, fresh, now)
                try:
                    await session.commit()
                except IntegrityError:  # another socket of the visitor recorded it first
                    await session.rollback()
                    if attempt == 2:
                        raise
                    continue
            break
        for message_id in message_ids:
            for future in self._waiters.get(message_id, []):
                if not future.done():
                    future.set_result(None)
        self.wake_outbox()

    # -- background ----------------------------------------------------------------------
    async def _listen(self) -> float | None:
        """Hand one event of the bus to the sockets following its conversation."""
        assert self._events is not None
        event = await self._events.get()
        if event is None:  # the bus closed its streams: nothing more will come
            return 3600.0
        if event.kind == RESET:
            targets = {c for cs in self._by_visitor.values() for c in cs}
        else:
            targets = set(self._by_conversation.get(event.conversation_id or 0, ()))
        if event.kind == TYPING:  # an agent writes a reply: shown, not stored
            frame = {
                "type": "typing",
                "name": str(event.payload.get("name") or ""),
                "stopped": bool(event.payload.get("stopped")),
            }
            for connection in targets:
                self._tasks.add(task := asyncio.create_task(connection.send(frame)))
                task.add_done_callback(self._tasks.discard)
            return 0
        own = event.payload.get("message_id") if event.kind == "message" else None
        for connection in targets:
            if own is None:
                connection.wake()
            elif own not in connection.acked:
                if connection.storing:
                    connection.deferred.add(own)
                else:
                    connection.wake()
        return 0

    async def _renew(self) -> None:
        """Renew the leases of this process's sockets (and now and then forget old ones)."""
        self._turn += 1
        if self._turn == 1:
            return  # just started: nothing to renew yet
        ids = [c.id for cs in self._by_visitor.values() for c in cs]
        if self._turn % PRUNE_EVERY == 0:
            await self._prune()
        if not ids:
            return
        now = self.clock.now()
        async with self.db.writer() as session:
            await session.execute(
                update(WidgetConnection)
                .where(WidgetConnection.id.in_(ids), WidgetConnection.closed_at.is_(None))
                .values(lease_until=now + LEASE)
            )
            await session.commit()

    async def _prune(self) -> None:
        """Forget sockets closed (or lapsed) more than a day ago."""
        try:
            cutoff = self.clock.now() - timedelta(days=1)
            async with self.db.writer() as session:
                await session.execute(
                    delete(WidgetConnection).where(WidgetConnection.lease_until < cutoff)
                )
                await session.commit()
        except Exception:
            log.exception("pruning old widget sockets failed")


async def _requeue(session: AsyncSession, message_ids: list[int], now: datetime) -> None:
    await session.execute(
        update(OutboxItem)
        .where(OutboxItem.message_id.in_(message_ids), OutboxItem.state != OutboxState.SENT)
        .values(state=OutboxState.PENDING, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Message)
        .where(Message.id.in_(message_ids), Message.delivery_state == DeliveryState.FAILED)
        .values(delivery_state=DeliveryState.QUEUED)
        .execution_options(synchronize_session=False)
    )
