"""An operator ran ``ANALYZE`` on a new SQLite store. The statistics
it left say the search index's tables are nearly empty; with them SQLite deletes each index
segment a merge has replaced by scanning the whole index table, so every sixteenth message
stalls the writer longer as the history grows. The hub forgets those statistics (and only
those) each time it opens the file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from hub.platform.database import open_database
from hub.platform.migrate import upgrade_async

# The statement FTS5 runs for each index segment a merge has replaced.
SEGMENT_DELETE = "DELETE FROM messages_fts_data WHERE id >= 1 AND id <= 2"


def plan(connection: sqlite3.Connection) -> str:
    rows = connection.execute(f"EXPLAIN QUERY PLAN {SEGMENT_DELETE}").fetchall()
    return " ".join(row[-1] for row in rows)


async def test_an_operators_analyze_of_a_new_store_does_not_make_the_writer_scan_the_index(
    tmp_path: Path,
) -> None:
    path = tmp_path / "young.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    with sqlite3.connect(path) as operator:
        operator.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        operator.execute("CREATE INDEX ix_notes_body ON notes (body)")
        operator.executemany("INSERT INTO notes (body) VALUES (?)", [("a",), ("b",)])
        operator.execute("ANALYZE")
        # The trap is real: with these statistics SQLite plans a scan of the whole table.
        assert "SCAN messages_fts_data" in plan(operator)
        theirs = operator.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'notes'").fetchall()
    assert theirs

    database = open_database(url)
    try:
        async with database.writer() as session:
            rows = await session.execute(text(f"EXPLAIN QUERY PLAN {SEGMENT_DELETE}"))
            assert "SEARCH messages_fts_data USING INTEGER PRIMARY KEY" in " ".join(
                row[-1] for row in rows
            )
    finally:
        await database.dispose()

    with sqlite3.connect(path) as later:
        assert "SEARCH" in plan(later)
        left = {row[0] for row in later.execute("SELECT tbl FROM sqlite_stat1")}
        # The operator's own statistics on every other table are kept.
        assert later.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'notes'").fetchall() == (
            theirs
        )
    assert not {name for name in left if "_fts_" in name}


async def test_a_store_without_statistics_is_left_without_them(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    database = open_database(url)
    try:
        async with database.writer() as session:
            await session.execute(text("SELECT count(*) FROM messages"))
    finally:
        await database.dispose()
    with sqlite3.connect(path) as later:
        tables = {row[0] for row in later.execute("SELECT name FROM sqlite_master")}
    assert "sqlite_stat1" not in tables


async def test_a_file_that_is_not_a_database_is_left_to_the_hubs_own_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("this is not a database\n" * 200)
    database = open_database(f"sqlite+aiosqlite:///{path}")
    try:
        with pytest.raises(DatabaseError, match="not a database"):
            async with database.writer() as session:
                await session.execute(text("SELECT count(*) FROM messages"))
    finally:
        await database.dispose()
    assert "could not check the search index's planner statistics" in caplog.text
    assert path.read_text().startswith("this is not a database")
