"""Engines and session factories. SQLite gets WAL, a busy timeout and ``BEGIN IMMEDIATE`` for
writers (so a read that turns into a write never fails on a stale snapshot)."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from hub.platform import inline_sqlite

WRITE_LOCK_TIMEOUT = 30.0

log = logging.getLogger(__name__)


class WriterBusy(OperationalError):
    """No write transaction could start in time (SQLite allows one writer at a time)."""


@dataclass(frozen=True, slots=True)
class Database:
    url: str
    write_sessions: async_sessionmaker[AsyncSession]
    reader: async_sessionmaker[AsyncSession]
    engines: tuple[AsyncEngine, ...]
    # SQLite has one writer at a time. Writers in this process queue here, on the event loop,
    # instead of sleeping in SQLite's busy handler (whose back-off sleeps cost whole
    # milliseconds each time the lock is released). None on PostgreSQL.
    write_lock: asyncio.Lock | None = None

    @asynccontextmanager
    async def writer(self) -> AsyncIterator[AsyncSession]:
        """A session for a write transaction; use as ``async with db.writer() as session``."""
        if self.write_lock is None:
            async with self.write_sessions() as session:
                yield session
            return
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation.
            async with asyncio.timeout(WRITE_LOCK_TIMEOUT):
                await self.write_lock.acquire()
        except TimeoutError:
            raise WriterBusy("BEGIN IMMEDIATE", None, TimeoutError("database is busy")) from None
        try:
            async with self.write_sessions() as session:
                yield session
        finally:
            self.write_lock.release()

    @property
    def writer_class(self) -> type[Session]:
        """The class of this database's write sessions, for session events that concern its
        writers alone (not every session of the process: tests run several hubs)."""
        found: type[Session] = self.write_sessions.kw["sync_session_class"]
        return found

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    async def dispose(self) -> None:
        for engine in self.engines:
            await engine.dispose()


def _sqlite_engine(url: str, *, immediate: bool, echo: bool, synchronous: str) -> AsyncEngine:
    database = make_url(url).database or ":memory:"
    engine = create_async_engine(url, echo=echo, async_creator=inline_sqlite.creator(database))

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: WAL is synced at every commit, so an acknowledged message survives power loss;
        # group commit (hub/inbound/ingest.py) pays that once per batch, not per message.
        cursor.execute(f"PRAGMA synchronous={SYNCHRONOUS[synchronous]}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def forget_search_index_statistics(path: str) -> None:
    """Drop planner statistics on the search index's shadow tables (``*_fts_data`` and the
    like) before the hub's connections load the schema. The hub never runs ``ANALYZE`` on
    SQLite, but an operator's ``ANALYZE`` on a young store records those tables as nearly
    empty; SQLite then deletes each index segment a merge replaced by
    scanning the whole index table, a stall that grows with the history (50 ms every 16
    messages at a million, docs/performance.md, fourteenth round). FTS5 reads those tables by
    key only, so no statistics there beat stale ones. A connection keeps the statistics it
    loaded, hence a connection of its own, closed before the engines open theirs."""
    if not Path(path).exists():
        return
    try:
        connection = sqlite3.connect(path, timeout=WRITE_LOCK_TIMEOUT, isolation_level=None)
        try:
            found = connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'"
            ).fetchone()
            if found:
                connection.execute(_FORGET)
        finally:
            connection.close()
    except sqlite3.Error as exc:  # a read-only or damaged file: the hub's own use will say so
        log.warning("could not check the search index's planner statistics in %s: %s", path, exc)


# The statistics of the FTS5 indexes' shadow tables (messages_fts_data, customers_fts_idx, ...).
_FORGET = "DELETE FROM sqlite_stat1 WHERE tbl GLOB '*_fts_*'"


def unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached (down, restarting, connection
    cut), as opposed to a problem with what was asked of it: the work may be tried again as
    it was once the database is back."""
    if isinstance(exc, OSError | ConnectionError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc.orig, OSError):
            return True
        text = str(exc.orig).lower()
        return any(sign in text for sign in _UNREACHABLE)
    return False


# What asyncpg and PostgreSQL say while the server stops, starts or has gone away.
_UNREACHABLE = (
    "connection was closed",
    "connection is closed",
    "shutting down",
    "starting up",
    "terminating connection",
    "connection refused",
    "connect call failed",
)


def ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


SYNCHRONOUS = {"full": "FULL", "normal": "NORMAL"}


def open_database(url: str, *, echo: bool = False, synchronous: str = "full") -> Database:
    """The hub's database; on SQLite ``synchronous`` is ``full`` (acknowledged = on disk) or
    ``normal``."""
    if synchronous not in SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {', '.join(SYNCHRONOUS)}")
    if url.startswith("sqlite"):
        ensure_sqlite_dir(url)
        database = make_url(url).database
        if database not in (None, "", ":memory:"):
            forget_search_index_statistics(database)
        writer = _sqlite_engine(url, immediate=True, echo=echo, synchronous=synchronous)
        reader = _sqlite_engine(url, immediate=False, echo=echo, synchronous=synchronous)
        engines: tuple[AsyncEngine, ...] = (writer, reader)
    else:
        # pre_ping: a pooled connection that died (PostgreSQL restarted) is replaced when it is
        # checked out, instead of failing the request that drew it.
        writer = reader = create_async_engine(
            url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True
        )
        engines = (writer,)
    return Database(
        url=url,
        write_sessions=async_sessionmaker(
            writer, expire_on_commit=False, sync_session_class=type("WriterSession", (Session,), {})
        ),
        reader=async_sessionmaker(reader, expire_on_commit=False),
        engines=engines,
        write_lock=asyncio.Lock() if url.startswith("sqlite") else None,
    )
