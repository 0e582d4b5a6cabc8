"""Engines and session factories. SQLite gets WAL, a busy timeout and ``BEGIN IMMEDIATE`` for
writers (so a read that turns into a write never fails on a stale snapshot)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


@dataclass(frozen=True, slots=True)
class Database:
    url: str
    writer: async_sessionmaker[AsyncSession]
    reader: async_sessionmaker[AsyncSession]
    engines: tuple[AsyncEngine, ...]

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    async def dispose(self) -> None:
        for engine in self.engines:
            await engine.dispose()


def _sqlite_engine(url: str, *, immediate: bool, echo: bool) -> AsyncEngine:
    engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite") and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def open_database(url: str, *, echo: bool = False) -> Database:
    if url.startswith("sqlite"):
        ensure_sqlite_dir(url)
        writer = _sqlite_engine(url, immediate=True, echo=echo)
        reader = _sqlite_engine(url, immediate=False, echo=echo)
        engines: tuple[AsyncEngine, ...] = (writer, reader)
    else:
        writer = reader = create_async_engine(url, echo=echo, pool_size=10, max_overflow=10)
        engines = (writer,)
    return Database(
        url=url,
        writer=async_sessionmaker(writer, expire_on_commit=False),
        reader=async_sessionmaker(reader, expire_on_commit=False),
        engines=engines,
    )
