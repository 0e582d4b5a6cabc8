"""Benchmark: what PostgreSQL's GIN pending list costs the message that fills it (a script, not
a test; docs/performance.md, fourteenth round; migration 0044).

    .venv/bin/python -m bench.search_index_upkeep --database-url postgresql://postgres@127.0.0.1:5432/NAME
        [--messages 1000000] [--inserts 30000] [--rounds 2]

In the given (scratch) database, creates ``bench_search_messages`` with the ``search_vector``
column and GIN index migration 0041 gives ``messages`` (dropped first if there), loads
``--messages`` rows of 8-30 words drawn from a 20,000-word vocabulary with a Zipf-like
frequency, then inserts ``--inserts`` messages one per transaction, first with the index's
``fastupdate`` on (PostgreSQL's default), then off (migration 0044), ``--rounds`` times. Prints
each run's mean, p99 and worst insert and how many took over 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time

import asyncpg
from rich.progress import Progress

TABLE = "bench_search_messages"
DOCUMENT = "coalesce(subject, '') || ' ' || coalesce(text, '')"  # as migration 0041
VOCABULARY = [f"w{n}" for n in range(20_000)]
WEIGHTS = [1 / (n + 1) for n in range(20_000)]
CHUNK = 20_000


def texts(rng: random.Random, count: int) -> list[str]:
    return [" ".join(rng.choices(VOCABULARY, WEIGHTS, k=rng.randint(8, 30))) for _ in range(count)]


async def seed(connection: asyncpg.Connection, messages: int, rng: random.Random) -> None:
    await connection.execute(f"DROP TABLE IF EXISTS {TABLE}")
    await connection.execute(
        f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, subject text, text text,"
        f" search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', {DOCUMENT})) STORED)"
    )
    pool = texts(rng, 50_000)  # drawn once, reused: the words' frequencies are what matter
    with Progress() as progress:
        task = progress.add_task("messages", total=messages)
        for start in range(0, messages, CHUNK):
            count = min(CHUNK, messages - start)
            rows = [("", rng.choice(pool)) for _ in range(count)]
            await connection.copy_records_to_table(TABLE, records=rows, columns=["subject", "text"])
            progress.advance(task, count)
    await connection.execute(f"CREATE INDEX {TABLE}_search ON {TABLE} USING gin (search_vector)")
    await connection.execute(f"VACUUM ANALYZE {TABLE}")


async def insert_one_by_one(
    connection: asyncpg.Connection, fastupdate: bool, bodies: list[str]
) -> dict[str, float]:
    await connection.execute(
        f"ALTER INDEX {TABLE}_search SET (fastupdate = {'on' if fastupdate else 'off'})"
    )
    await connection.execute(f"SELECT gin_clean_pending_list('{TABLE}_search'::regclass)")
    statement = await connection.prepare(f"INSERT INTO {TABLE} (subject, text) VALUES ('', $1)")
    spent = []
    for body in bodies:
        started = time.perf_counter()
        await statement.fetch(body)
        spent.append((time.perf_counter() - started) * 1000)
    spent.sort()
    return {
        "mean": sum(spent) / len(spent),
        "p99": spent[int(len(spent) * 0.99) - 1],
        "max": spent[-1],
        "over50": float(sum(1 for value in spent if value > 50)),
    }


async def run(url: str, messages: int, inserts: int, rounds: int) -> None:
    rng = random.Random(3)
    connection = await asyncpg.connect(url)
    try:
        await seed(connection, messages, rng)
        print(f"{'fastupdate':11} {'mean ms':>8} {'p99 ms':>8} {'max ms':>8} {'> 50 ms':>8}")
        for _ in range(rounds):
            for fastupdate in (True, False):
                row = await insert_one_by_one(connection, fastupdate, texts(rng, inserts))
                print(
                    f"{'on' if fastupdate else 'off':11} {row['mean']:8.2f} {row['p99']:8.2f}"
                    f" {row['max']:8.1f} {int(row['over50']):8d}",
                    flush=True,
                )
        await connection.execute(f"DROP TABLE {TABLE}")
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a scratch PostgreSQL database")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--inserts", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    url = args.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    asyncio.run(run(url, args.messages, args.inserts, args.rounds))


if __name__ == "__main__":
    main()
