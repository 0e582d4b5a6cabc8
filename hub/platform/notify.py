"""Cross-process wake-ups on PostgreSQL: a dedicated connection LISTENs on a channel, and a
notification (sent by a trigger at commit, carrying ids only) wakes this process's poller at
once instead of at its next poll. Polling stays the fallback: a notification lost to a dropped
connection or to a pooler in transaction mode (which cannot LISTEN) only costs one poll
interval. On SQLite there is nothing to listen to (one machine, and the hub wakes itself)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)
EVENTS_CHANNEL = "relaydesk_events"
# Query options of a SQLAlchemy asyncpg URL that SQLAlchemy takes for itself: asyncpg would send
# them to the server as settings, which refuses them ("unrecognized configuration parameter"),
# and LISTEN never came up with the pooler advice's ?prepared_statement_cache_size=0.
SQLALCHEMY_OPTIONS = ("prepared_statement_cache_size", "prepared_statement_name_func")
RETRY_SECONDS = (1.0, 60.0)  # a failed LISTEN is tried again after 1 s, doubling up to 60 s


def plain_dsn(url: str) -> str | None:
    """The libpq-style address of a PostgreSQL SQLAlchemy URL, without SQLAlchemy's own
    options; None for other stores."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return None
    plain = parsed.set(drivername="postgresql").difference_update_query(SQLALCHEMY_OPTIONS)
    return plain.render_as_string(hide_password=False)


class Listener:
    """LISTEN on ``channel``; ``on_notify`` runs for every notification. ``ensure`` (re)opens
    the connection and is cheap when it is up; call it from a loop that runs anyway."""

    def __init__(self, dsn: str, channel: str, on_notify: Callable[[], None]) -> None:
        self.dsn = dsn
        self.channel = channel
        self.on_notify = on_notify
        self._connection: Any = None
        self.notifications = 0
        self._retry_at = 0.0  # loop time before which a failed LISTEN is not tried again
        self._pause = 0.0  # the wait after the last failure; 0 while none failed
        self._connecting = False  # an attempt is under way: another caller leaves it to it

    @property
    def listening(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    def _notified(self, *_args: Any) -> None:
        self.notifications += 1
        self.on_notify()

    def _lost(self, *_args: Any) -> None:
        self._connection = None

    async def ensure(self) -> None:
        """Listening, unless the last attempt failed a moment ago (tried again after 1 s, then
        doubling up to a minute: polling carries on meanwhile). Logged once per outage."""
        if self.listening or self._connecting:
            return
        loop = asyncio.get_running_loop()
        if loop.time() < self._retry_at:
            return
        self._connecting = True
        connection = None
        try:
            connection = await asyncpg.connect(self.dsn, timeout=5)
            await connection.add_listener(self.channel, self._notified)
            connection.add_termination_listener(self._lost)
        except Exception as exc:  # LISTEN only makes wake-ups sooner: any failure, poll on
            if connection is not None:  # connected, but LISTEN was refused: not kept open
                connection.terminate()
            if not self._pause:
                log.warning(
                    "LISTEN %s unavailable (polling only until it is back): %s", self.channel, exc
                )
            self._pause = min(max(self._pause * 2, RETRY_SECONDS[0]), RETRY_SECONDS[1])
            self._retry_at = loop.time() + self._pause
            return
        finally:
            self._connecting = False
        if self._pause:
            log.warning("LISTEN %s is back", self.channel)
        self._pause = self._retry_at = 0.0
        self._connection = connection
        self.on_notify()  # anything committed while we were not listening is read now

    async def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            await connection.close(timeout=5)
