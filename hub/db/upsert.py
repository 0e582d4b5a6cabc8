"""The store's own ``INSERT``, for the statements that need its ``ON CONFLICT`` clause: rows
that several writers may add at once (teams at start, read marks, throttles, counters, report
facts). SQLite and PostgreSQL spell it alike, but SQLAlchemy keeps one construct per dialect."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_insert(dialect: str, table: Any) -> Any:
    """``INSERT INTO table`` with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` for
    ``dialect`` (``"postgresql"``; anything else is SQLite)."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def insert_into(session: AsyncSession, table: Any) -> Any:
    """``dialect_insert`` for the store ``session`` is bound to."""
    return dialect_insert(session.get_bind().dialect.name, table)
