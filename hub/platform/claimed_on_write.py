"""Work that the transaction writing it also leases to this process: a reply the agent or a
bot writes is leased to this process's outbox worker in the very INSERT that queues it, and
handed to the worker the moment the transaction commits. The worker starts on it without a
claim of its own: one write transaction fewer per item (on SQLite one fsync fewer and one turn
at the single writer fewer), and no wait for the worker to look.

Nothing changes for durability: the lease is written with the row, so if this process dies
before the item is done, the lease runs out and any worker claims it again (counted as a lost
attempt, as for any claim). Rows written while the worker is not running, or not due yet, are
left for an ordinary claim; so are rows written in a transaction that rolls back (a savepoint
included: its rows are gone, and so is their claim)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import event, inspect, update
from sqlalchemy.orm import Session

from hub.db.queue_columns import QueuedWork
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.queue import PENDING, Claim

Row = TypeVar("Row", bound=QueuedWork)
Attached = Callable[[], Mapping[str, Any]]


class ClaimedOnWrite(Generic[Row]):
    """Leases new ``model`` rows to this process as they are written (while ``active``), and
    keeps their claims from each commit for the worker (``take``). ``ready`` is called after a
    commit that left claims (to wake the worker). ``attach``, called as a row is leased, may
    hold on to objects of the session and returns what to add to the claim at the commit: what
    the worker would otherwise read (it must not query)."""

    def __init__(
        self,
        db: Database,
        model: type[Row],
        clock: Clock,
        *,
        lease_seconds: float,
        carry: tuple[str, ...],
        ready: Callable[[], None],
        attach: Callable[[Session, Row], Attached] | None = None,
    ) -> None:
        self.db = db
        self.model = model
        self.clock = clock
        self.lease = timedelta(seconds=lease_seconds)
        self.carry = carry
        self.ready = ready
        self.attach = attach  # more for the claim, from what the session holds (no reads)
        self.active = False  # the worker runs: lease new rows to it
        self._key = f"claimed_on_write:{model.__tablename__}"  # type: ignore[attr-defined]
        self._claims: list[Claim] = []
        self._listening = False

    def start(self) -> None:
        if not self._listening:
            event.listen(self.db.writer_class, "transient_to_pending", self._lease_new)
            event.listen(self.db.writer_class, "after_commit", self._committed)
            self._listening = True
        self.active = True

    def close(self) -> None:
        self.active = False
        if self._listening:
            event.remove(self.db.writer_class, "transient_to_pending", self._lease_new)
            event.remove(self.db.writer_class, "after_commit", self._committed)
            self._listening = False

    # The worker's hooks (``Worker(setup=, drain=, after_stop=)``).
    async def started(self) -> None:
        self.start()

    async def stopping(self) -> None:
        self.active = False  # what is queued from now on waits for an ordinary claim

    async def stopped(self) -> None:
        await self.release()  # leased but not started: an ordinary claim takes them
        self.close()

    def take(self) -> list[Claim]:
        """The claims committed since the last call, oldest first."""
        claims, self._claims = self._claims, []
        return claims

    async def release(self) -> None:
        """Give back the claims the worker will not start (it stops): an ordinary claim takes
        them, with no lost attempt counted."""
        self.active = False
        claims = self.take()
        if not claims:
            return
        key = getattr(self.model, inspect(self.model).primary_key[0].key)
        async with self.db.writer() as session:
            for claim in claims:
                await session.execute(
                    update(self.model)
                    .where(key == claim.key, self.model.locked_by == claim.token)
                    .values(locked_by=None, locked_until=None)
                    .execution_options(synchronize_session=False)
                )
            await session.commit()

    def _lease_new(self, session: Session, row: object) -> None:
        """A row is added to a session: lease it to this worker if it is new work, due now."""
        if not self.active or not isinstance(row, self.model) or row.locked_by is not None:
            return
        if row.state not in (None, PENDING) or row.next_attempt_at is None:
            return
        now = self.clock.now()
        if row.next_attempt_at > now:
            return  # not due yet: an ordinary claim takes it when it is
        leased = session.info.setdefault(self._key, [])
        token = session.info.setdefault(f"{self._key}:token", uuid.uuid4().hex)
        row.locked_by, row.locked_until = token, now + self.lease
        leased.append((row, self.attach(session, row) if self.attach else None))

    def _committed(self, session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint was released: the transaction goes on
        leased: list[tuple[Row, Attached | None]] = session.info.pop(self._key, [])
        session.info.pop(f"{self._key}:token", None)
        claims = []
        for row, attached in leased:
            state = inspect(row)
            if not state.persistent:  # rolled back with a savepoint, or expunged
                continue
            values = state.dict
            if values.get("locked_by") is None or values.get("state", PENDING) != PENDING:
                continue  # changed later in the same transaction
            key = state.identity[0] if state.identity else None
            if key is None:
                continue
            carried = {name: values.get(name) for name in self.carry}
            if attached is not None:
                carried.update(attached())
            claims.append(
                Claim(key, values["locked_by"], (values.get("attempts") or 0) + 1, carried)
            )
        if claims:
            self._claims.extend(claims)
            self.ready()
