"""Rate limits hold across hub processes: two processes on one database (SQLite or PostgreSQL)
allow together what one would, because every hit is counted in the database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hub.platform.database import open_database
from hub.web.ratelimit import RateLimiter
from tests.support.desk import MakeDesk
from tests.support.forms import submit

GOOD = {
    "name": "Jane Cooper",
    "email": "jane.cooper@example.com",
    "subject": "Printer on fire",
    "message": "My printer is on fire.",
}
START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


async def test_a_form_limit_counts_posts_to_every_process(make_desk: MakeDesk) -> None:
    first = await make_desk(**{"web.form_rate_per_minute": 3})
    second = await make_desk(**{"web.form_rate_per_minute": 3})
    statuses = []
    for number, desk in enumerate((first, second, first, second, first)):
        status, _ = await submit(desk.client, {**GOOD, "message": f"message {number}"})
        statuses.append(status)
    assert statuses == [200, 200, 200, 429, 429]


async def test_two_processes_hitting_at_once_never_pass_the_limit(database_url: str) -> None:
    limiter = RateLimiter("widget-visitor:chat", 5)
    processes = [open_database(database_url), open_database(database_url)]
    try:
        waits = await asyncio.gather(
            *(limiter.check(processes[n % 2], "visitor-1", START) for n in range(20))
        )
    finally:
        for db in processes:
            await db.dispose()
    assert sorted(waits).count(0) == 5
    assert set(waits) - {0} == {60}


async def test_a_window_ends_and_its_wait_counts_down(database_url: str) -> None:
    limiter = RateLimiter("form", 2, window_seconds=60)
    db = open_database(database_url)
    try:
        assert await limiter.check(db, "contact:192.0.2.1", START) == 0
        assert await limiter.check(db, "contact:192.0.2.1", START + timedelta(seconds=10)) == 0
        assert await limiter.check(db, "contact:192.0.2.1", START + timedelta(seconds=15)) == 45
        assert await limiter.check(db, "contact:192.0.2.2", START + timedelta(seconds=15)) == 0
        assert await limiter.check(db, "contact:192.0.2.1", START + timedelta(seconds=59)) == 1
        assert await limiter.check(db, "contact:192.0.2.1", START + timedelta(seconds=60)) == 0
    finally:
        await db.dispose()
