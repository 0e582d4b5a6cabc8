"""Benchmark (not a test): the bot gateway's own overhead per bot round trip, with many
concurrent bot conversations against a local fake bot in another process.

    .venv/bin/python -m bench.bots [--conversations 1000] [--database-url URL]

(A PostgreSQL database given is emptied first.)

Each of N customers writes at once on the API channel; a registered webhook bot takes every
conversation. One round trip, from the customer's message stored (its ingest commit, which is
the pipeline's time, not the gateway's) -> the signed ``message.created`` event delivered to
the bot (a job on the job queue, after the pass's routing sweeps) -> its answer stored -> the
answer handed to the channel by the outbox. The gateway's overhead is that time minus the bot's
time as the gateway saw it (the HTTP request, from the delivery log). Prints p50/p95/max of the
overhead and of the whole round trip. Target: overhead p95 <= 20 ms.

Then, as wall-clock times are noisy on a shared machine, a load-independent figure: N customers
write while the job runner is stopped (their ingest is not the gateway's), then the runner is
started and the gateway alone works off the N round trips (the events ``conversation.opened``
and ``message.created``, the answers, their sending by the outbox): the process's CPU time and
the SQL statements it ran in that stretch, per round trip (the fake bot runs in another
process, so its time is not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import socket
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import event, select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.ext.asyncio import create_async_engine

from channels.base import DeliveryResult, OutboundMessage
from channels.memory.adapter import MemoryChannel
from hub.assembly import Hub, assemble
from hub.bots import registry
from hub.config.settings import Settings, load_settings
from hub.db.bots_models import BotDelivery
from hub.db.tables import metadata
from hub.platform.clock import SystemClock

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run_bot(port: int) -> None:
    async def events(request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("event") != "message.created":
            return web.json_response({})
        return web.json_response({"messages": [{"text": "echo: " + body["message"]["text"]}]})

    app = web.Application()
    app.router.add_post("/events", events)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


class TimedChannel(MemoryChannel):
    """Notes when each bot answer reaches the channel."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.answered: dict[int, float] = {}
        self.done = asyncio.Event()
        self.expected = 0

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        if message.text.startswith("echo:") and message.conversation_id is not None:
            self.answered[message.conversation_id] = time.time()
            if len(self.answered) >= self.expected:
                self.done.set()
        return DeliveryResult.sent(f"memory-{message.message_id}")


async def _empty(url: str) -> None:
    engine = create_async_engine(url)
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    except ProgrammingError:
        pass  # no tables yet: the hub creates them
    finally:
        await engine.dispose()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _settings(url: str, concurrency: int) -> Settings:
    return load_settings(
        ROOT / "config" / "relaydesk.toml",
        environ={},
        overrides={
            "database.url": url,
            "database.auto_migrate": True,
            "followups.rules": [],
            "sla_policies": [],
            "routing.rules": [],
            "capture.enabled": False,  # no SMTP capture port: other hubs may run alongside
            **({"jobs.concurrency": concurrency} if concurrency else {}),
        },
    )


async def _register(hub: Hub, bot_url: str) -> None:
    async with hub.db.writer() as session:
        fields = {
            **{"name": "bench", "kind": "webhook", "url": bot_url, "channels": ["api"]},
            **{"teams": [], "enabled": True, "timeout_ms": 10000, "max_errors": 3},
        }
        await registry.create(session, None, fields, datetime.now(UTC))
        await session.commit()


async def run(url: str, conversations: int, bot_url: str, concurrency: int) -> dict[str, Any]:
    """The round trips' wall-clock times, all customers writing at once."""
    if not url.startswith("sqlite"):  # the PostgreSQL database given is emptied first
        await _empty(url)
    settings = _settings(url, concurrency)
    channel = TimedChannel("api")
    channel.expected = conversations
    async with assemble(settings, clock=SystemClock(), channels={"api": channel}) as hub:
        await _register(hub, bot_url)
        started: dict[int, float] = {}

        async def customer(i: int) -> None:
            message = channel.message(f"question {i}", sender=f"c{i}@example.com")
            result = await hub.ingestor.submit(message)
            started[result.conversation_id] = time.time()  # stored and committed

        wall = time.perf_counter()
        await asyncio.gather(*(customer(i) for i in range(conversations)))
        await asyncio.wait_for(channel.done.wait(), timeout=600)
        wall = time.perf_counter() - wall
        async with hub.db.reader() as session:
            rows = await session.execute(
                select(BotDelivery.conversation_id, BotDelivery.bot_ms).where(
                    BotDelivery.event == "message.created", BotDelivery.outcome == "ok"
                )
            )
            bot_ms = {cid: ms or 0 for cid, ms in rows}
    trips = {cid: (channel.answered[cid] - at) * 1000 for cid, at in started.items()}
    overhead = [trips[cid] - bot_ms.get(cid, 0) for cid in trips]
    return {
        "conversations": conversations,
        "wall_s": round(wall, 2),
        "round_trip_ms": [round(percentile(list(trips.values()), q), 1) for q in (0.5, 0.95, 1)],
        "overhead_ms": [round(percentile(overhead, q), 1) for q in (0.5, 0.95, 1)],
        "bot_ms_p95": percentile([float(v) for v in bot_ms.values()], 0.95),
        "per_second": round(conversations / wall, 1),
    }


async def cost(url: str, conversations: int, bot_url: str, concurrency: int) -> dict[str, Any]:
    """CPU time and SQL statements of the gateway alone per round trip (see the top)."""
    if not url.startswith("sqlite"):
        await _empty(url)
    settings = _settings(url, concurrency)
    channel = TimedChannel("api")
    channel.expected = conversations
    statements = [0]

    def count(*_: Any) -> None:
        statements[0] += 1

    async with assemble(settings, clock=SystemClock(), channels={"api": channel}) as hub:
        await _register(hub, bot_url)
        runner = hub.routing.jobs.worker
        await runner.stop()
        await asyncio.gather(
            *(
                hub.ingestor.submit(channel.message(f"question {i}", sender=f"c{i}@example.com"))
                for i in range(conversations)
            )
        )
        await asyncio.sleep(0.5)  # the outbox and the live streams settle
        for engine in hub.db.engines:
            event.listen(engine.sync_engine, "before_cursor_execute", count)
        cpu = time.process_time()
        await runner.start()
        await asyncio.wait_for(channel.done.wait(), timeout=600)
        cpu = time.process_time() - cpu
        for engine in hub.db.engines:
            event.remove(engine.sync_engine, "before_cursor_execute", count)
    return {
        "cpu_ms": round(cpu * 1000 / conversations, 2),
        "statements": round(statements[0] / conversations, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="bot gateway overhead per round trip")
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--job-concurrency", type=int, default=0, help="[jobs] concurrency (0: the default)"
    )
    args = parser.parse_args()
    port = _free_port()
    bot = multiprocessing.Process(target=_run_bot, args=(port,), daemon=True)
    bot.start()
    time.sleep(1.0)
    try:
        with tempfile.TemporaryDirectory() as folder:
            url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
            bot_url = f"http://127.0.0.1:{port}/events"
            found = asyncio.run(run(url, args.conversations, bot_url, args.job_concurrency))
            if url.startswith("sqlite"):
                url = f"sqlite+aiosqlite:///{folder}/cost.db"
            found |= asyncio.run(cost(url, args.conversations, bot_url, args.job_concurrency))
    finally:
        bot.terminate()
    print(f"{found['conversations']} concurrent bot conversations, {found['wall_s']} s in all")
    print("round trip ms  p50/p95/max:", *found["round_trip_ms"])
    print("gateway overhead ms (excluding the bot's time) p50/p95/max:", *found["overhead_ms"])
    print("bot's own time as seen by the gateway, p95 ms:", found["bot_ms_p95"])
    print("round trips per second:", found["per_second"])
    print("gateway CPU ms per round trip (load-independent):", found["cpu_ms"])
    print("SQL statements per round trip:", found["statements"])


if __name__ == "__main__":
    main()
