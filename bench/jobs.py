"""Job queue benchmark (not a test): claim + complete throughput for 100,000 due items, the
size of a campaign send, on the real queue (hub/platform/queue.py) over the jobs table.

    .venv/bin/python -m bench.jobs [--items 100000] [--batch 500] [--concurrency 1]
                                   [--database-url URL]

Every item is claimed with a lease and its outcome written in its own transaction as soon as
it is done, exactly as the outbox and the follow-ups run; the handler itself does nothing, so
the figure is the queue's own cost. Also shows that claiming uses the ``(state,
next_attempt_at)`` index (SQLite's query plan) and that the last batches claim as fast as the
first (no scan over finished rows).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.assembly import database
from hub.config.settings import load_settings
from hub.db.routing_models import Job
from hub.platform.clock import ManualClock
from hub.platform.database import Database
from hub.platform.queue import Claim, RetryPolicy, WorkQueue

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Nothing:
    """A handler whose work is free: what is measured is the queue."""

    async def prepare(self, claim: Claim) -> None:
        return None

    async def apply(self, session: AsyncSession, row: Job, _: None, now: datetime) -> str:
        row.finished_at = now
        return "done"

    async def failed(self, *_: object) -> None:
        return None


async def fill(queue: WorkQueue[Job], items: int) -> None:
    rows = [
        {
            "kind": "bench",
            "payload": {"n": n},
            "state": "pending",
            "next_attempt_at": START - timedelta(seconds=items - n),
            "attempts": 0,
            "created_at": START,
        }
        for n in range(items)
    ]
    async with queue.db.writer() as session:
        for start in range(0, items, 10_000):
            await session.execute(insert(Job), rows[start : start + 10_000])
        await session.commit()


async def plan(queue: WorkQueue[Job]) -> str:
    if not queue.db.is_sqlite:
        return "(query plan shown on SQLite only)"
    async with queue.db.reader() as session:
        found = await session.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT id FROM jobs WHERE state = 'pending' "
                "AND next_attempt_at <= :now AND (locked_until IS NULL OR locked_until < :now) "
                "ORDER BY next_attempt_at, id LIMIT 500"
            ),
            {"now": START.replace(tzinfo=None)},
        )
        return "; ".join(str(row[-1]) for row in found)


async def run(url: str, items: int, batch: int, concurrency: int) -> None:
    settings = load_settings(
        ROOT / "config" / "relaydesk.toml",
        environ={},
        overrides={"database.url": url, "database.auto_migrate": True, "capture.enabled": False},
    )
    async with database(settings) as db:
        await measure(db, items, batch, concurrency)


async def measure(db: Database, items: int, batch: int, concurrency: int) -> None:
    clock = ManualClock(START)
    queue = WorkQueue(
        db,
        Job,
        clock,
        RetryPolicy(5, 10, 3600),
        lease_seconds=120,
        batch_size=batch,
        concurrency=concurrency,
    )
    await fill(queue, items)
    print(f"claim query plan: {await plan(queue)}")
    handler = Nothing()
    claim_times: list[float] = []
    began = time.perf_counter()
    done = 0
    while True:
        t0 = time.perf_counter()
        claims = await queue.claim()
        claim_times.append(time.perf_counter() - t0)
        if not claims:
            break
        await queue.run_claims(handler, claims)
        done += len(claims)
    elapsed = time.perf_counter() - began
    async with db.reader() as session:
        finished = await session.scalar(
            select(func.count()).select_from(Job).where(Job.state == "done")
        )
    assert finished == items == done, (finished, done)
    first = sum(claim_times[:5]) / 5 * 1000
    last = sum(claim_times[-6:-1]) / 5 * 1000
    print(
        f"{items} items claimed and completed in {elapsed:.1f} s: "
        f"{items / elapsed:,.0f} items/s (batch {batch}, concurrency {concurrency}); "
        f"claiming a batch took {first:.1f} ms at the start, {last:.1f} ms at the end"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(run(url, args.items, args.batch, args.concurrency))


if __name__ == "__main__":
    main()
