"""A supervisor's years of notices: the navigation's unread count (on every signed-in page)
comes from what is unread, through an index of the unread notices, not from every notice they
ever read. Notices read before the upgrade that brought that index stay read after it, for
the addressee of a notice of their own and for each admin reading a notice for every admin."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import select, text

from hub.core.authz import Principal
from hub.core.notice_inbox import mark_read, notices_of, unread_count, unread_count_of_agent
from hub.db.models import Agent, Role
from hub.platform.database import open_database
from hub.platform.migrate import alembic_config, upgrade_async

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
AGENTS = (
    "INSERT INTO agents (id, email, name, role, password_hash, capacity, open_count, presence,"
    " skills, active, created_at) VALUES (?, ?, ?, ?, 'x', 10, 0, 'offline', '[]', 1, ?)"
)


def seed_before_the_upgrade(path: Path) -> None:
    """Sue (supervisor) has three SLA notices, the first read; Ada (admin) read the one
    notice for every admin, Al (admin) did not."""
    with sqlite3.connect(path) as db:
        stamp = NOW.isoformat()
        for agent_id, name, role in (
            (1, "sue", "supervisor"),
            (2, "ada", "admin"),
            (3, "al", "admin"),
        ):
            db.execute(AGENTS, (agent_id, f"{name}@example.com", name.title(), role, stamp))
        notices = [
            (10, 1, "Due soon"),
            (11, 1, "Breached"),
            (12, 1, "Due soon"),
            (13, None, "A template failed"),
        ]
        db.executemany(
            "INSERT INTO admin_notices (id, agent_id, kind, text, created_at)"
            " VALUES (?, ?, 'sla_warning', ?, ?)",
            [(*notice, stamp) for notice in notices],
        )
        db.executemany(
            "INSERT INTO notice_reads (notice_id, agent_id, read_at) VALUES (?, ?, ?)",
            [(10, 1, stamp), (13, 2, stamp)],
        )


async def test_notices_read_before_the_upgrade_stay_read_and_the_count_reads_only_the_unread(
    tmp_path: Path,
) -> None:
    path = tmp_path / "desk.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade_async(url)
    # The store as it was (Alembic's env runs its own event loop: in a thread).
    await asyncio.to_thread(command.downgrade, alembic_config(url), "0039_notice_reads")
    seed_before_the_upgrade(path)
    await upgrade_async(url)

    sue = Principal(1, Role.SUPERVISOR, frozenset())
    ada, al = Principal(2, Role.ADMIN, frozenset()), Principal(3, Role.ADMIN, frozenset())
    database = open_database(url)
    try:
        async with database.reader() as session:
            assert await unread_count(session, sue) == 2
            assert await unread_count(session, ada) == 0
            assert await unread_count(session, al) == 1
            unread = await notices_of(session, sue, unread_only=True)
            assert [n.id for n in unread] == [12, 11]
            # The navigation's count asks the index of unread notices, not Sue's history.
            count = select(unread_count_of_agent()).where(Agent.id == 1)
            sql = count.compile(
                database.engines[0].sync_engine, compile_kwargs={"literal_binds": True}
            )
            plan = await session.execute(text(f"EXPLAIN QUERY PLAN {sql}"))
            assert "ix_admin_notices_unread" in " ".join(str(row[-1]) for row in plan)

        async with database.writer() as session:
            assert await mark_read(session, sue, [12], NOW) == 1
            assert await mark_read(session, al, None, NOW) == 1
            await session.commit()
        async with database.reader() as session:
            assert await unread_count(session, sue) == 1
            assert await unread_count(session, al) == 0
            assert [n.id for n in await notices_of(session, sue, unread_only=True)] == [11]
            read = {n.id: n.read_at for n in await notices_of(session, sue)}
            assert read[12] == NOW and read[11] is None
    finally:
        await database.dispose()
