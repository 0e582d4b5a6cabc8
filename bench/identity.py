"""Benchmark: the cost of a message from a new customer, and of a follow-up message, as the
customer and message tables grow (a script, not a test).

    .venv/bin/python -m bench.identity [--customers 0 100000 1000000] [--messages 60]
                                       [--workdir DIR]   (keeps the seeded databases for reuse)

For each size, a SQLite database is migrated and bulk-loaded by ``bench.directory``'s loader
(customers with email, phone and Telegram identities, a conversation for every other customer)
plus two messages per conversation (so 1,000,000 customers come with 1,000,000 messages), then
the hub is started in a process of its own on 127.0.0.1. One client sends, one at a time,
``--messages`` messages from new customers (names drawn from the same lists as the seeded ones,
so the duplicate-candidate search has work to do; every fourth with a mailbox name already
known at another domain) and then one follow-up from each. Prints wall time p50/p95 and the
hub process's CPU per message for each size, and the ratio to the empty database (target for
the new-customer message at 1M: <= 5 ms CPU, <= 20 ms wall, within 1.5x of the cost at 0).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import aiohttp  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bench.directory import FIRST, LAST, load, reuse  # noqa: E402
from bench.ingest import TOKEN, cpu_seconds, free_port, serve_hub, serve_sink, wait_up  # noqa: E402
from hub.platform.migrate import upgrade  # noqa: E402

MESSAGES_PER_CONVERSATION = 2


async def seed(url: str, customers: int) -> None:
    """Customers and identities (bench.directory), then messages into their conversations."""
    if await reuse(url) is not None:
        return
    if customers:
        await load(url, customers, seed=7)
    engine = create_async_engine(url)
    async with engine.begin() as db:
        for n in range(MESSAGES_PER_CONVERSATION):
            await db.execute(
                text(
                    "INSERT INTO messages (conversation_id, customer_id, direction, channel,"
                    " identity_id, subject, text, attachments, raw, automated, delivery_state,"
                    " created_at)"
                    " SELECT c.id, c.customer_id, :direction, 'mail',"
                    " (SELECT min(i.id) FROM identities i WHERE i.customer_id = c.customer_id),"
                    " 'Help', 'Where is my order?', '[]', '{}', :automated, 'none',"
                    " c.created_at FROM conversations c"
                ),
                {"direction": "inbound" if n == 0 else "outbound", "automated": n == 1},
            )
        # The loader numbers tickets itself: move the hub's counter past them.
        await db.execute(text("DELETE FROM counters WHERE name = 'ticket'"))
        await db.execute(
            text(
                "INSERT INTO counters (name, value)"
                " SELECT 'ticket', coalesce(max(number), 0) FROM tickets"
            )
        )
        # No ANALYZE: the hub never runs it on SQLite, so the planner here has no statistics,
        # as in production (docs/performance.md, thirteenth round: they slow the inbox pages).
    await engine.dispose()


async def send(url: str, bodies: list[dict[str, object]], pid: int | None) -> dict[str, float]:
    spent: list[float] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as http:
        before = cpu_seconds(pid)
        for body in bodies:
            started = time.perf_counter()
            async with http.post(url, json=body, headers=headers) as response:
                await response.read()
                if response.status != 201:
                    raise RuntimeError(f"{response.status}: {await response.text()}")
            spent.append((time.perf_counter() - started) * 1000)
        cpu = (cpu_seconds(pid) - before) * 1000 / len(bodies)
    spent.sort()
    return {
        "p50": statistics.median(spent),
        "p95": spent[int(len(spent) * 0.95) - 1],
        "cpu": cpu,
    }


def bodies(
    size: int, count: int, tag: str
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    rng = random.Random(size + 11)
    new, again = [], []
    for n in range(count):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        mailbox = f"c{rng.randrange(max(size, 1))}" if n % 4 == 0 else f"new{tag}{n}"
        sender = {"address": f"{mailbox}@elsewhere-{tag}.example", "name": name}
        new.append(
            {"external_id": f"{tag}-new-{n}", "from": sender, "text": "Hello, my order is late."}
        )
        again.append(
            {"external_id": f"{tag}-again-{n}", "from": sender, "text": "Any news on my order?"}
        )
    return new, again


def measure(size: int, workdir: Path, count: int) -> dict[str, dict[str, float]]:
    db_path = workdir / f"identity-{size}.db"
    url = f"sqlite+aiosqlite:///{db_path}"
    started = time.monotonic()
    upgrade(url)
    asyncio.run(seed(url, size))
    print(f"  {size:>9,} customers ready in {time.monotonic() - started:.0f} s", flush=True)
    port, smtp_port = free_port(), free_port()
    received = multiprocessing.Value("i", 0)
    sink = multiprocessing.Process(target=serve_sink, args=(smtp_port, received), daemon=True)
    sink.start()
    hub = multiprocessing.Process(
        target=serve_hub, args=(port, str(db_path), smtp_port), daemon=True
    )
    hub.start()
    endpoint = f"http://127.0.0.1:{port}/api/v1/inbound/api"
    try:
        asyncio.run(wait_up(endpoint))
        tag = f"{int(time.time())}"
        new, again = bodies(size, count, tag)
        warm, _ = bodies(size + 1, 5, tag + "w")
        asyncio.run(send(endpoint, warm, hub.pid))
        return {
            "new customer": asyncio.run(send(endpoint, new, hub.pid)),
            "follow-up": asyncio.run(send(endpoint, again, hub.pid)),
        }
    finally:
        for child in (hub, sink):
            child.terminate()
            child.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[0, 100_000, 1_000_000])
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="relaydesk-identity-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = {size: measure(size, workdir, args.messages) for size in args.customers}
    base = results[args.customers[0]]
    print(
        f"{'customers':>10} {'message':14} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms':>8} {'x base':>7}"
    )
    for size, figures in results.items():
        for kind, row in figures.items():
            ratio = row["p50"] / base[kind]["p50"] if base[kind]["p50"] else 0.0
            print(
                f"{size:>10,} {kind:14} {row['p50']:8.1f} {row['p95']:8.1f} {row['cpu']:8.2f}"
                f" {ratio:6.2f}x"
            )


if __name__ == "__main__":
    main()
