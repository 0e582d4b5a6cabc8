"""SLA sweep benchmark (not a test): what one pass of the SLA monitor costs when many
conversations reach their warning, then their breach, at the same moment (a morning backlog,
or an outage that brought hundreds of urgent conversations at once). The pass runs in the
writer: on SQLite every ingest waits for it.

    .venv/bin/python -m bench.sla [--conversations 500] [--database-url URL] [--statements]
        (an empty PostgreSQL database: its public schema is dropped and recreated first)

Seeds its own conversations through the hub's ingest (an SLA policy with a 60-minute first
response target and a warning 15 minutes before), moves a manual clock past the warnings and
then past the breaches, and times each pass of the monitor (the events it recorded) and the
job runner's passes that deliver their notices (a supervisor's notice each): wall time, CPU
and statements. Prints one table.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select

from bench.ingest import reset_postgres
from channels.base import IdentityKind, InboundMessage, Party
from hub.assembly import assemble
from hub.config.settings import load_settings
from hub.db.models import Agent, Presence, Role
from hub.db.routing_models import AdminNotice, SlaEvent
from hub.inbound.ingest import Ingestor
from hub.platform.clock import ManualClock

ROOT = Path(__file__).resolve().parent.parent
POLICY = {
    "name": "bench",
    "first_response_minutes": 60,
    "resolution_minutes": 600,
    "warn_before_minutes": 15,
}


def message(number: int, now: datetime) -> InboundMessage:
    address = f"customer{number}@example.com"
    return InboundMessage(
        channel="api",
        external_id=f"sla-{number}",
        sender=Party(IdentityKind.EMAIL, address, f"Customer {number}"),
        text="Hello, my order has not arrived yet.",
        received_at=now,
        raw={"external_id": f"sla-{number}"},
    )


async def run(url: str, conversations: int, show: bool) -> list[tuple[str, int, float, float, int]]:
    settings = load_settings(
        ROOT / "config" / "relaydesk.toml",
        environ={},
        overrides={
            "database.url": url,
            "database.auto_migrate": True,
            "sla_policies": [POLICY],
        },
    )
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    clock = ManualClock(start)
    rows: list[tuple[str, int, float, float, int]] = []
    async with assemble(settings, clock=clock, start_workers=False) as hub:
        assert hub.routing is not None
        ingestor = Ingestor(hub.db, hub.ingestor.pipeline, settings.ingest.batch_size, None)
        async with hub.db.writer() as session:  # told of every warning and breach
            session.add(
                Agent(
                    email="lead@example.com",
                    name="Lead",
                    role=Role.SUPERVISOR,
                    capacity=0,
                    presence=Presence.ONLINE,
                    skills=[],
                    created_at=start,
                )
            )
            await session.commit()
        for offset in range(0, conversations, 50):
            count = min(50, conversations - offset)
            await ingestor.process([message(offset + n, start) for n in range(count)])
        monitor = hub.routing.monitor
        statements: list[str] = []

        def hear(*args: Any) -> None:
            statements.append(args[2])

        engines = [engine.sync_engine for engine in hub.db.engines]
        jobs = hub.routing.jobs

        async def sweep() -> None:
            async with hub.db.writer() as session:
                await monitor.sla(session, clock.now())
                await session.commit()

        async def deliver() -> None:
            while await jobs.run_once():
                pass

        async def count(model: type) -> int:
            async with hub.db.reader() as session:
                return await session.scalar(select(func.count()).select_from(model)) or 0

        async def measure(label: str, action: Callable[[], Awaitable[None]], model: type) -> None:
            before = await count(model)
            statements.clear()
            for engine in engines:
                event.listen(engine, "before_cursor_execute", hear)
            cpu, wall = time.process_time(), time.perf_counter()
            await action()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            for engine in engines:
                event.remove(engine, "before_cursor_execute", hear)
            done = await count(model) - before
            rows.append((label, done, wall * 1000, cpu * 1000, len(statements)))
            if show:
                heard = Counter(statement.split("\n")[0][:90] for statement in statements)
                for statement, times in heard.most_common(8):
                    print(f"  {label}: {times} x {statement}")

        await deliver()  # what ingest queued (acknowledgements' jobs, if any)
        for label, minutes in (("warning", 50), ("breach", 61)):
            clock.current = start + timedelta(minutes=minutes)
            await measure(label, sweep, SlaEvent)
            await measure("  notices", deliver, AdminNotice)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--statements", action="store_true", help="the passes' commonest ones")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        if url.startswith("postgresql"):
            url = reset_postgres(url)
        rows = asyncio.run(run(url, args.conversations, args.statements))
    store = url.split(":")[0].split("+")[0]
    print(f"{args.conversations} open conversations due at once, {store}")
    print(f"{'pass':<9}{'rows':>7}{'wall ms':>9}{'CPU ms':>8}{'stmts':>7}{'ms/row':>10}")
    for label, events, wall, cpu, statements in rows:
        per = f"{wall / events:10.2f}" if events else f"{'-':>10}"
        print(f"{label:<9}{events:>7}{wall:>9.0f}{cpu:>8.0f}{statements:>7}{per}")


if __name__ == "__main__":
    main()
