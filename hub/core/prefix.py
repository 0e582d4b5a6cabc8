"""Prefix matches as index ranges: ``column >= prefix AND column < successor(prefix)``.

A ``LIKE 'x%' ESCAPE`` pattern scans the table on SQLite (the escape clause disables its LIKE
optimisation) and, with a bound pattern, on PostgreSQL too; the range uses a plain B-tree index on
both stores. It matches exactly under binary ordering (SQLite's default, PostgreSQL's C and
C.UTF-8 collations)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, SQLColumnExpression, and_


def successor(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix`` (None: no bound)."""
    while prefix and ord(prefix[-1]) == 0x10FFFF:
        prefix = prefix[:-1]
    if not prefix:
        return None
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def starts_with(column: SQLColumnExpression[str], prefix: str) -> ColumnElement[bool]:
    """``column`` starts with ``prefix``, as a range an index serves."""
    upper = successor(prefix)
    if upper is None:
        return column >= prefix
    return and_(column >= prefix, column < upper)
