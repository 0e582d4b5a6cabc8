"""Benchmark (not a test): what outgoing webhooks cost the hub, in load-independent measures.

    .venv/bin/python -m bench.webhooks [--messages 200] [--database-url URL]

(A PostgreSQL database given is emptied first.)

N customers write on the API channel (each a new conversation: created, assigned or not,
message, acknowledgement), with 0, 1 and 3 subscriptions to every event. Then the webhook
worker's fan-out (the event log read into deliveries) and its sends (signed POSTs to a local
receiver answering 200) are measured apart: SQL statements (SQLAlchemy ``before_cursor_execute``)
and CPU time of this process (which also runs the receiver). Last, an idle pass (nothing new,
the poll every ``poll_seconds``): its statements.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import event, func, select, text

from channels.base import IdentityKind, InboundMessage, Party
from channels.memory.adapter import MemoryChannel
from hub.assembly import assemble
from hub.config.settings import load_settings
from hub.db.tables import metadata
from hub.db.webhook_models import WebhookDelivery
from hub.integrations import subscriptions
from hub.integrations.catalog import EVENTS
from hub.platform.clock import SystemClock

ROOT = Path(__file__).resolve().parent.parent


class Counter:
    def __init__(self) -> None:
        self.statements = 0

    def __call__(self, *args: Any) -> None:
        self.statements += 1


async def empty_postgres(url: str) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    tables = ", ".join(table.name for table in metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()


async def one_run(url: str, messages: int, subscribed: int, receiver_url: str) -> dict[str, Any]:
    settings = load_settings(
        ROOT / "config" / "relaydesk.toml",
        environ={},
        overrides={
            "database.url": url,
            "database.auto_migrate": True,
            "capture.enabled": False,
            "channels.mail.inbound_smtp": "127.0.0.1:0",
        },
    )
    if not url.startswith("sqlite"):
        await empty_postgres(url)
    channels = {"api": MemoryChannel("api")}
    async with assemble(
        settings, clock=SystemClock(), channels=channels, start_workers=False
    ) as hub:
        async with hub.db.writer() as session:
            for n in range(subscribed):
                await subscriptions.create(
                    session, None, f"sub-{n}", receiver_url, list(EVENTS), hub.clock.now()
                )
            await session.commit()
        for n in range(messages):
            await hub.ingestor.submit(
                InboundMessage(
                    channel="api",
                    external_id=f"bench-{n}",
                    sender=Party(IdentityKind.EMAIL, f"c{n}@example.com", f"Customer {n}"),
                    text=f"Hello, order {n} is late",
                    received_at=datetime.now(UTC),
                )
            )
        counter = Counter()
        engines = list({id(e.sync_engine): e.sync_engine for e in hub.db.engines}.values())
        for engine in engines:
            event.listen(engine, "before_cursor_execute", counter)
        cpu = time.process_time()
        await hub.webhooks.fan_out_once()
        fan_statements, fan_cpu = counter.statements, time.process_time() - cpu
        counter.statements, cpu = 0, time.process_time()
        await hub.webhooks.queue.drain(hub.webhooks.sender)
        send_statements, send_cpu = counter.statements, time.process_time() - cpu
        counter.statements = 0
        await hub.webhooks.run_once()
        idle = counter.statements
        for engine in engines:
            event.remove(engine, "before_cursor_execute", counter)
        async with hub.db.reader() as session:
            delivered = await session.scalar(
                select(func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.state == "delivered")
            )
    return {
        "subscribed": subscribed,
        "deliveries": int(delivered or 0),
        "fan_statements": fan_statements,
        "fan_cpu": fan_cpu,
        "send_statements": send_statements,
        "send_cpu": send_cpu,
        "idle": idle,
    }


async def run(url: str | None, messages: int) -> None:
    received = 0

    async def hooks(request: web.Request) -> web.Response:
        nonlocal received
        await request.read()
        received += 1
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/hooks", hooks)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    rows = []
    try:
        for subscribed in (0, 1, 3):
            with tempfile.TemporaryDirectory() as folder:
                target = url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
                rows.append(
                    await one_run(target, messages, subscribed, str(server.make_url("/hooks")))
                )
    finally:
        await server.close()
    print(f"{messages} new conversations; receiver got {received} requests")
    print(
        f"{'subs':>4} {'deliveries':>10} {'fan-out SQL':>11} {'per delivery':>12} "
        f"{'fan-out CPU ms/dlv':>18} {'send SQL/dlv':>12} {'send CPU ms/dlv':>15} {'idle SQL':>8}"
    )
    for row in rows:
        per = max(row["deliveries"], 1)
        print(
            f"{row['subscribed']:>4} {row['deliveries']:>10} {row['fan_statements']:>11} "
            f"{row['fan_statements'] / per:>12.2f} {row['fan_cpu'] * 1000 / per:>18.2f} "
            f"{row['send_statements'] / per:>12.2f} {row['send_cpu'] * 1000 / per:>15.2f} "
            f"{row['idle']:>8}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(run(args.database_url, args.messages))


if __name__ == "__main__":
    main()
