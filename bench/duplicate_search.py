"""Benchmark: CPU of a new customer's duplicate-candidate search alone, in this process (a
script, not a test), against a database seeded by ``bench.identity --workdir DIR``.

    .venv/bin/python -m bench.duplicate_search DIR/identity-100000.db [--searches 300]

Each search is for an unflushed new customer (as ingest runs it) with a name drawn from the
seeded lists and, every fourth, a mailbox name already known at another domain; the
candidates are not written (the transaction is rolled back). Prints the process CPU per
search (SQLite runs in this process) and how many candidates were found in all.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine  # noqa: E402

from bench.directory import FIRST, LAST  # noqa: E402
from hub.core.customers import name_key, record_duplicate_candidates  # noqa: E402
from hub.db.models import Customer, Identity  # noqa: E402


async def measure(path: Path, searches: int) -> tuple[float, int]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    rng = random.Random(5)
    now = datetime.now(UTC)
    spent, found = 0.0, 0
    async with AsyncSession(engine) as session, session.begin():
        for warm in (True, False):  # the first round fills the caches
            started = time.process_time()
            for n in range(searches):
                name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
                mailbox = f"c{rng.randrange(100_000)}" if n % 4 == 0 else f"new{n}"
                customer = Customer(name=name, name_key=name_key(name))
                identity = Identity(kind="email", address=f"{mailbox}@elsewhere.example")
                with session.no_autoflush:
                    got = await record_duplicate_candidates(session, customer, identity, 85.0, now)
                for candidate in got:
                    session.expunge(candidate)
                found += 0 if warm else len(got)
            spent = (time.process_time() - started) * 1000 / searches
        await session.rollback()
    await engine.dispose()
    return spent, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "database", type=Path, help="a database seeded by bench.identity --workdir DIR"
    )
    parser.add_argument("--searches", type=int, default=300)
    args = parser.parse_args()
    spent, found = asyncio.run(measure(args.database, args.searches))
    print(f"{spent:.2f} ms CPU per search, {found} candidates in {args.searches} searches")


if __name__ == "__main__":
    main()
